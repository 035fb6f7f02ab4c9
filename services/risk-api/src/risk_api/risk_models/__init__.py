"""Risk models: versioned sets of weighted indicators."""
