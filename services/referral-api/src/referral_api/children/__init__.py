"""Children: the only records in the platform with names and identifiers."""
