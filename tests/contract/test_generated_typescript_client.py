"""A TypeScript integrator's first hour: types generated from `openapi/gateway.json` with
openapi-typescript, a referral built and a page of referrals read with openapi-fetch
(`tests/contract/typescript/referral_scenario.ts`), all type-checked with `tsc --strict`.

The Node tools are pinned in the root package.json and package-lock.json and installed
on demand with `npm ci` (node_modules/ is not checked in). Without npm this test fails,
never skips: CI has Node, and a contract nobody checks is no contract. It needs no
database and no running process, so it runs in `make test-fast` too."""

from __future__ import annotations

import fcntl
import hashlib
import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
SPEC = ROOT / "openapi" / "gateway.json"
SCENARIO = Path(__file__).parent / "typescript" / "referral_scenario.ts"
LOCK = ROOT / "package-lock.json"
NODE_MODULES = ROOT / "node_modules"


def npm_command() -> str:
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail(
            "npm is not on PATH: the TypeScript client contract needs Node.js 20.19+ and npm "
            "(apt-get install nodejs npm, or https://nodejs.org); CI has them.",
            pytrace=False,
        )
    return npm


def packages_not_as_locked() -> list[str]:
    """The packages of package-lock.json missing from node_modules/ or at another version."""
    wrong = []
    for where, locked in json.loads(LOCK.read_text())["packages"].items():
        if not where.startswith("node_modules/"):
            continue
        manifest = ROOT / where / "package.json"
        if not manifest.is_file():
            if not locked.get("optional"):  # an optional package for another platform is left out
                wrong.append(where)
        elif json.loads(manifest.read_text()).get("version") != locked.get("version"):
            wrong.append(where)
    return wrong


def install_node_tools() -> None:
    """`npm ci` when node_modules/ is not what package-lock.json pins (tests/test_openapi_lint.py
    does the same); a file lock keeps two test runs in one checkout from installing at once."""
    npm = npm_command()
    lock_file = Path(tempfile.gettempdir()) / f"npm-ci-{hashlib.sha256(str(ROOT).encode()).hexdigest()[:16]}"
    with lock_file.open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        if not packages_not_as_locked():
            return
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, f"npm ci failed:\n{done.stdout}\n{done.stderr}"
    assert not packages_not_as_locked(), packages_not_as_locked()


def node_tool(name: str) -> Path:
    return NODE_MODULES / ".bin" / name


def pinned_versions() -> dict[str, str]:
    return json.loads((ROOT / "package.json").read_text())["devDependencies"]


@pytest.fixture(scope="session")
def typescript_client(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The generated declarations and a strict tsconfig over them and the scenario."""
    install_node_tools()
    folder = tmp_path_factory.mktemp("typescript-client")
    # A .ts file, not a .d.ts: skipLibCheck below then skips node_modules and TypeScript's
    # own declarations (half the time) but still checks every generated type.
    declarations = folder / "gateway.ts"
    # `--default-non-nullable false`: a property with a default stays optional in a request
    # body (openapi-typescript 7 would otherwise make `looked_after`, `ethnicity`... required).
    generated = subprocess.run(
        [
            str(node_tool("openapi-typescript")),
            str(SPEC),
            *("--output", str(declarations)),
            *("--default-non-nullable", "false"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert generated.returncode == 0, generated.stdout + generated.stderr
    tsconfig = {
        "compilerOptions": {
            "strict": True,
            "noEmit": True,
            "noUncheckedIndexedAccess": True,
            "target": "ES2022",
            "module": "ESNext",
            "moduleResolution": "Bundler",
            "lib": ["ES2022", "DOM"],
            "types": [],
            "skipLibCheck": True,
            "paths": {"@generated/gateway": [str(declarations)]},
        },
        "files": [str(SCENARIO), str(declarations)],
    }
    (folder / "tsconfig.json").write_text(json.dumps(tsconfig, indent=2))
    return folder


def test_the_node_tools_are_pinned_to_exact_versions():
    versions = pinned_versions()
    for tool in ("openapi-typescript", "openapi-fetch", "typescript"):
        assert tool in versions, f"{tool} is missing from package.json's devDependencies"
    assert all(v[:1].isdigit() for v in versions.values()), versions
    # openapi-typescript 7 declares typescript ^5 as its peer: TypeScript 6 and 7 are not it.
    assert versions["typescript"].startswith("5."), versions["typescript"]
    locked = json.loads(LOCK.read_text())["packages"]
    for tool, version in versions.items():
        assert locked[f"node_modules/{tool}"]["version"] == version, tool


def test_a_typescript_client_built_from_the_gateway_spec_type_checks_strictly(typescript_client):
    checked = subprocess.run(
        [
            str(node_tool("tsc")),
            "--project",
            str(typescript_client / "tsconfig.json"),
            "--strict",
            "--noEmit",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_generated_types_cover_every_path_of_the_spec(typescript_client):
    declarations = (typescript_client / "gateway.ts").read_text()
    spec = json.loads(SPEC.read_text())
    missing = [path for path in spec["paths"] if f'"{path}": {{' not in declarations]
    assert not missing, missing
