"""Referral figures for dashboards and scrutiny committees, with disclosure control."""
