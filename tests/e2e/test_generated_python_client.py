"""An integrator's first hour: a Python client generated from `openapi/gateway.json` with
openapi-python-client (a tool nobody here wrote) reads every figure the platform
publishes, through the real gateway, into its typed models, for an analyst with exact
figures and for a partner whose figures are protected (suppressed cells are `null` with
`display: "c"`, not a string where an integer belongs)."""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

SPEC = Path(__file__).parents[2] / "openapi" / "gateway.json"
PACKAGE = "safeguarding_platform_client"
EXACT_ANALYST = {"agency": "sheffield-council", "agency_type": "social_care", "roles": ["analyst"]}
PARTNER = {"agency": "sheffield-schools", "agency_type": "education", "roles": ["practitioner"]}


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """The client package, generated from the checked-in spec into a temporary folder."""
    target = tmp_path_factory.mktemp("client") / PACKAGE
    tool = shutil.which("openapi-python-client", path=str(Path(sys.executable).parent))
    assert tool, "openapi-python-client is installed by requirements-dev.txt"
    done = subprocess.run(
        [tool, "generate", "--path", str(SPEC), "--meta", "none", "--output-path", str(target)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Unable to parse" not in done.stdout + done.stderr, done.stdout + done.stderr
    sys.path.insert(0, str(target.parent))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(target.parent))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def figure_calls(api: Any, models: Any) -> dict[str, Callable[..., Any]]:
    """Every figure operation, as an integrator would call it."""
    stats = api.statistics
    group_by = models.GroupBy
    return {
        "referrals by financial quarter and age band": lambda c: stats.get_referral_figures.sync_detailed(
            client=c, group_by=[group_by("financial_quarter"), group_by("age_band")], period="2025-26"
        ),
        "referrals by outcome": lambda c: stats.get_referral_figures.sync_detailed(
            client=c, group_by=[group_by("outcome")]
        ),
        "timeliness": lambda c: stats.get_timeliness.sync_detailed(client=c, period="2025-26"),
        "places of concern by ward": lambda c: stats.get_places_of_concern_by_ward.sync_detailed(client=c),
        "risk levels": lambda c: stats.get_risk_level_figures.sync_detailed(client=c),
        "risk movements": lambda c: stats.get_risk_movement_figures.sync_detailed(client=c, period="2025-26"),
        "assessments per child": lambda c: stats.get_assessments_per_child_figures.sync_detailed(client=c),
        "meeting actions": lambda c: stats.get_action_figures.sync_detailed(client=c),
    }


@pytest.mark.parametrize("caller", [EXACT_ANALYST, PARTNER], ids=["exact analyst", "partner"])
def test_a_generated_client_reads_every_figure_into_its_models(generated, stack, stack_tokens, caller):
    api = importlib.import_module(f"{PACKAGE}.api")
    importlib.import_module(f"{PACKAGE}.api.statistics")
    for module in (
        "get_referral_figures",
        "get_timeliness",
        "get_places_of_concern_by_ward",
        "get_risk_level_figures",
        "get_risk_movement_figures",
        "get_assessments_per_child_figures",
        "get_action_figures",
    ):
        importlib.import_module(f"{PACKAGE}.api.statistics.{module}")
    models = importlib.import_module(f"{PACKAGE}.models")
    token = stack_tokens(**caller)
    client = generated.AuthenticatedClient(
        base_url=stack.config.gateway_url, token=token, raise_on_unexpected_status=True
    )
    with client as c:
        for name, call in figure_calls(api, models).items():
            answer = call(c)
            assert answer.status_code == 200, f"{name}: {answer.status_code} {answer.content[:300]!r}"
            assert answer.parsed is not None, f"{name}: the client could not read the answer"
            assert type(answer.parsed).__name__ != "ProblemDetails", name
