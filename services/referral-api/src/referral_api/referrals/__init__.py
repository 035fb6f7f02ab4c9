"""Referrals from partner agencies' systems."""
