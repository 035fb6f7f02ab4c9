"""Cursor (keyset) pagination: ``limit`` and ``cursor`` in, ``items`` and
``next_cursor`` out. The cursor is opaque to clients: the sort key of the last
item returned, so pages stay stable while records are added.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
import weakref
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, TypeVar, get_args

from fastapi import Query, Response
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter
from sqlalchemy import Integer, Select, and_, bindparam, or_
from sqlalchemy.orm import InstrumentedAttribute, Session

from safeguarding_kit.problems import FieldError, InvalidCursor, Problem

T = TypeVar("T")
MAX_LIMIT = 100

LimitParam = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"Items per page (1-{MAX_LIMIT}).")]
CursorParam = Annotated[
    str | None,
    Query(
        max_length=512,
        description="The `next_cursor` of the previous page; omit for the first page.",
    ),
]


class CursorWithoutOffset(Problem):
    """A cursor whose time has no UTC offset: never one this API issued (its cursors carry
    UTC), and comparing it with stored times would be meaningless."""

    status, slug, title = 422, "cursor-without-offset", "Cursor time without an offset"


# The cursor the examples show: what the API issues after an item created at this time.
EXAMPLE_NEXT_CURSOR_KEY = (
    datetime(2026, 11, 24, 9, 20, tzinfo=UTC),
    uuid.UUID("0f6b2c1e-3d4a-4b5c-8d9e-1a2b3c4d5e6f"),
)


def page_examples(schema: dict[str, Any], page_class: type[BaseModel]) -> None:
    """``json_schema_extra`` of a page model (one with ``items: list[Item]``): its example
    is a page of the item's first example, followed by another page. Nothing when the item
    has no example."""
    (item_type,) = get_args(page_class.model_fields["items"].annotation)
    item_examples = TypeAdapter(item_type).json_schema(mode="serialization").get("examples")
    if item_examples:
        schema["examples"] = [
            {"items": [item_examples[0]], "next_cursor": encode_cursor(*EXAMPLE_NEXT_CURSOR_KEY)}
        ]


class Page(BaseModel, Generic[T]):
    """One page of a list, in the order its operation names (newest first unless it says
    otherwise)."""

    model_config = ConfigDict(json_schema_extra=page_examples)

    items: list[T]
    next_cursor: str | None = Field(
        None, description="Pass as `cursor` to get the next page; null on the last page."
    )

    def as_response(self) -> Response:
        """The page as its JSON answer, serialized here by pydantic. A sync handler that
        returns the page itself has FastAPI validate it again, in another worker thread,
        before serializing it: work a page built from the schema has no need of."""
        return Response(self.model_dump_json(), media_type="application/json")


def encode_cursor(created_at: datetime, id_: uuid.UUID) -> str:
    raw = json.dumps([created_at.isoformat(), str(id_)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    """The sort key in ``cursor``; :class:`InvalidCursor` (400) if it was not ours, and
    :class:`CursorWithoutOffset` (422) if its time has no UTC offset."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created, id_ = json.loads(raw)
        created_at, after_id = datetime.fromisoformat(created), uuid.UUID(id_)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise InvalidCursor("The cursor is not one this API issued; start again without it.") from exc
    if created_at.tzinfo is None:
        raise CursorWithoutOffset(
            "The cursor's time has no UTC offset, so it is not one this API issued; start again without it.",
            errors=[FieldError(detail="its time has no UTC offset", parameter="cursor", location="query")],
        )
    return created_at, after_id


def paginate(
    session: Session,
    stmt: Select[*tuple[Any, ...]],
    *,
    created_at: InstrumentedAttribute[datetime],
    id_column: InstrumentedAttribute[uuid.UUID],
    limit: int,
    cursor: str | None,
    oldest_first: bool = False,
    whole_rows: bool = False,
) -> tuple[list[Any], str | None]:
    """Rows of ``stmt`` newest first (oldest first with ``oldest_first``, for lists whose
    natural order is the time line, such as meetings or decisions) after ``cursor``, and
    the cursor of the next page. Each item is the record ``stmt`` selects first or, with
    ``whole_rows``, the whole row: the record, then what else ``stmt`` selects with it."""
    after = decode_cursor(cursor) if cursor else None
    rows, last = _keyset(
        session, stmt, created_at, id_column, limit, after, ascending=oldest_first, whole_rows=whole_rows
    )
    return rows, None if last is None else encode_cursor(
        getattr(last, created_at.key), getattr(last, id_column.key)
    )


