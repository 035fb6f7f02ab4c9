"""Request and response bodies for a child's support."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, JsonValue

from referral_api.support.models import (
    KIND_MEANINGS,
    ContactSetting,
    EndReason,
    Engagement,
    RiskLevel,
    SupportKind,
)
from referral_api.support.rules import SupportStatus
from safeguarding_kit.db import UtcTimestamp

_CHILD = "7f1f4c8e-0f7e-4c38-9a0e-0b9f1f7f3a11"
_SUPPORT = "3c9e1d42-6b7a-4f08-9e15-2a4d6c8b0f17"

KIND_HELP = "What the support is: " + "; ".join(
    f"`{kind.value}`: {meaning}" for kind, meaning in KIND_MEANINGS.items()
)
SETTING_HELP = (
    "Where the contact took place, as a kind of place only (school, community venue, the child's "
    "home, a placement out of area, a secure unit, online, other): never an address."
)

SUPPORT_EXAMPLE: dict[str, JsonValue] = {
    "id": _SUPPORT,
    "child_id": _CHILD,
    "kind": "therapeutic_post_abuse_support",
    "provider": {"service": "post-abuse-support", "agency": "safe-space-sheffield"},
    "offered_by": "sheffield-social-care",
    "requested_at": "2026-10-01T09:30:00Z",
    "started_at": "2026-10-20T15:00:00Z",
    "waiting_days": 19,
    "ended_at": None,
    "end_reason": None,
    "status": "active",
    "risk_level_at_start": "high",
    "risk_level_at_end": None,
    "version": 2,
}


class SupportProvider(BaseModel):
    """Who provides the support: a service of the partnership agreement (`GET
    /api/v1/partnership`, `services`), its providing agency, or both; at least one."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={"examples": [{"service": "post-abuse-support", "agency": "safe-space-sheffield"}]},
    )

    service: str | None = Field(
        None,
        min_length=1,
        max_length=63,
        description="The slug of a service of the partnership agreement; its `provider_agency` "
        "provides it unless `agency` names another.",
        examples=["post-abuse-support"],
    )
    agency: str | None = Field(
        None,
        min_length=1,
        max_length=63,
        description="The agency of the partnership agreement that provides the support (for a "
        "service, the service's `provider_agency` by default; a service with a provider cannot be "
        "given to another agency).",
        examples=["safe-space-sheffield"],
    )


class SupportOffer(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "kind": "therapeutic_post_abuse_support",
                    "provider": {"service": "post-abuse-support"},
                    "requested_at": "2026-10-01T09:30:00Z",
                }
            ]
        },
    )

    kind: SupportKind = Field(description=KIND_HELP)
    provider: SupportProvider
    requested_at: UtcTimestamp | None = Field(
        None,
        description="When the support was requested or offered (e.g. at yesterday's MACE); now if left "
        "out. The waiting time counts from here.",
    )


class SupportStart(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"started_at": "2026-10-20T15:00:00Z"}]}
    )

    started_at: UtcTimestamp = Field(
        description="When the support started (the first session with the child): not before it was "
        "requested, not in the future."
    )


class SupportEnd(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"ended_at": "2027-03-12T16:00:00Z", "reason": "goals_met"}]},
    )

    ended_at: UtcTimestamp = Field(
        description="When the support ended: not before it started (or, if it never started, before "
        "it was requested), not in the future."
    )
    reason: EndReason = Field(
        description="Why it ended. `goals_met` and `disengaged` need the support to have started; an "
        "offer the child turned down ends as `child_declined`."
    )


class ContactCreate(BaseModel):
    """One contact with the child. There is no address field, and none is accepted."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"contacted_on": "2026-11-03", "setting": "secure_unit", "engagement": "engaged"}]
        },
    )

    contacted_on: date = Field(
        description="The day of the contact (in England): between the support's start and its end or today."
    )
    setting: ContactSetting = Field(description=SETTING_HELP)
    engagement: Engagement = Field(description="How the child engaged.")


class SupportRead(BaseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [SUPPORT_EXAMPLE]})

    id: uuid.UUID
    child_id: uuid.UUID
    kind: SupportKind
    provider: SupportProvider
    offered_by: str = Field(description="The agency that offered or requested the support.")
    requested_at: datetime
    started_at: datetime | None
    waiting_days: int | None = Field(
        description="Calendar days (in England) from the request to the start; null until it starts."
    )
    ended_at: datetime | None
    end_reason: EndReason | None
    status: SupportStatus = Field(description="offered (not yet started), active (started) or ended.")
    risk_level_at_start: RiskLevel | None = Field(
        description="The child's level at the latest risk assessment at or before the start, from the "
        "risk service's `risk.assessed` events (filled in when an assessment is heard of late); null "
        "when there was none."
    )
    risk_level_at_end: RiskLevel | None = Field(
        description="The level at the latest assessment at or before the end, as `risk_level_at_start`."
    )
    version: int = Field(
        validation_alias=AliasChoices("version", "row_version"),
        description="Also sent as the ETag; send it back in If-Match to record the start or the end.",
    )


class ContactRead(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
                    "support_id": _SUPPORT,
                    "contacted_on": "2026-11-03",
                    "setting": "secure_unit",
                    "engagement": "engaged",
                    "recorded_by": "safe-space-sheffield",
                    "recorded_at": "2026-11-03T17:12:00Z",
                }
            ]
        },
    )

    id: uuid.UUID
    support_id: uuid.UUID
    contacted_on: date
    setting: ContactSetting
    engagement: Engagement
    recorded_by: str = Field(description="The agency that recorded the contact.")
    recorded_at: datetime
