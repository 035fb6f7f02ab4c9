"""Who is calling: token verification, the typed principal, and role checks."""
