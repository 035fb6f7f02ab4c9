"""A child exploitation service's published year, as a partnership's annual report gives
it: 36 referrals in 2016-17 by financial quarter, age band, gender, ethnicity,
looked-after status and outcome, several cells from 1 to 5. Invented, in the shape of
the reports the partnership's scrutiny committee reads; loaded through the historic
migration operation, as a council moving off its spreadsheet tracker would."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

import httpx

QUARTER_STARTS = {
    "Q1": date(2016, 4, 1),
    "Q2": date(2016, 7, 1),
    "Q3": date(2016, 10, 1),
    "Q4": date(2017, 1, 1),
}
# How many referrals each quarter received, and the age band, gender, ethnicity,
# looked-after status and outcome of each, in order.
QUARTER_SIZES = {"Q1": 9, "Q2": 11, "Q3": 7, "Q4": 9}
AGE_AT_REFERRAL = ["14-16"] * 22 + ["17-19"] * 8 + ["10-13"] * 6
GENDER = ["female"] * 21 + ["male"] * 15
ETHNICITY = (
    ["white_british"] * 24
    + ["mixed_white_and_black_caribbean"] * 6
    + ["black_caribbean"] * 3
    + ["asian_pakistani"] * 3
)
LOOKED_AFTER = [False] * 28 + [True] * 8
OUTCOME = ["allocated"] * 14 + ["signposted"] * 12 + ["no_further_action"] * 10
BAND_AGE = {"10-13": 12, "14-16": 15, "17-19": 17}


@dataclass(frozen=True)
class Row:
    reference: str
    quarter: str
    received: date
    age_band: str
    gender: str
    ethnicity: str
    looked_after: bool
    outcome: str


def rows(prefix: str) -> list[Row]:
    """The year's referrals; attributes are spread over the quarters by fixed strides, so
    every dimension has small cells somewhere."""
    quarters = [q for q, n in QUARTER_SIZES.items() for _ in range(n)]
    made = []
    for i, quarter in enumerate(quarters):
        day = QUARTER_STARTS[quarter].replace(day=1 + (i * 7) % 27)
        made.append(
            Row(
                reference=f"{prefix}-{i:03d}",
                quarter=f"2016-17-{quarter}",
                received=day,
                age_band=AGE_AT_REFERRAL[(i * 5) % 36],
                gender=GENDER[(i * 7) % 36],
                ethnicity=ETHNICITY[(i * 11) % 36],
                looked_after=LOOKED_AFTER[(i * 13) % 36],
                outcome=OUTCOME[(i * 17) % 36],
            )
        )
    return made


def table(made: list[Row], dimension: str) -> Counter[tuple[str, str]]:
    """The published table: referrals by financial quarter and ``dimension``."""
    value = {
        "age_band": lambda r: r.age_band,
        "gender": lambda r: r.gender,
        "ethnicity": lambda r: r.ethnicity,
        "looked_after": lambda r: "looked_after" if r.looked_after else "not_looked_after",
        "outcome": lambda r: r.outcome,
    }[dimension]
    return Counter((r.quarter, value(r)) for r in made)


def body(row: Row, i: int) -> dict[str, object]:
    age = BAND_AGE[row.age_band]
    born = date(row.received.year - age - 1, 1 + i % 12, 1 + i % 27)
    received = f"{row.received.isoformat()}T10:00:00+00:00"
    decided = f"{row.received.isoformat()}T16:00:00+00:00"
    outcome: dict[str, object] = {"outcome": row.outcome, "decided_at": decided}
    if row.outcome == "allocated":
        outcome |= {"allocated_team": "Exploitation Team", "allocated_agency": "sheffield-social-care"}
    elif row.outcome == "signposted":
        outcome |= {"signposted_to": "community-youth-team" if i % 3 else "early-help"}
    else:
        outcome |= {"decision_reason": "No exploitation indicators after checks."}
    return {
        "source_reference": row.reference,
        "source_agency": "sheffield-schools",
        "received_at": received,
        "child": {
            "given_name": f"Annual{i}",
            "family_name": f"Report{row.reference.replace('-', '')}",
            "date_of_birth": born.isoformat(),
            "gender": row.gender,
            "ethnicity": row.ethnicity,
            "looked_after": row.looked_after,
        },
        "concern_types": ["sexual_exploitation"] if i % 2 else ["criminal_exploitation"],
        "summary": "Loaded from the partnership's tracker for the annual report.",
        "lawful_basis": {"basis": "consent"},
        **outcome,
    }


def load(gateway: httpx.Client, administrator: dict[str, str], made: list[Row]) -> None:
    """Every row through the migration operation, as `make import` does."""
    for i, row in enumerate(made):
        answer = gateway.post("/api/v1/referrals/migrated", headers=administrator, json=body(row, i))
        assert answer.status_code in (200, 201), answer.text