def encode_position_cursor(position: int, id_: uuid.UUID) -> str:
    raw = json.dumps([position, str(id_)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_position_cursor(cursor: str) -> tuple[int, uuid.UUID]:
    """The position and id in ``cursor``; :class:`InvalidCursor` (400) if it was not ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        position, id_ = json.loads(raw)
        if not isinstance(position, int) or isinstance(position, bool):
            raise TypeError("position is not an integer")
        return position, uuid.UUID(id_)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise InvalidCursor("The cursor is not one this API issued; start again without it.") from exc


def paginate_by_position(
    session: Session,
    stmt: Select[*tuple[Any, ...]],
    *,
    position: InstrumentedAttribute[int],
    id_column: InstrumentedAttribute[uuid.UUID],
    limit: int,
    cursor: str | None,
) -> tuple[list[Any], str | None]:
    """Rows of ``stmt`` in ``position`` order (an agenda's running order) after ``cursor``,
    and the cursor of the next page."""
    after = decode_position_cursor(cursor) if cursor else None
    rows, last = _keyset(session, stmt, position, id_column, limit, after, ascending=True)
    return rows, None if last is None else encode_position_cursor(
        getattr(last, position.key), getattr(last, id_column.key)
    )


# A statement's page query (ordered by its key and id, the limit bound at execution), made
# once per statement object. For a list whose statement was built once and restricted by
# nothing (see safeguarding_kit.db.restricted), each first page then runs the same query
# object, whose cache key SQLAlchemy works out once; a new query object costs a walk of its
# whole tree on every execution.
_PAGE_LIMIT = "pagination_limit"
_PAGE_QUERIES: weakref.WeakKeyDictionary[Select[*tuple[Any, ...]], dict[tuple[str, str, bool], Any]] = (
    weakref.WeakKeyDictionary()
)


def _page_query(
    stmt: Select[*tuple[Any, ...]],
    key: InstrumentedAttribute[Any],
    id_column: InstrumentedAttribute[uuid.UUID],
    *,
    ascending: bool,
) -> Select[*tuple[Any, ...]]:
    queries = _PAGE_QUERIES.setdefault(stmt, {})
    made = queries.get(ordering := (key.key, id_column.key, ascending))
    if made is None:
        order = (key.asc(), id_column.asc()) if ascending else (key.desc(), id_column.desc())
        made = queries[ordering] = stmt.order_by(*order).limit(bindparam(_PAGE_LIMIT, type_=Integer))
    return made


def _keyset(
    session: Session,
    stmt: Select[*tuple[Any, ...]],
    key: InstrumentedAttribute[Any],
    id_column: InstrumentedAttribute[uuid.UUID],
    limit: int,
    after: tuple[Any, uuid.UUID] | None,
    *,
    ascending: bool,
    whole_rows: bool = False,
) -> tuple[list[Any], Any]:
    """Up to ``limit`` rows ordered by (key, id) after ``after`` (their first column, or
    with ``whole_rows`` the rows), and the record of the last one returned when there are
    more (else None)."""
    if after is not None:
        after_key, after_id = after
        if ascending:
            stmt = stmt.where(or_(key > after_key, and_(key == after_key, id_column > after_id)))
        else:
            stmt = stmt.where(or_(key < after_key, and_(key == after_key, id_column < after_id)))
    page, one_more = _page_query(stmt, key, id_column, ascending=ascending), {_PAGE_LIMIT: limit + 1}
    rows: list[Any] = (
        list(session.execute(page, one_more)) if whole_rows else list(session.scalars(page, one_more))
    )
    if len(rows) <= limit:
        return rows, None
    last = rows[limit - 1]
    return rows[:limit], last[0] if whole_rows else last
