"""The partnership's information sharing agreement: which identity provider may vouch
for which agencies, and which hub capacities each agency is granted by name.

One versioned YAML (or JSON) document, validated against ``agreement.schema.json``
when a process starts; a process refuses to start on an invalid one, with a message
naming the bad entry. Capacities are never implied by an agency's type.
"""

from __future__ import annotations

import fnmatch
import functools
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from safeguarding_kit.auth.principal import AgencyType
from safeguarding_kit.partnership.capacities import CAPACITY_MEANINGS, Capacity
from safeguarding_kit.problems import Problem


class UnknownAgency(Problem):
    """An agency slug that is not in the partnership agreement (GET /api/v1/partnership lists
    them)."""

    status, slug, title = 422, "unknown-agency", "Agency not in the partnership agreement"


class InvalidAgreement(ValueError):
    """The agreement document cannot be used; the message names the bad entry."""


@dataclass(frozen=True, slots=True)
class AgencyEntry:
    """One agency (``slug``) or a family of agencies (``pattern``, e.g. ``school-*``)."""

    name: str
    type: AgencyType
    capacities: frozenset[Capacity]
    slug: str | None = None
    pattern: str | None = None
    description: str = ""

    def matches(self, agency: str) -> bool:
        if self.slug is not None:
            return agency == self.slug
        return self.pattern is not None and fnmatch.fnmatchcase(agency, self.pattern)


@dataclass(frozen=True, slots=True)
class IssuerBinding:
    """An identity provider and the agencies it may vouch for (slugs and patterns)."""

    issuer: str
    agencies: tuple[str, ...]
    name: str = ""

    def may_vouch_for(self, agency: str) -> bool:
        return any(fnmatch.fnmatchcase(agency, entry) for entry in self.agencies)


@dataclass(frozen=True, slots=True)
class ServiceEntry:
    """A service children are signposted or referred on to, or supported by."""

    slug: str
    name: str
    description: str = ""
    provider_agency: str | None = None


@dataclass(frozen=True, slots=True)
class Agreement:
    """The loaded agreement, with the look-ups the platform needs."""

    partnership: str
    version: str
    issuers: tuple[IssuerBinding, ...]
    agencies: tuple[AgencyEntry, ...]
    services: tuple[ServiceEntry, ...] = ()
    document: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def agency(self, slug: str) -> AgencyEntry | None:
        """The entry for ``slug``: an exact slug before any pattern, else None."""
        for entry in self.agencies:
            if entry.slug == slug:
                return entry
        for entry in self.agencies:
            if entry.pattern is not None and entry.matches(slug):
                return entry
        return None

    def service(self, slug: str) -> ServiceEntry | None:
        """The service of the partnership's closed list with this slug, else None."""
        return next((s for s in self.services if s.slug == slug), None)

    def issuer(self, issuer: str) -> IssuerBinding | None:
        return next((b for b in self.issuers if b.issuer == issuer), None)

    def knows_agency(self, slug: str) -> bool:
        return self.agency(slug) is not None

    def agencies_with(self, capacity: Capacity) -> list[str]:
        """The slugs (never patterns) granted ``capacity``."""
        return [e.slug for e in self.agencies if e.slug is not None and capacity in e.capacities]

    def capacities_of(self, slug: str) -> frozenset[Capacity]:
        entry = self.agency(slug)
        return entry.capacities if entry is not None else frozenset()

    def production_problems(self, trusted_issuers: Iterable[str]) -> list[str]:
        """What makes this agreement unfit for production with these issuers configured."""
        problems = []
        for binding in self.issuers:
            if not binding.agencies:
                problems.append(f"issuer {binding.issuer!r} has no agency list")
        for entry in self.agencies:
            if entry.pattern is not None and Capacity.all_cases in entry.capacities:
                problems.append(
                    f"agency pattern {entry.pattern!r} is granted all_cases wholesale; "
                    "grant it to named agencies only"
                )
        for issuer in trusted_issuers:
            if self.issuer(issuer) is None:
                problems.append(
                    f"trusted issuer {issuer!r} is not in the agreement, so it may vouch for no agency"
                )
        return problems

    def public_view(self) -> dict[str, Any]:
        """The agreement as partners may read it (it holds no secrets: issuers by name)."""
        return {
            "partnership": self.partnership,
            "version": self.version,
            "issuers": [
                {"issuer": b.issuer, "name": b.name, "agencies": list(b.agencies)} for b in self.issuers
            ],
            "agencies": [
                {
                    "slug": e.slug,
                    "pattern": e.pattern,
                    "name": e.name,
                    "type": e.type.value,
                    "capacities": sorted(c.value for c in e.capacities),
                    "description": e.description,
                }
                for e in self.agencies
            ],
            "services": [
                {
                    "slug": s.slug,
                    "name": s.name,
                    "description": s.description,
                    "provider_agency": s.provider_agency,
                }
                for s in self.services
            ],
            "capacities": {c.value: CAPACITY_MEANINGS[c] for c in Capacity},
        }


