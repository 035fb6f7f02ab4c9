"""Meeting series: MACE, CETG, missing and mapping meetings with their recurrence."""
