"""Third-party information from professionals without case access (voluntary and
faith sector): accepted, matched to a child when one matches, read by the hub only."""
