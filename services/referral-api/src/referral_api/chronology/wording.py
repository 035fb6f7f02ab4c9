"""How an entry reads: a plain sentence from its kind and details, and where its record
is (the gateway path to read it, for those who may). Pure functions of what is stored, so a
change of wording applies to every entry already kept."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from referral_api.chronology.models import ChronologyKind

_MEETINGS = {
    "MACE": "MACE",
    "CETG": "CETG",
    "MISSING": "missing children meeting",
    "MAPPING": "mapping meeting",
}


def _words(slug: Any) -> str:
    return str(slug).replace("_", " ")


def _meeting(details: Mapping[str, Any]) -> str:
    kind = str(details.get("meeting_kind") or "")
    name = _MEETINGS.get(kind, "a meeting")
    day = str(details.get("meeting_starts_at") or "")[:10]
    return f"{name} of {day}" if day else name


def _provider(details: Mapping[str, Any]) -> str:
    return str(details.get("provider_service") or details.get("provider_agency") or "a provider")


def summary(kind: ChronologyKind, details: Mapping[str, Any]) -> str:
    """One sentence, with no name in it: the kinds, levels, agencies and dates of the step."""
    match kind:
        case ChronologyKind.referral_received:
            concerns = ", ".join(_words(c) for c in details.get("concern_types", []))
            source = _words(details.get("source_agency_type", "an"))
            return f"Referral received from a {source} agency ({_words(details.get('urgency'))}): {concerns}"
        case ChronologyKind.referral_status_changed:
            return f"Referral moved from {_words(details.get('from'))} to {_words(details.get('to'))}"
        case ChronologyKind.missing_reported:
            return "Reported missing"
        case ChronologyKind.missing_found:
            return "Found after going missing: a return-home interview is due within 72 hours"
        case ChronologyKind.return_home_interview:
            return f"Return-home interview {_words(details.get('outcome'))}"
        case ChronologyKind.risk_assessed:
            return f"Risk assessed: {details.get('level')}"
        case ChronologyKind.risk_level_changed:
            before = details.get("from")
            if before is None:
                return f"Risk level set to {details.get('to')}"
            return f"Risk level changed from {before} to {details.get('to')}"
        case ChronologyKind.meeting_decision:
            return f"Discussed at the {_meeting(details)}: a decision was recorded"
        case ChronologyKind.meeting_action_agreed:
            return (
                f"Action agreed at the {_meeting(details)} for {details.get('owner_agency')}, "
                f"due {details.get('due_date')}"
            )
        case ChronologyKind.meeting_action_closed:
            return f"Action {_words(details.get('status'))} ({details.get('owner_agency')})"
        case ChronologyKind.meeting_action_reopened:
            return f"Action open again ({details.get('owner_agency')})"
        case ChronologyKind.support_offered:
            return f"Support offered: {_words(details.get('kind'))} from {_provider(details)}"
        case ChronologyKind.support_started:
            waited = details.get("waiting_days")
            after = f" after {waited} days' wait" if waited is not None else ""
            return f"Support started{after}: {_words(details.get('kind'))} from {_provider(details)}"
        case ChronologyKind.support_ended:
            return f"Support ended ({_words(details.get('end_reason'))}): {_words(details.get('kind'))}"
        case ChronologyKind.disruption_recorded:
            target = "person" if details.get("target_type") == "person" else "place"
            return f"Disruption: {_words(details.get('kind'))} against a linked {target} of concern"


# The record each kind is about: its type, the detail holding its id, and the gateway path
# that reads it (none for a meeting's action, read with its meeting's actions).
_RECORDS: dict[ChronologyKind, tuple[str, str, str | None]] = {
    ChronologyKind.referral_received: ("referral", "referral_id", "/api/v1/referrals/{}"),
    ChronologyKind.referral_status_changed: ("referral", "referral_id", "/api/v1/referrals/{}"),
    ChronologyKind.missing_reported: ("missing_episode", "missing_episode_id", "/api/v1/missing-episodes/{}"),
    ChronologyKind.missing_found: ("missing_episode", "missing_episode_id", "/api/v1/missing-episodes/{}"),
    ChronologyKind.return_home_interview: (
        "missing_episode",
        "missing_episode_id",
        "/api/v1/missing-episodes/{}",
    ),
    ChronologyKind.risk_assessed: ("assessment", "assessment_id", "/api/v1/risk/assessments/{}"),
    ChronologyKind.risk_level_changed: ("child_risk", "child_id", "/api/v1/risk/children/{}"),
    ChronologyKind.meeting_decision: ("meeting", "occurrence_id", "/api/v1/meetings/occurrences/{}"),
    ChronologyKind.meeting_action_agreed: ("meeting", "occurrence_id", "/api/v1/meetings/occurrences/{}"),
    ChronologyKind.meeting_action_closed: ("action", "action_id", None),
    ChronologyKind.meeting_action_reopened: ("action", "action_id", None),
    ChronologyKind.support_offered: ("support", "support_id", "/api/v1/support/{}"),
    ChronologyKind.support_started: ("support", "support_id", "/api/v1/support/{}"),
    ChronologyKind.support_ended: ("support", "support_id", "/api/v1/support/{}"),
    ChronologyKind.disruption_recorded: ("disruption_action", "action_id", "/api/v1/disruption/actions/{}"),
}


def record_of(kind: ChronologyKind, details: Mapping[str, Any]) -> tuple[str, str, str | None]:
    """The record's type, id and gateway path (None when no single read serves it)."""
    record_type, key, path = _RECORDS[kind]
    record_id = str(details[key])
    return record_type, record_id, None if path is None else path.format(record_id)
