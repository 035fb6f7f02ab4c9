"""Meeting figures: actions done by their due date, per agency."""
