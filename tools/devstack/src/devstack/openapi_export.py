"""Export each service's OpenAPI spec to ``openapi/<service>.json`` (``make openapi``),
and the list of problem types to ``docs/problem-types.md``.

A test (tests/test_openapi_specs.py) fails when a checked-in spec differs from what
the code serves, so integrators always build from the truth.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from api_gateway.openapi import combine_specs
from api_gateway.routing import Upstream
from meetings_api.app import create_app as meetings_app
from meetings_api.settings import MeetingsSettings
from referral_api.app import create_app as referral_app
from referral_api.settings import ReferralSettings
from risk_api.app import create_app as risk_app
from risk_api.settings import RiskSettings
from safeguarding_kit.problem_types import problem_types_markdown

# The spec does not depend on the database; an in-memory one is never connected to.
_OFFLINE = {"database_url": "sqlite://", "dev_issuer_enabled": False, "environment": "test"}

PROBLEM_TYPES_PAGE = "problem-types.md"

SERVICES: dict[str, Callable[[], FastAPI]] = {
    "referral-api": lambda: referral_app(ReferralSettings(**_OFFLINE)),  # type: ignore[arg-type]
    "risk-api": lambda: risk_app(RiskSettings(**_OFFLINE)),  # type: ignore[arg-type]
    "meetings-api": lambda: meetings_app(MeetingsSettings(**_OFFLINE)),  # type: ignore[arg-type]
}


def spec_text(spec: dict[str, Any]) -> str:
    """The canonical text of a spec: sorted keys, two-space indent, final newline."""
    return json.dumps(spec, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def current_specs() -> dict[str, str]:
    """Each service's spec as the code serves it now, and the gateway's combination of them."""
    specs = {name: make().openapi() for name, make in SERVICES.items()}
    combined = combine_specs({Upstream(name): spec for name, spec in specs.items()})
    return {name: spec_text(spec) for name, spec in {**specs, "gateway": combined}.items()}


def problem_types_page(specs: dict[str, str]) -> str:
    """``docs/problem-types.md``: the gateway spec's ``x-problem-types`` as a table."""
    return problem_types_markdown(json.loads(specs["gateway"])["x-problem-types"])


def main(out_dir: str = "openapi", docs_dir: str = "docs") -> None:
    target = Path(out_dir)
    target.mkdir(parents=True, exist_ok=True)
    specs = current_specs()
    for name, text in specs.items():
        (target / f"{name}.json").write_text(text)
        print(f"wrote {target / (name + '.json')}")
    page = Path(docs_dir) / PROBLEM_TYPES_PAGE
    page.write_text(problem_types_page(specs))
    print(f"wrote {page}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
