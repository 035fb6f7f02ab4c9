"""Break-glass grants the referral service gave, kept here so the one person a grant is for
may read the child's risk too (announced by the ``access.break_glass`` event)."""
