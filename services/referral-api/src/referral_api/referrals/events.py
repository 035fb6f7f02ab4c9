"""The events a referral's changes write: what the risk service and partners' webhooks
receive, ids and types only (never a name or the summary)."""

from __future__ import annotations

import uuid
from typing import ClassVar

from pydantic import ConfigDict, Field

from referral_api.referrals.models import ConcernType, ReferralStatus, Urgency
from safeguarding_kit.auth.principal import AgencyType
from safeguarding_kit.cloudevents import EventData


class ReferralReceived(EventData):
    """A referral about a child was received.

    The risk service opens a screening for the child; a partner hears of it when its agency
    may see the child. Ids and types only: read the referral itself for more."""

    event_type: ClassVar[str] = "referral.received"
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "referral_id": "9a3c2f1e-4b5d-4e6f-8a7b-1c2d3e4f5a6b",
                    "child_id": "7f1f4c8e-0f7e-4c38-9a0e-0b9f1f7f3a11",
                    "urgency": "urgent",
                    "concern_types": ["criminal_exploitation", "county_lines"],
                    "source_agency_type": "education",
                }
            ]
        }
    )

    referral_id: uuid.UUID = Field(description="The referral (`getReferral`).")
    child_id: uuid.UUID = Field(description="The child's opaque id.")
    urgency: Urgency
    concern_types: list[ConcernType] = Field(min_length=1)
    source_agency_type: AgencyType = Field(description="The type of agency that sent the referral.")

    def subject(self) -> str:
        return str(self.child_id)


class ReferralStatusChanged(EventData):
    """A referral moved on in its workflow (screening, a decision, closure).

    A partner hears of it when its agency may see the child."""

    event_type: ClassVar[str] = "referral.status_changed"
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "referral_id": "9a3c2f1e-4b5d-4e6f-8a7b-1c2d3e4f5a6b",
                    "child_id": "7f1f4c8e-0f7e-4c38-9a0e-0b9f1f7f3a11",
                    "from": "screening",
                    "to": "allocated",
                }
            ]
        }
    )

    referral_id: uuid.UUID = Field(description="The referral (`getReferral`).")
    child_id: uuid.UUID = Field(description="The child's opaque id.")
    from_status: ReferralStatus = Field(alias="from", description="The status before.")
    to_status: ReferralStatus = Field(alias="to", description="The status now.")

    def subject(self) -> str:
        return str(self.child_id)
