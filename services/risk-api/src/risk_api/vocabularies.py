"""Closed vocabularies of the risk service."""

from __future__ import annotations

from enum import StrEnum


class RiskLevel(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"


LEVEL_ORDER = {RiskLevel.low: 0, RiskLevel.medium: 1, RiskLevel.high: 2}


class IndicatorCategory(StrEnum):
    missing = "missing"
    online = "online"
    relationships_and_associates = "relationships_and_associates"
    substances = "substances"
    education = "education"
    health_and_sexual_health = "health_and_sexual_health"
    money_and_gifts = "money_and_gifts"
    criminal_activity = "criminal_activity"
    home_and_care = "home_and_care"
    location = "location"


class ExploitationType(StrEnum):
    sexual = "sexual"
    criminal = "criminal"
    both = "both"


class Answer(StrEnum):
    present = "present"
    absent = "absent"
    not_known = "not_known"


class Trend(StrEnum):
    first = "first"
    rising = "rising"
    steady = "steady"
    falling = "falling"
