"""Mechanisms shared by every process of the safeguarding platform.

Nothing here knows a domain rule: it holds settings, the database session, token
verification, problem+json errors, pagination, health/metrics and request ids.
"""
