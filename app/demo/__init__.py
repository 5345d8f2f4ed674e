"""Deterministic demo data: organizations, users, categories with registries, products, offers, plans."""
