"""Risk service of the safeguarding platform."""
