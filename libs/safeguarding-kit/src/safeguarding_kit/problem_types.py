"""The list of problem ``type`` URNs a process can answer, and what each means.

Every :class:`~safeguarding_kit.problems.Problem` subclass is one entry, found by walking
the subclasses loaded in the process, so a new problem is listed without anyone writing it
down. The spec carries the list as ``x-problem-types``; ``make openapi`` writes it to
``docs/problem-types.md`` too.
"""

from __future__ import annotations

import inspect
from collections.abc import Collection, Iterable, Iterator
from typing import TypedDict

# Imported for their Problem subclasses, so that every process lists the kit's problems
# whichever of these modules it happens to use.
from safeguarding_kit import concurrency, events, figures, idempotency, pagination  # noqa: F401
from safeguarding_kit.problems import PROBLEM_TYPE_BASE, Problem
from safeguarding_kit.webhooks import service as webhooks_service  # noqa: F401

KIT_PACKAGE = "safeguarding_kit"


class ProblemType(TypedDict):
    """One row of the list: the ``type`` URN, its HTTP status, title and meaning."""

    type: str
    status: int
    title: str
    meaning: str


def problem_type_urn(problem: type[Problem]) -> str:
    """The ``type`` a problem+json body of ``problem`` carries."""
    return PROBLEM_TYPE_BASE + problem.slug


def _all_subclasses(cls: type[Problem]) -> Iterator[type[Problem]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_subclasses(sub)


def problem_classes(packages: Collection[str]) -> list[type[Problem]]:
    """Every loaded subclass of Problem defined in one of ``packages`` (top-level package
    names), in a stable order."""
    return sorted(
        {cls for cls in _all_subclasses(Problem) if cls.__module__.split(".")[0] in packages},
        key=lambda cls: (cls.slug, cls.__module__, cls.__qualname__),
    )


def _own_doc(problem: type[Problem]) -> str | None:
    doc = problem.__dict__.get("__doc__")
    if not doc or problem is Problem:
        return None
    return " ".join(inspect.cleandoc(doc).split("\n\n")[0].split())


def meaning(problem: type[Problem]) -> str:
    """The first paragraph of the class's own docstring; else its title, followed by what
    the nearest problem it specialises (a not-found, a conflict...) says."""
    own = _own_doc(problem)
    if own:
        return own
    for ancestor in problem.__mro__[1:]:
        general = _own_doc(ancestor) if issubclass(ancestor, Problem) else None
        if general:
            return f"{problem.title}. {general}"
    return f"{problem.title}."


def problem_types(problems: Iterable[type[Problem]]) -> list[ProblemType]:
    """One entry per type URN, sorted by it. Classes sharing a slug share an entry: the
    first one's title, and the meanings joined where they differ."""
    entries: dict[str, ProblemType] = {}
    for cls in problems:
        urn = problem_type_urn(cls)
        entry = entries.get(urn)
        if entry is None:
            entries[urn] = {"type": urn, "status": cls.status, "title": cls.title, "meaning": meaning(cls)}
        elif meaning(cls) not in entry["meaning"]:
            entry["meaning"] += " " + meaning(cls)
    return [entries[urn] for urn in sorted(entries)]


def merged_problem_types(*lists: Iterable[ProblemType]) -> list[ProblemType]:
    """The union of several processes' lists, one entry per type URN, sorted by it; the
    same whatever order the lists come in (the gateway hears from the services in any)."""
    by_urn: dict[str, list[ProblemType]] = {}
    for entries in lists:
        for entry in entries:
            by_urn.setdefault(entry["type"], []).append(entry)
    merged: list[ProblemType] = []
    for urn in sorted(by_urn):
        variants = sorted(by_urn[urn], key=lambda e: (e["title"], e["meaning"], e["status"]))
        meanings = sorted({e["meaning"] for e in variants})
        merged.append({**variants[0], "meaning": " ".join(meanings)})
    return merged


def problem_types_markdown(entries: Iterable[ProblemType]) -> str:
    """The list as a Markdown page (``docs/problem-types.md``)."""
    lines = [
        "# Problem types",
        "",
        "Every error is RFC 9457 `application/problem+json`; its `type` is one of these URNs.",
        "Generated from the code's `Problem` classes by `make openapi` (the specs carry the same",
        "list as `x-problem-types`); a test fails when a class is missing here.",
        "",
        "| type | status | title | what it means |",
        "|---|---|---|---|",
    ]
    for entry in entries:
        cells = (f"`{entry['type']}`", str(entry["status"]), entry["title"], entry["meaning"])
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(lines) + "\n"
