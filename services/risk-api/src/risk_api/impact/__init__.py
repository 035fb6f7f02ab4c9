"""What a model change would do: every child's latest assessment re-scored under
another model version, in one set-based query, changing nothing."""
