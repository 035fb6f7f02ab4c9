"""One OpenAPI document for the whole platform, as integrators see it at the gateway.

:func:`combine_specs` is a plain function of the services' own specs: it keeps the
paths the gateway routes to each service, merges their schemas and tags, and adds
the answers only the gateway gives (401 before any service is asked, 413, 429, 431,
502/503/504). The gateway serves it live from the running services (the last good
copy of each if one is down), and ``make openapi`` writes it to
``openapi/gateway.json`` from the same function, so the two cannot differ.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from api_gateway.openapi_examples import add_gateway_problem_examples, platform_problem_types
from api_gateway.routing import Upstream, upstream_for
from safeguarding_kit.openapi_components import operations, share_repeated_parts
from safeguarding_kit.openapi_headers import add_header_components, declare_operation_headers
from safeguarding_kit.openapi_metadata import GATEWAY_SERVERS, add_metadata

log = logging.getLogger(__name__)

Spec = dict[str, Any]

TITLE = "Safeguarding platform API"
DESCRIPTION = """\
The multi-agency child exploitation safeguarding platform, through its gateway: referrals,
children, missing episodes and persons and places of concern (referral service), risk
models, assessments and each child's risk (risk service), and MACE, CETG, missing and
mapping meetings (meetings service).

Authenticate with `Authorization: Bearer <JWT>` from a trusted agency identity provider.
Every error is RFC 9457 `application/problem+json`. The gateway itself may answer:
431 before the token is read for too many header fields or too large ones (by default
more than 100, more than 16 KiB in all or 8 KiB in one), 401 for a token it cannot
verify, 413 for a body over the size limit, 429 with `Retry-After` when a client exceeds
its rate limit (writes are held tighter than reads), 502/503/504 when a service answers
badly, is down or is too slow. Each answer carries
`Server-Timing` with the gateway's own time and the service's. Each problem's `type` is
one of the URNs in `x-problem-types`, which says what it means (also in
`docs/problem-types.md`); each error answer shows an example of its problems.

**Retries**: every operation that creates a record declares `Idempotency-Key`: retried
with the same key and body after a 502, 503 or 504, it is made once and answers the first
answer again. Every other POST or PUT says in its 503 answer why repeating it is safe
(most need `If-Match`, which a repeat no longer matches) or what a repeat makes; the
gateway itself retries only requests that never reached a service.
"""

PROBLEM_REF = {"$ref": "#/components/schemas/ProblemDetails"}

GATEWAY_ANSWERS: dict[str, str] = {
    "401": "The token is missing, expired, or not from a trusted issuer.",
    "413": "The request body is larger than the gateway accepts.",
    "429": "This client has made too many requests; wait for the seconds in `Retry-After`.",
    "431": "The request has more header fields, or larger ones, than the gateway accepts; "
    "nothing was sent on.",
    "502": "The service gave an answer the gateway could not read.",
    "503": "The service is down or failing; try again after `Retry-After`.",
    "504": "The service did not answer in time.",
}
BODY_METHODS = frozenset({"post", "put", "patch"})
HTTP_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})


# The parts of the services' components the combined spec merges (same name, same value:
# shared; same name, another value: the later service's is renamed with its prefix).
MERGED_COMPONENTS = ("schemas", "parameters", "headers", "responses")
PROBLEM_CONTENT = {"application/problem+json": {"schema": PROBLEM_REF}}


def _gateway_response(status: str, description: str) -> dict[str, Any]:
    """A gateway answer; its headers (``Retry-After``, ``X-Request-ID``) are declared with
    every other operation's by :func:`declare_operation_headers`."""
    return {"description": description, "content": copy.deepcopy(PROBLEM_CONTENT)}


def _renamed_refs(spec: Spec, renames: Mapping[tuple[str, str], str]) -> Spec:
    """``spec`` with every ``$ref`` to a renamed component (section, name) pointing at its new name."""
    if not renames:
        return spec
    text = json.dumps(spec)
    for (section, old), new in renames.items():
        text = text.replace(f'"#/components/{section}/{old}"', f'"#/components/{section}/{new}"')
    renamed: Spec = json.loads(text)
    return renamed


def _prefix(upstream: Upstream) -> str:
    return upstream.value.split("-")[0].capitalize()


