"""Typed clients for the services an agenda is built from: :mod:`.risk_client` and
:mod:`.referral_client`, each behind a Protocol (models in, models out), over the
paging and error handling of :mod:`.paging`."""
