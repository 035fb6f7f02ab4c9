"""What may import what, as the folder tree shows it: the kit (libs/) imports no process or
tool, services never import each other, the gateway imports no service, tools/ may import
everything.

import-linter checks the packages (the contracts are in pyproject.toml, run by `make check`);
these tests show the contracts hold today, that a deliberate cross-package import breaks
them (in a copy of the sources, so nothing else running in the work tree sees it), and check
what import-linter cannot: a service's tests use only its own package, the kit and fakes.
"""

from __future__ import annotations

import ast
import importlib.util
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
KIT = "safeguarding_kit"
SERVICES = ("referral_api", "risk_api", "meetings_api")
GATEWAY = "api_gateway"
TOOLS = ("devstack",)
FIRST_PARTY = (KIT, *SERVICES, GATEWAY, *TOOLS)


def lint_imports(cwd: Path, *, pythonpath: Path | None = None) -> subprocess.CompletedProcess[str]:
    """import-linter over the contracts of ``cwd``'s pyproject.toml, its cache off."""
    env = {**os.environ, "PYTHONPATH": str(pythonpath)} if pythonpath else {**os.environ}
    env["NO_COLOR"] = "1"
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_import_contracts_hold():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.fixture(scope="module")
def copied_sources(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every first-party package copied under one folder, with the workspace's pyproject.toml
    beside it: ``PYTHONPATH=<folder>`` makes import-linter read the copies, not the work tree."""
    copy = tmp_path_factory.mktemp("sources")
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    for package in FIRST_PARTY:
        spec = importlib.util.find_spec(package)
        assert spec is not None, f"{package} is not installed"
        assert spec.submodule_search_locations, f"{package} is not a package"
        shutil.copytree(
            next(iter(spec.submodule_search_locations)),
            copy / package,
            ignore=shutil.ignore_patterns("__pycache__"),
        )
    return copy


@pytest.mark.parametrize(
    ("importer", "imported", "contract"),
    [
        ("referral_api", "risk_api.assessments.models", "Services never import each other"),
        ("meetings_api", "referral_api.children", "Services never import each other"),
        ("meetings_api", "devstack.stack", "Services import no gateway or tool"),
        ("safeguarding_kit", "meetings_api.app", "The kit imports no service, gateway or tool"),
        ("safeguarding_kit", "devstack", "The kit imports no service, gateway or tool"),
        ("api_gateway", "referral_api.settings", "The gateway imports no service or tool"),
    ],
)
def test_a_deliberate_import_across_a_boundary_breaks_its_contract(
    copied_sources: Path, importer: str, imported: str, contract: str
):
    shortcut = copied_sources / importer / "deliberate_shortcut.py"
    shortcut.write_text(f'"""A boundary crossed on purpose."""\n\nimport {imported}  # noqa: F401\n')
    try:
        result = lint_imports(copied_sources, pythonpath=copied_sources)
    finally:
        shortcut.unlink()
    assert result.returncode != 0, result.stdout
    assert f"{contract} BROKEN" in result.stdout, result.stdout + result.stderr
    assert f"{importer}.deliberate_shortcut -> {imported}" in result.stdout, result.stdout


@dataclass(frozen=True)
class OwnTests:
    """A package's own tests and the first-party packages they may import."""

    path: str
    allowed: tuple[str, ...]


# Tools (tools/*/tests) and the cross-service suites (tests/) may import everything.
OWN_TESTS = [
    OwnTests("libs/safeguarding-kit/tests", (KIT,)),
    OwnTests("services/referral-api/tests", (KIT, "referral_api")),
    OwnTests("services/risk-api/tests", (KIT, "risk_api")),
    OwnTests("services/meetings-api/tests", (KIT, "meetings_api")),
    OwnTests("gateway/tests", (KIT, GATEWAY)),
]


def support_modules(folder: Path) -> set[str]:
    """The test-support modules a test folder holds (imported by name, as pytest's pythonpath allows)."""
    return {
        path.stem
        for path in folder.glob("*.py")
        if path.stem != "conftest" and not path.stem.startswith("test_") and path.stem != "__init__"
    }


def imported_names(tree: ast.AST) -> list[tuple[int, str]]:
    """Every module a file imports, with its line: import statements anywhere (inside
    functions too) and ``importlib.import_module("...")`` / ``__import__("...")`` with a literal."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
        elif (
            isinstance(node, ast.Call)
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
            and (
                (isinstance(node.func, ast.Name) and node.func.id in ("import_module", "__import__"))
                or (isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
            )
        ):
            found.append((node.lineno, node.args[0].value))
    return sorted(found)


def test_each_package_s_own_tests_import_only_that_package_the_kit_and_their_fakes():
    others_support = {
        folder.path: set().union(*(support_modules(ROOT / o.path) for o in OWN_TESTS if o is not folder))
        for folder in OWN_TESTS
    }
    crossings = []
    for folder in OWN_TESTS:
        forbidden_packages = set(FIRST_PARTY) - set(folder.allowed)
        files = sorted((ROOT / folder.path).rglob("*.py"))
        assert files, f"no tests found under {folder.path}"
        for path in files:
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for line, module in imported_names(tree):
                top = module.partition(".")[0]
                if top in forbidden_packages or top in others_support[folder.path]:
                    crossings.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    assert not crossings, "a package's tests reach into another package:\n" + "\n".join(crossings)


def test_the_scan_of_tests_finds_imports_inside_functions_and_by_name():
    source = (
        "import importlib\n"
        "def fixture():\n"
        "    from risk_api.models import Base\n"
        "    import referral_api.app as app\n"
        "    return importlib.import_module('api_gateway.app')\n"
    )
    assert [name for _, name in imported_names(ast.parse(source))] == [
        "importlib",
        "risk_api.models",
        "referral_api.app",
        "api_gateway.app",
    ]
