"""Meetings service of the safeguarding platform."""
