"""Information governance in the meetings service: what a meeting recorded about a child
goes with the child's record (``child.disposed``), a meeting's own minutes go when the
retention schedule says (unless held), and each disposal leaves a record of what went."""
