"""The default model shipped with the platform: a starting point a partnership must
review with its practitioners before relying on it.

Its indicators follow the sections of published UK child exploitation screening
tools (missing, accommodation and care, education, substances, family, coercion and
gangs, sexual health, mental health, risky adults or places, online), each graded
1 (low), 2 (medium) or 3 (high) as those tools grade them. Those tools publish no
total cut-offs; the thresholds here (medium from 8, high from 16, out of a possible
62 before age points) were chosen so that a few medium-graded indicators together
reach medium and several high-graded ones reach high. Hard triggers are those the
published tools treat as high whatever else is known.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from risk_api.risk_models.models import ModelStatus, RiskIndicator, RiskModel
from risk_api.vocabularies import ExploitationType, IndicatorCategory
from safeguarding_kit.db import utc_now

DEFAULT_MODEL_NAME = "Partnership child exploitation screening (default)"
DEFAULT_MEDIUM_FROM = 8
DEFAULT_HIGH_FROM = 16
DEFAULT_AGE_MODIFIERS: list[dict[str, Any]] = [{"max_age": 13, "points": 3}]

C, E = IndicatorCategory, ExploitationType
# (code, wording, category, exploitation type, weight, hard trigger)
DEFAULT_INDICATORS: list[tuple[str, str, IndicatorCategory, ExploitationType, int, bool]] = [
    (
        "missing_repeat",
        "Missing from home or care three or more times in 90 days",
        C.missing,
        E.both,
        3,
        False,
    ),
    ("missing_overnight", "Missing overnight or found a long way from home", C.missing, E.both, 2, False),
    ("missing_school_day", "Regularly missing during the school day", C.missing, E.both, 1, False),
    (
        "found_in_other_area",
        "Found in another town or county (possible county lines)",
        C.location,
        E.criminal,
        3,
        False,
    ),
    ("hotel_with_adults", "Taken to or found in hotels or B&Bs with adults", C.location, E.sexual, 3, True),
    (
        "risky_places",
        "Seen at places linked to exploitation (takeaways, parks, car parks, known addresses)",
        C.location,
        E.both,
        2,
        False,
    ),
    ("exclusion", "Excluded, or at risk of exclusion, from school", C.education, E.both, 2, False),
    ("attendance_drop", "Sudden drop in attendance or attainment", C.education, E.both, 1, False),
    ("substance_use", "Using drugs or alcohol", C.substances, E.both, 2, False),
    ("given_substances", "Given drugs or alcohol by adults or older peers", C.substances, E.both, 3, False),
    ("unexplained_money", "Unexplained money, phones, clothes or gifts", C.money_and_gifts, E.both, 2, False),
    ("debt_bondage", "Owes a debt to others, or told they do", C.money_and_gifts, E.criminal, 3, False),
    (
        "older_partner",
        "In a relationship with someone much older",
        C.relationships_and_associates,
        E.sexual,
        3,
        False,
    ),
    (
        "associates_gangs",
        "Associating with gang-involved or criminally exploited peers",
        C.relationships_and_associates,
        E.criminal,
        2,
        False,
    ),
    (
        "controlled_by_others",
        "Controlled or threatened by others; fearful of someone",
        C.relationships_and_associates,
        E.both,
        3,
        False,
    ),
    (
        "carrying_weapons",
        "Carrying weapons or injuries suggesting violence",
        C.criminal_activity,
        E.criminal,
        3,
        False,
    ),
    ("drug_running", "Involved in moving or selling drugs", C.criminal_activity, E.criminal, 3, False),
    (
        "arrested_with_adults",
        "Arrested with adults or in other areas",
        C.criminal_activity,
        E.criminal,
        2,
        False,
    ),
    (
        "sti_or_pregnancy",
        "Sexually transmitted infection, pregnancy or termination",
        C.health_and_sexual_health,
        E.sexual,
        3,
        False,
    ),
    (
        "self_harm",
        "Self-harm, suicidal thoughts or a decline in mental health",
        C.health_and_sexual_health,
        E.both,
        2,
        False,
    ),
    (
        "sexual_activity_13_or_under",
        "Sexual activity involving a child aged 13 or under",
        C.health_and_sexual_health,
        E.sexual,
        3,
        True,
    ),
    (
        "disclosure_sexual_exploitation",
        "Disclosure of sexual exploitation",
        C.health_and_sexual_health,
        E.sexual,
        3,
        True,
    ),
    (
        "looked_after_placement_breakdown",
        "Looked after, or placement breakdowns",
        C.home_and_care,
        E.both,
        2,
        False,
    ),
    (
        "family_conflict",
        "Family conflict, domestic abuse or neglect at home",
        C.home_and_care,
        E.both,
        1,
        False,
    ),
    (
        "sibling_exploited",
        "A sibling or family member known to be exploited",
        C.home_and_care,
        E.both,
        1,
        False,
    ),
    ("online_contact_adults", "Contact online with unknown adults", C.online, E.sexual, 2, False),
    ("sharing_images", "Sharing or asked to share sexual images", C.online, E.sexual, 3, False),
    (
        "multiple_phones",
        "Several phones or SIM cards; phone constantly ringing",
        C.online,
        E.criminal,
        2,
        False,
    ),
]


def install_default_model(session: Session, *, created_by: str = "system") -> RiskModel:
    """Publish version 1 of the default model unless it exists; commits."""
    existing = session.scalar(
        select(RiskModel).where(RiskModel.name == DEFAULT_MODEL_NAME, RiskModel.version == 1)
    )
    if existing is not None:
        return existing
    now = utc_now()
    model = RiskModel(
        name=DEFAULT_MODEL_NAME,
        version=1,
        description=__doc__ or "",
        status=ModelStatus.published,
        medium_from=DEFAULT_MEDIUM_FROM,
        high_from=DEFAULT_HIGH_FROM,
        age_modifiers=DEFAULT_AGE_MODIFIERS,
        created_by=created_by,
        published_by=created_by,
        published_at=now,
        indicators=[
            RiskIndicator(
                position=i,
                code=code,
                wording=wording,
                category=category,
                exploitation_type=kind,
                weight=weight,
                hard_trigger=trigger,
            )
            for i, (code, wording, category, kind, weight, trigger) in enumerate(DEFAULT_INDICATORS)
        ],
    )
    session.add(model)
    session.commit()
    return model
