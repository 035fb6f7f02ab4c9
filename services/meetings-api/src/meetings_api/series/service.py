"""Business rules for meeting series."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from meetings_api.series.models import MeetingSeries
from meetings_api.series.schemas import SeriesCreate
from safeguarding_kit.auth.principal import Principal
from safeguarding_kit.pagination import paginate
from safeguarding_kit.problems import NotFound


class SeriesNotFound(NotFound):
    slug, title = "series-not-found", "Meeting series not found"


def create_series(session: Session, principal: Principal, data: SeriesCreate) -> MeetingSeries:
    """Record a new recurring meeting. Does not commit: the caller (the idempotent
    create) commits with its answer."""
    values = data.model_dump()
    values["core_agency_types"] = [t.value for t in data.core_agency_types]
    values["quorum_agency_types"] = [t.value for t in data.quorum_agency_types]
    series = MeetingSeries(**values, created_by=principal.sub)
    session.add(series)
    session.flush()
    return series


def get_series(session: Session, series_id: uuid.UUID) -> MeetingSeries:
    series = session.get(MeetingSeries, series_id)
    if series is None:
        raise SeriesNotFound(f"There is no meeting series {series_id}.")
    return series


def list_series(
    session: Session, *, limit: int, cursor: str | None
) -> tuple[list[MeetingSeries], str | None]:
    """Every series, newest first."""
    return paginate(
        session,
        select(MeetingSeries),
        created_at=MeetingSeries.created_at,
        id_column=MeetingSeries.id,
        limit=limit,
        cursor=cursor,
    )