def combine_specs(specs: Mapping[Upstream, Spec], *, version: str = "1.0.0") -> Spec:
    """The platform's spec from each service's: only the paths the gateway routes to it,
    and every service's ``webhooks`` (what it sends to partners, not through the gateway)."""
    components: dict[str, dict[str, Any]] = {section: {} for section in MERGED_COMPONENTS}
    paths: dict[str, Any] = {}
    webhooks: dict[str, Any] = {}
    tags: dict[str, dict[str, Any]] = {}
    security_schemes: dict[str, Any] = {}
    operation_ids: set[str] = set()
    for upstream in sorted(specs, key=lambda u: u.value):
        spec = copy.deepcopy(specs[upstream])
        own = spec.get("components", {})
        renames = {
            (section, name): f"{_prefix(upstream)}{name}"
            for section in MERGED_COMPONENTS
            for name, value in own.get(section, {}).items()
            if name in components[section] and components[section][name] != value
        }
        spec = _renamed_refs(spec, renames)
        for section in MERGED_COMPONENTS:
            for name, value in spec.get("components", {}).get(section, {}).items():
                components[section][renames.get((section, name), name)] = value
        security_schemes.update(spec.get("components", {}).get("securitySchemes", {}))
        webhooks.update(spec.get("webhooks", {}))
        for tag in spec.get("tags", []):
            tags.setdefault(tag["name"], tag)
        for path, item in spec.get("paths", {}).items():
            if upstream_for(path) is not upstream:
                continue  # not reachable through the gateway
            for method, operation in item.items():
                if method not in HTTP_METHODS:
                    continue
                if operation.get("operationId") in operation_ids:
                    operation["operationId"] = f"{_prefix(upstream).lower()}_{operation['operationId']}"
                operation_ids.add(operation.get("operationId", ""))
                responses = operation.setdefault("responses", {})
                for status, description in GATEWAY_ANSWERS.items():
                    if status == "413" and method not in BODY_METHODS:
                        continue
                    responses.setdefault(status, _gateway_response(status, description))
            paths[path] = item
    combined: Spec = {
        "openapi": "3.1.0",
        "info": {"title": TITLE, "version": version, "description": DESCRIPTION},
        "paths": dict(sorted(paths.items())),
        "components": {
            **{section: dict(sorted(components[section].items())) for section in MERGED_COMPONENTS},
            "securitySchemes": security_schemes,
        },
        "security": [{name: []} for name in sorted(security_schemes)],
        "tags": sorted(tags.values(), key=lambda tag: str(tag["name"])),
        "x-problem-types": platform_problem_types(specs.values()),
    }
    if webhooks:
        combined["webhooks"] = dict(sorted(webhooks.items()))
    add_gateway_problem_examples(combined)
    _complete_contract(combined)
    return combined


def _complete_contract(combined: Spec) -> None:
    """The gateway's answers get the headers every answer declares, the spec its servers,
    contact and licence, and what the operations repeat is shared under ``components``."""
    add_header_components(combined)
    for operation in operations(combined):
        declare_operation_headers(combined, operation, PROBLEM_CONTENT)
    add_metadata(combined, GATEWAY_SERVERS)
    share_repeated_parts(combined)


class LiveSpec:
    """The combined spec of the running services, refetched at most every ``max_age`` seconds.

    A service that cannot be reached keeps its last good spec; one never reached is left
    out until it answers (the platform's spec is then partial, and says which is missing).
    """

    def __init__(self, replica_urls: Mapping[Upstream, Sequence[str]], *, max_age: float = 60.0) -> None:
        self._replica_urls = {upstream: list(urls) for upstream, urls in replica_urls.items()}
        self._max_age = max_age
        self._specs: dict[Upstream, Spec] = {}
        self._fetched_at: float | None = None
        self._lock = asyncio.Lock()

    async def current(self, client: httpx.AsyncClient) -> Spec:
        async with self._lock:
            now = time.monotonic()
            if self._fetched_at is None or now - self._fetched_at >= self._max_age:
                await self._refresh(client)
                self._fetched_at = now
        combined = combine_specs(self._specs)
        missing = sorted(u.value for u in self._replica_urls if u not in self._specs)
        if missing:
            combined["info"]["description"] += (
                f"\n**Incomplete**: {', '.join(missing)} could not be reached for its spec."
            )
        return combined

    async def _refresh(self, client: httpx.AsyncClient) -> None:
        async def fetch(upstream: Upstream) -> None:
            for replica in self._replica_urls[upstream]:  # the first replica that answers
                try:
                    response = await client.get(replica.rstrip("/") + "/openapi.json", timeout=3.0)
                    response.raise_for_status()
                    spec = response.json()
                except (httpx.HTTPError, ValueError):
                    continue
                if isinstance(spec, dict):
                    self._specs[upstream] = spec
                    return
            log.warning("openapi spec unavailable", extra={"upstream": upstream.value})

        await asyncio.gather(*(fetch(u) for u in self._replica_urls))
