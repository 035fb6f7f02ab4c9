"""Reading another service's list endpoint whole: page by page with the caller's own
token (so an agenda holds only what its builder may see), each page checked against
the fields the agenda uses.

Every failure is a problem the agenda reports, and nothing is written: 503 when the
service cannot be reached, 403 when it refuses the token, 502 when its answer is not
what it documents, and 502 when a list is longer than :data:`MAX_ITEMS` (counted by
``agenda_source_page_limit_hits_total``), never a list silently cut short."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Generic, TypeVar

import httpx
from prometheus_client import Counter
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from safeguarding_kit.pagination import MAX_LIMIT
from safeguarding_kit.problems import Problem
from safeguarding_kit.request_context import current_request_id

PAGE_SIZE = MAX_LIMIT
# Far above any partnership's caseload for one question (213 children a year in one
# city); past it the agenda refuses rather than leave a child off.
MAX_PAGES = 200
MAX_ITEMS = PAGE_SIZE * MAX_PAGES

PAGE_LIMIT_HITS = Counter(
    "agenda_source_page_limit_hits_total",
    "Agenda builds refused because a list read from another service was longer than the page limit.",
    ["path"],
)


class SourceUnavailable(Problem):
    """The referral or risk service the agenda is built from could not be reached; try again
    shortly."""

    status, slug, title = 503, "agenda-source-unavailable", "Could not read what the agenda is built from"


class SourceRefused(Problem):
    """The caller's token may not read the referral or risk service the agenda is built from."""

    status, slug, title = 403, "agenda-source-refused", "Not allowed to read what the agenda is built from"


class SourceInvalid(Problem):
    """The referral or risk service answered one of the agenda's questions with something that
    cannot be read; the agenda was not built. Try again later."""

    status, slug, title = 502, "agenda-source-invalid", "What the agenda is built from was not understood"


class SourceTooLong(Problem):
    """The referral or risk service lists more for one of the agenda's questions than the agenda
    reads; it was not built, rather than built without some of them."""

    status, slug, title = 502, "agenda-source-too-long", "What the agenda is built from is too long to read"


class UpstreamModel(BaseModel):
    """The fields of another service's list item that the agenda reads (others ignored)."""

    model_config = ConfigDict(extra="ignore", frozen=True)


Item = TypeVar("Item", bound=UpstreamModel)


class _Page(BaseModel, Generic[Item]):
    items: list[Item]
    next_cursor: str | None = Field(None, max_length=512)


class ServiceLists:
    """One service's list endpoints, read whole with the caller's bearer token."""

    def __init__(self, client: httpx.Client, *, base_url: str, service: str, bearer_token: str) -> None:
        self._client = client
        self._base_url = base_url.rstrip("/")
        self.service = service
        self._headers = {
            "Authorization": f"Bearer {bearer_token}",
            "X-Request-ID": current_request_id() or "",
        }

    def read_all(
        self,
        path: str,
        params: Mapping[str, str],
        item: type[Item],
        *,
        listing: str,
        enough: Callable[[Item], bool] | None = None,
    ) -> list[Item]:
        """Every item of the list in the service's order (``listing`` names it in errors);
        with ``enough``, stops after the page holding an item for which it is true (for
        lists sorted newest first). :class:`SourceTooLong` past :data:`MAX_ITEMS`."""
        items: list[Item] = []
        cursor: str | None = None
        for _ in range(MAX_PAGES):
            query = {**params, "limit": str(PAGE_SIZE), **({"cursor": cursor} if cursor else {})}
            page = self._page(path, query, item)
            items += page.items
            cursor = page.next_cursor
            if not cursor or (enough is not None and any(enough(i) for i in page.items)):
                return items
        PAGE_LIMIT_HITS.labels(path=path).inc()
        raise SourceTooLong(
            f"The {self.service} lists more than {PAGE_SIZE * MAX_PAGES:,} {listing} for one of this "
            "agenda's questions; the agenda was not built, rather than built without some of them. "
            "Report it with the request id."
        )

    def _page(self, path: str, query: dict[str, str], item: type[Item]) -> _Page[Item]:
        try:
            response = self._client.get(f"{self._base_url}{path}", params=query, headers=self._headers)
        except httpx.HTTPError as exc:
            raise SourceUnavailable(f"The {self.service} could not be reached; try again shortly.") from exc
        if response.status_code in (401, 403):
            raise SourceRefused(
                f"Your token may not read the {self.service}, so this agenda cannot be built with it."
            )
        if response.status_code != 200:
            raise SourceUnavailable(f"The {self.service} answered {response.status_code}; try again shortly.")
        try:
            return _Page[item].model_validate_json(response.content)  # type: ignore[valid-type]
        except ValidationError as exc:
            raise SourceInvalid(
                f"The {self.service} gave an answer this agenda cannot be built from; try again later "
                "or report it with the request id."
            ) from exc
