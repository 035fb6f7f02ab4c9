"""Support for a child: what the partnership offers once a case is known, who provides it,
how long the child waited, the contacts made and how it ended (issue 15)."""
