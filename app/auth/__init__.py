"""Organizations, people, their roles and sessions, and machine clients' API tokens."""
