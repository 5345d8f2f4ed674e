"""Oversight: alerts (预警) for regulators and operators, notices, monitoring."""
