"""Business rules for meeting series, as plain functions over a session."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from meetings_api.series.models import MeetingSeries
from meetings_api.series.schemas import SeriesCreate
from safeguarding_kit.auth.principal import Principal
from safeguarding_kit.pagination import paginate


def create_series(session: Session, principal: Principal, data: SeriesCreate) -> MeetingSeries:
    """Record a new recurring meeting."""
    series = MeetingSeries(**data.model_dump(), created_by=principal.sub)
    session.add(series)
    session.commit()
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
