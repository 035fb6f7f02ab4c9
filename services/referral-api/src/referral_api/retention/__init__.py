"""Information governance: legal holds, the retention schedule in force, and disposal of
what is past retention and not held."""
