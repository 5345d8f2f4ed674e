"""Outbound webhooks to finance systems (Standard Webhooks): an outbox of events written in the
same transaction as the change they describe, delivered after commit."""
