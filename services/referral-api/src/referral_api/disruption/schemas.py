"""Request and response bodies for disruption actions, the vocabulary and their figures."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, JsonValue

from referral_api.disruption.models import DisruptionOutcome, OffenceGroup, TargetType
from referral_api.disruption.vocabulary import KIND_EXAMPLE, DisruptionKind
from safeguarding_kit.figures import FigureTable

PERSON_ID = "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a"
CHILD_ID = "5b0e8c3a-7f21-4d6e-a9b4-0c1d2e3f4a5b"
ACTION_EXAMPLE: dict[str, JsonValue] = {
    "kind": "child_abduction_warning_notice",
    "person_of_concern_id": PERSON_ID,
    "place_of_concern_id": None,
    "action_date": "2026-08-14",
    "outcome": "issued",
    "outcome_date": "2026-08-14",
    "offence_group": None,
    "reference": "SYP-CAWN-2026-0412",
    "other_text": None,
    "child_ids": [CHILD_ID],
}
KIND_HELP = (
    "The slug of a kind in the partnership's vocabulary (`GET /api/v1/disruption/kinds`): it says "
    "whether the kind applies to a person or a place, which outcomes it takes, and whether it needs "
    "`other_text` or takes an `offence_group`."
)
TEXT_HELP = (
    "What the action was, for a kind that asks for it (`other`) and no other; never a child's name "
    "(a name of a linked child is refused)."
)
REFERENCE_HELP = "The police or licensing reference (a crime, case or licence number), never a child's name."


class DisruptionActionCreate(BaseModel):
    """One action against a person of concern or a place of concern (exactly one)."""

    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, json_schema_extra={"examples": [ACTION_EXAMPLE]}
    )

    kind: str = Field(min_length=1, max_length=63, description=KIND_HELP)
    person_of_concern_id: uuid.UUID | None = Field(
        None, description="The person it is against (`createPersonOfConcern`); or give a place."
    )
    place_of_concern_id: uuid.UUID | None = Field(
        None, description="The place it is against (`createPlaceOfConcern`); or give a person."
    )
    action_date: date = Field(description="When it was done (a notice served, an arrest, an application).")
    outcome: DisruptionOutcome = Field(description="One of the outcomes the kind takes.")
    outcome_date: date | None = Field(
        None,
        description="When the outcome came (not before `action_date`). Without it, `action_date`; none "
        "while `pending`.",
    )
    offence_group: OffenceGroup | None = Field(
        None, description="For a charge or conviction (a kind that records one): the offence group."
    )
    reference: str | None = Field(None, min_length=1, max_length=100, description=REFERENCE_HELP)
    other_text: str | None = Field(None, min_length=3, max_length=500, description=TEXT_HELP)
    child_ids: list[uuid.UUID] = Field(
        default_factory=list,
        max_length=50,
        description="The children it protects, by id (each a child you can see: `registerChild`, a "
        "referral's `child_id`); never a name.",
    )


class DisruptionOutcomeUpdate(BaseModel):
    """A later outcome of the same action: pending -> granted or refused, issued -> withdrawn, a
    charge -> convicted. A conviction after a charge is recorded as a new action."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"outcome": "granted", "outcome_date": "2026-10-02"}]},
    )

    outcome: DisruptionOutcome = Field(description="One of the outcomes the action's kind takes.")
    outcome_date: date | None = Field(
        None,
        description="When the outcome came (not before the action, not in the future). Without it, today.",
    )