@functools.cache
def agreement_schema() -> dict[str, Any]:
    """The JSON Schema every agreement document must satisfy."""
    text = resources.files("safeguarding_kit.partnership").joinpath("agreement.schema.json").read_text()
    schema: dict[str, Any] = json.loads(text)
    return schema


def _where(error: jsonschema.ValidationError, document: Mapping[str, Any]) -> str:
    """A path a person can find in the file, naming the entry by its slug where it has one."""
    parts: list[str] = []
    node: Any = document
    for step in error.absolute_path:
        if isinstance(node, dict):
            node = node.get(step)
        elif isinstance(node, list) and isinstance(step, int):
            node = node[step]
        else:
            node = None
        if isinstance(step, int):
            label = (
                (node.get("slug") or node.get("pattern") or node.get("issuer"))
                if isinstance(node, dict)
                else None
            )
            parts.append(f"[{step}]" + (f" ({label})" if label else ""))
        else:
            parts.append(f".{step}" if parts else str(step))
    return "".join(parts) or "the document"


def parse_agreement(document: Any, *, source: str = "agreement") -> Agreement:
    """An :class:`Agreement` from a parsed document, or :class:`InvalidAgreement`."""
    if not isinstance(document, dict):
        raise InvalidAgreement(f"{source}: the agreement must be a mapping with issuers and agencies")
    validator = jsonschema.Draft202012Validator(agreement_schema())
    errors = sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        first = errors[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise InvalidAgreement(f"{source}: {_where(first, document)}: {first.message}{more}")

    agencies = tuple(
        AgencyEntry(
            name=a["name"],
            type=AgencyType(a["type"]),
            capacities=frozenset(Capacity(c) for c in a.get("capacities", [])),
            slug=a.get("slug"),
            pattern=a.get("pattern"),
            description=a.get("description", ""),
        )
        for a in document["agencies"]
    )
    seen: set[str] = set()
    for entry in agencies:
        key = entry.slug or entry.pattern or ""
        if key in seen:
            raise InvalidAgreement(f"{source}: agencies: {key!r} is listed twice")
        seen.add(key)
    issuers = tuple(
        IssuerBinding(issuer=i["issuer"], agencies=tuple(i["agencies"]), name=i.get("name", ""))
        for i in document["issuers"]
    )
    known_issuers: set[str] = set()
    for binding in issuers:
        if binding.issuer in known_issuers:
            raise InvalidAgreement(f"{source}: issuers: {binding.issuer!r} is listed twice")
        known_issuers.add(binding.issuer)
        for vouched in binding.agencies:
            if not any(entry.matches(vouched) or entry.pattern == vouched for entry in agencies):
                raise InvalidAgreement(
                    f"{source}: issuers ({binding.issuer}): {vouched!r} names no agency of the agreement"
                )
    services = tuple(
        ServiceEntry(
            slug=s["slug"],
            name=s["name"],
            description=s.get("description", ""),
            provider_agency=s.get("provider_agency"),
        )
        for s in document.get("services", [])
    )
    if len({s.slug for s in services}) != len(services):
        raise InvalidAgreement(f"{source}: services: a slug is listed twice")
    for service in services:
        provider = service.provider_agency
        if provider is not None and not any(a.matches(provider) for a in agencies):
            raise InvalidAgreement(
                f"{source}: services ({service.slug}): provider_agency {provider!r} "
                "names no agency of the agreement"
            )
    return Agreement(
        services=services,
        partnership=document["partnership"],
        version=str(document["version"]),
        issuers=issuers,
        agencies=agencies,
        document=document,
    )


@functools.lru_cache(maxsize=8)
def _load_cached(path: Path, mtime_ns: int) -> Agreement:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidAgreement(f"{path}: cannot be read ({exc.strerror})") from exc
    try:
        document = yaml.safe_load(text)  # JSON is YAML too
    except yaml.YAMLError as exc:
        raise InvalidAgreement(f"{path}: not valid YAML or JSON ({exc})") from exc
    return parse_agreement(document, source=str(path))


def load_agreement(path: Path) -> Agreement:
    """The agreement in the file at ``path`` (read once per change of the file)."""
    resolved = path.resolve()
    try:
        mtime = resolved.stat().st_mtime_ns
    except OSError as exc:
        raise InvalidAgreement(f"{path}: the partnership agreement file does not exist") from exc
    return _load_cached(resolved, mtime)
