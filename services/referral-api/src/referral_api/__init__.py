"""Referral service of the safeguarding platform."""
