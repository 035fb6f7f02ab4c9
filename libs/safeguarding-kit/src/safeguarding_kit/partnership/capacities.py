"""The hub capacities an information sharing agreement grants agencies by name."""

from __future__ import annotations

from enum import StrEnum


class Capacity(StrEnum):
    """What the agreement grants an agency in the hub (never implied by its type)."""

    all_cases = "all_cases"
    decides_referrals = "decides_referrals"
    intelligence = "intelligence"
    governs_risk_models = "governs_risk_models"
    exact_figures = "exact_figures"
    audits = "audits"
    chairs_meetings = "chairs_meetings"
    migrates_records = "migrates_records"


CAPACITY_MEANINGS: dict[Capacity, str] = {
    Capacity.all_cases: "the hub's own teams: case workers see every child, not only those linked to them",
    Capacity.decides_referrals: "screens and decides referrals (allocate, signpost, close...)",
    Capacity.intelligence: "reads and records persons and places of concern",
    Capacity.governs_risk_models: "writes, approves and publishes risk models, and runs impact analysis",
    Capacity.exact_figures: "analysts see figures without disclosure control",
    Capacity.audits: "information governance: auditors read every access record and review break-glass",
    Capacity.chairs_meetings: "coordinates and reads every multi-agency meeting",
    Capacity.migrates_records: "data administrators load historic records from earlier systems",
}
