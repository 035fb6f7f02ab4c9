"""Every problem `type` a client can meet is listed, with what it means, in the specs
(`x-problem-types`) and in docs/problem-types.md: a Problem class added anywhere without
regenerating them fails here."""

from __future__ import annotations

import ast
import importlib
import json
import pkgutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from devstack.openapi_export import problem_types_page
from safeguarding_kit.problem_types import problem_type_urn
from safeguarding_kit.problems import Problem

ROOT = Path(__file__).resolve().parents[1]
OPENAPI_DIR = ROOT / "openapi"
DOCS_PAGE = ROOT / "docs" / "problem-types.md"
PACKAGES = {
    "safeguarding_kit": "kit",
    "referral_api": "referral-api",
    "risk_api": "risk-api",
    "meetings_api": "meetings-api",
    "api_gateway": "gateway",
}
SOURCES = ("libs/*/src/**/*.py", "services/*/src/**/*.py", "gateway/src/**/*.py")


def every_module(package: str) -> list[ModuleType]:
    root = importlib.import_module(package)
    names = [info.name for info in pkgutil.walk_packages(root.__path__, package + ".")]
    return [root] + [importlib.import_module(name) for name in names if not name.endswith("__main__")]


def every_problem_class() -> list[type[Problem]]:
    for package in PACKAGES:
        every_module(package)
    found: list[type[Problem]] = []
    pending = list(Problem.__subclasses__())
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return [cls for cls in found if cls.__module__.split(".")[0] in PACKAGES]


PROBLEMS = every_problem_class()


def listed(spec_name: str) -> dict[str, dict[str, object]]:
    spec = json.loads((OPENAPI_DIR / f"{spec_name}.json").read_text())
    return {entry["type"]: entry for entry in spec["x-problem-types"]}


def test_the_platform_has_problem_classes_in_every_process() -> None:
    assert {cls.__module__.split(".")[0] for cls in PROBLEMS} == set(PACKAGES)


@pytest.mark.parametrize("problem", PROBLEMS, ids=lambda cls: f"{cls.__module__}.{cls.__qualname__}")
def test_every_problem_class_is_listed_in_the_gateway_spec_with_its_status(problem: type[Problem]) -> None:
    entry = listed("gateway").get(problem_type_urn(problem))
    assert entry is not None, f"{problem_type_urn(problem)} is not listed: run `make openapi`"
    assert entry["status"] == problem.status
    # The title alone rarely says what to do: the class's docstring (or the general problem it
    # specialises) must say what the problem means.
    assert entry["meaning"] != f"{entry['title']}.", f"give {problem.__qualname__} a docstring"


@pytest.mark.parametrize("package", ["referral_api", "risk_api", "meetings_api"])
def test_each_service_spec_lists_its_own_and_the_kits_problems(package: str) -> None:
    types = listed(PACKAGES[package])
    for problem in PROBLEMS:
        if problem.__module__.split(".")[0] in {package, "safeguarding_kit"}:
            assert problem_type_urn(problem) in types, problem


@pytest.mark.parametrize(
    ("package", "lister"),
    [("safeguarding_kit", "safeguarding_kit.problem_types"), ("api_gateway", "api_gateway.openapi_examples")],
)
def test_a_process_lists_every_problem_of_a_package_whichever_of_its_modules_it_uses(
    package: str, lister: str
) -> None:
    # A process imports only what it uses; the list must not depend on that, or the spec it
    # serves would differ from the exported one. The module making the list imports them all.
    script = (
        f"import {lister}\n"
        "from safeguarding_kit.problem_types import problem_classes\n"
        f"print(' '.join(sorted(c.slug for c in problem_classes({{'{package}'}}))))"
    )
    alone = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    everything = sorted(cls.slug for cls in PROBLEMS if cls.__module__.split(".")[0] == package)
    assert alone.stdout.split() == everything, f"import the module of the missing problem in {lister}"


def test_the_docs_page_is_the_gateway_specs_list() -> None:
    specs = {"gateway": (OPENAPI_DIR / "gateway.json").read_text()}
    stale = "docs/problem-types.md is stale: run `make openapi`"
    assert DOCS_PAGE.read_text() == problem_types_page(specs), stale


def test_one_type_means_one_status() -> None:
    statuses: dict[str, set[int]] = {}
    for problem in PROBLEMS:
        statuses.setdefault(problem_type_urn(problem), set()).add(problem.status)
    assert {urn: codes for urn, codes in statuses.items() if len(codes) > 1} == {}


def test_no_problem_is_answered_with_a_type_that_is_not_a_class() -> None:
    # problem_response() with a literal slug would be a type no list can find.
    literal_slugs: list[str] = []
    for pattern in SOURCES:
        for path in ROOT.glob(pattern):
            for node in ast.walk(ast.parse(path.read_text())):
                if (
                    isinstance(node, ast.Call)
                    and getattr(node.func, "id", None) == "problem_response"
                    and len(node.args) > 1
                    and isinstance(node.args[1], ast.Constant)
                ):
                    literal_slugs.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert literal_slugs == []
