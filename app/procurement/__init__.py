"""Procurement plans (采购计划) and their budget ledger."""
