"""Disposal of a child's risk record when the referral service disposes of the child
(``child.disposed``): what the risk figures read is kept apart as de-identified facts, the
rest goes, and a disposal record says what went, under which rule and when."""
