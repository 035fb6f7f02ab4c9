"""Assessments of a child against a model version, the child's current risk and its history."""
