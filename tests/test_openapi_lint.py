"""Two linters over every checked-in spec, with no error and no warning allowed:
openapi-spec-validator (the spec is valid OpenAPI 3.1) and Redocly CLI's `recommended`
ruleset plus the rules in `redocly.yaml` (descriptions, tags, contact, licence...).

Redocly CLI is a Node package pinned in `package-lock.json`; the first run installs it
with `npm ci` into `node_modules/` (gitignored), so a clean checkout needs only node,
npm and the npm registry.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate
from openapi_spec_validator.readers import read_from_filename

ROOT = Path(__file__).resolve().parents[1]
SPECS = sorted((ROOT / "openapi").glob("*.json"))
REDOCLY = ROOT / "node_modules" / ".bin" / "redocly"
QUIET = {"REDOCLY_TELEMETRY": "off", "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true", "NO_COLOR": "1"}


def _installed_redocly_version() -> str | None:
    manifest = ROOT / "node_modules" / "@redocly" / "cli" / "package.json"
    if not manifest.exists() or not REDOCLY.exists():
        return None
    return str(json.loads(manifest.read_text())["version"])


def _locked_redocly_version() -> str:
    lock = json.loads((ROOT / "package-lock.json").read_text())
    return str(lock["packages"]["node_modules/@redocly/cli"]["version"])


@pytest.fixture(scope="session")
def redocly() -> Path:
    """The pinned Redocly CLI, installed with `npm ci` when missing or not the locked version."""
    if _installed_redocly_version() != _locked_redocly_version():
        npm = shutil.which("npm")
        assert npm, "npm is needed to install Redocly CLI (tests/test_openapi_lint.py)"
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
            cwd=ROOT,
            check=True,
            env={**os.environ, **QUIET},
            timeout=600,
        )
    assert _installed_redocly_version() == _locked_redocly_version()
    return REDOCLY


def test_every_spec_is_linted() -> None:
    assert {spec.stem for spec in SPECS} >= {"gateway", "referral-api", "risk-api", "meetings-api"}


@pytest.mark.parametrize("spec", SPECS, ids=lambda path: path.stem)
def test_spec_is_valid_openapi(spec: Path) -> None:
    document, base_uri = read_from_filename(str(spec))
    validate(document, base_uri=base_uri)


def _redocly_problems(redocly: Path, spec: Path) -> dict[str, Any]:
    result = subprocess.run(
        [str(redocly), "lint", str(spec), "--config", str(ROOT / "redocly.yaml"), "--format", "json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, **QUIET},
        timeout=300,
        check=False,
    )
    try:
        report: dict[str, Any] = json.loads(result.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"redocly lint gave no report (exit {result.returncode}): {result.stderr[-2000:]}")
    return report


@pytest.mark.parametrize("spec", SPECS, ids=lambda path: path.stem)
def test_spec_has_no_redocly_error_or_warning(redocly: Path, spec: Path) -> None:
    report = _redocly_problems(redocly, spec)
    found = [
        f"{p['severity']} {p['ruleId']}: {p['message']} at {p['location'][0]['pointer']}"
        for p in report["problems"]
    ]
    assert report["totals"]["errors"] == 0, "\n".join(found[:50])
    assert report["totals"]["warnings"] == 0, "\n".join(found[:50])