class DisruptionActionRead(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "3c2b1a09-8e7d-4c5b-a493-8271605f4e3d",
                    **ACTION_EXAMPLE,
                    "target_type": "person",
                    "recorded_by": "dc.4471@south-yorkshire-police",
                    "recorded_by_agency": "south-yorkshire-police",
                    "recorded_at": "2026-08-14T16:20:00Z",
                    "updated_at": None,
                    "version": 1,
                }
            ]
        },
    )

    id: uuid.UUID
    kind: str = Field(description="The kind's slug (`GET /api/v1/disruption/kinds` gives its label).")
    target_type: TargetType
    person_of_concern_id: uuid.UUID | None
    place_of_concern_id: uuid.UUID | None
    action_date: date
    outcome: DisruptionOutcome
    outcome_date: date | None
    offence_group: OffenceGroup | None
    reference: str | None
    other_text: str | None
    child_ids: list[uuid.UUID] = Field(default_factory=list, description="The children it protects, by id.")
    recorded_by: str
    recorded_by_agency: str
    recorded_at: datetime
    updated_at: datetime | None = Field(description="When the outcome was last changed.")
    version: int = Field(
        validation_alias=AliasChoices("version", "row_version"),
        description="Also sent as the ETag; send it back in If-Match to change the outcome.",
    )


class DisruptionVocabularyRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "version": "2026-12-06",
                    "kinds": [KIND_EXAMPLE],
                }
            ]
        }
    )

    version: str = Field(description="The vocabulary's version (the partnership's file says it).")
    kinds: list[DisruptionKind]


def _cell(key: dict[str, JsonValue], count: int | None, suppressed: str | None = None) -> JsonValue:
    return {
        "key": key,
        "count": count,
        "suppressed": suppressed,
        "display": "c" if count is None else str(count),
    }


FIGURES_NOTE = (
    "Counts from 1 to 5 are shown as c; further counts are hidden where they would let one be worked "
    "out from the totals (secondary suppression); every count shown is perturbed by at most 2 by the "
    "cell key method, so totals need not add up exactly. "
)
PERIOD_EXAMPLE: dict[str, JsonValue] = {
    "label": "2026-27-Q2",
    "from": "2026-06-30T23:00:00Z",
    "to": "2026-09-30T23:00:00Z",
    "as_of": "2026-09-30T23:00:00Z",
}


class DisruptionFigures(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "actions": {
                        "dimensions": ["kind", "financial_quarter"],
                        "period": PERIOD_EXAMPLE,
                        "suppression_threshold": 5,
                        "exact": False,
                        "cells": [
                            _cell(
                                {"kind": "child_abduction_warning_notice", "financial_quarter": "2026-27-Q2"},
                                14,
                            ),
                            _cell({"kind": "charge", "financial_quarter": "2026-27-Q2"}, None, "primary"),
                        ],
                        "row_totals": [
                            _cell({"kind": "child_abduction_warning_notice"}, 14),
                            _cell({"kind": "charge"}, None, "primary"),
                        ],
                        "column_totals": [_cell({"financial_quarter": "2026-27-Q2"}, None, "secondary")],
                        "total": _cell({}, None, "secondary"),
                        "note": FIGURES_NOTE,
                    },
                    "charges_and_convictions": {
                        "dimensions": ["measure", "financial_quarter"],
                        "period": PERIOD_EXAMPLE,
                        "suppression_threshold": 5,
                        "exact": False,
                        "cells": [
                            _cell({"measure": "charges", "financial_quarter": "2026-27-Q2"}, None, "primary"),
                            _cell({"measure": "convictions", "financial_quarter": "2026-27-Q2"}, 0),
                        ],
                        "row_totals": [
                            _cell({"measure": "charges"}, None, "primary"),
                            _cell({"measure": "convictions"}, 0),
                        ],
                        "column_totals": [_cell({"financial_quarter": "2026-27-Q2"}, None, "primary")],
                        "total": _cell({}, None, "primary"),
                        "note": FIGURES_NOTE,
                    },
                }
            ]
        }
    )

    actions: FigureTable = Field(
        description="Actions by kind (every kind of the vocabulary listed, then any kind no longer in it) "
        "and financial quarter of their `action_date`."
    )
    charges_and_convictions: FigureTable = Field(
        description="Actions of the kinds that count as charges (`charges`) and as convictions "
        "(`convictions`), by financial quarter of their `action_date`."
    )
