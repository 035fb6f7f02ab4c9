"""Partner webhooks: an agency's admin registers an endpoint for the events its systems
want, sees the history of deliveries to it, and asks for one to be sent again.

An endpoint belongs to the admin's own agency (taken from the token, never from the
body), hears only of children that agency may see (the service's access rules, asked
when each event is written), and gets ids and types, never names. Deliveries are
signed with the endpoint's own secret, shown once when the endpoint is created.
The URL must be https to a public address (no loopback, private or metadata ranges),
checked at registration and again before every delivery.

The tables are the outbox's (:class:`safeguarding_kit.events.EventTables`); the rules are
in :mod:`.service`, the bodies in :mod:`.schemas`, the endpoints in :mod:`.routes`; what a
service publishes in :mod:`.published`, the spec's ``webhooks`` describing each delivery
in :mod:`.spec`, and a delivery checked against them in :mod:`.contract`.
"""
