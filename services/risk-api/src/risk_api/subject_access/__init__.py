"""A child's risk as their subject access request reads it: the one extract the referral
service assembles the child's package from."""
