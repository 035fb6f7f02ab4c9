"""Calendar subscriptions: revocable, unguessable feed addresses a calendar app reads without a token."""
