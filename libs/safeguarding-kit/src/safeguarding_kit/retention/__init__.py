"""Information governance mechanisms every service shares: the retention schedule (as
configuration), the rules that say when a record falls due, and the disposal record."""
