"""The audit trail every service keeps of each read and write of a child's record:
its tables (:mod:`.models`), the hash chain and the records (:mod:`.service`), and the
auditors' endpoints (:mod:`.routes`, bodies in :mod:`.schemas`)."""
