"""A child's chronology: one read, newest first, of what happened to the child across the
platform (referrals and their decisions, risk assessments and level changes, meetings'
decisions and actions, missing episodes and return-home interviews, support, and, for
intelligence readers, disruption), kept as a projection of the events the services
exchange, never asked of the other services at read time."""
