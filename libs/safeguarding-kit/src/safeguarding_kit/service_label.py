"""The paths and operation ids of what every service serves alike (partner webhooks,
audit chain verification), made from the service's label here and nowhere else: an
integrator finds the same operation of each service under one scheme
(``/api/v1/webhooks/risk-service/endpoints``, ``createRiskWebhookEndpoint``), and the
gateway routes by the same prefixes."""

from __future__ import annotations

import re
from dataclasses import dataclass

API_ROOT = "/api/v1"


@dataclass(frozen=True)
class ServiceLabel:
    """A service as its shared operations name it: ``name`` is one lower-case word
    (``referral``, ``risk``, ``meetings``)."""

    name: str

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[a-z]+", self.name):
            raise ValueError(f"a service label is one lower-case word, not {self.name!r}")

    @property
    def title(self) -> str:
        """The name as it appears inside operation ids and schema names: ``Risk``."""
        return self.name.capitalize()

    @property
    def webhooks_prefix(self) -> str:
        """Where the service's partner webhook endpoints live: ``/api/v1/webhooks/risk-service``."""
        return f"{API_ROOT}/webhooks/{self.name}-service"

    @property
    def audit_prefix(self) -> str:
        """Where the service's audit chain is verified: ``/api/v1/audit/risk-service``."""
        return f"{API_ROOT}/audit/{self.name}-service"

    def operation_id(self, verb: str, noun: str) -> str:
        """``verb`` + the title + ``noun``: ``operation_id("create", "WebhookEndpoint")`` is
        ``createRiskWebhookEndpoint``."""
        return f"{verb}{self.title}{noun}"


REFERRAL_SERVICE = ServiceLabel("referral")
RISK_SERVICE = ServiceLabel("risk")
MEETINGS_SERVICE = ServiceLabel("meetings")
