"""Persons and places of concern: intelligence for CETG and mapping meetings, read and
written by police and social care only."""
