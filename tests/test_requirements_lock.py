"""The lock files pin, with hashes, everything the local packages and the tools ask for.

`make install` and the Dockerfiles install from them with pip's --require-hashes. These checks
read the files only (no network), so a pyproject.toml or requirements file that asks for
something the locks do not hold, or no longer satisfy, fails here: run `make lock`.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements.lock"
RUNTIME_LOCK = ROOT / "requirements-runtime.lock"
BUILD_REQUIREMENTS = ROOT / "requirements-build.txt"
TOOL_REQUIREMENTS = [ROOT / "requirements-dev.txt", BUILD_REQUIREMENTS]
DOCKERFILES = [*ROOT.glob("services/*/Dockerfile"), ROOT / "gateway" / "Dockerfile"]
HASH = re.compile(r"--hash=sha256:[0-9a-f]{64}")
APP_PATH = re.compile(r"/app/([\w./-]+)")


@dataclass(frozen=True)
class Pin:
    """One entry of a lock file: an exact version, maybe a marker, and its files' hashes."""

    requirement: Requirement
    hashes: frozenset[str]

    @property
    def name(self) -> NormalizedName:
        return canonicalize_name(self.requirement.name)

    @property
    def version(self) -> str:
        (specifier,) = self.requirement.specifier
        return specifier.version

    def applies_here(self) -> bool:
        marker = self.requirement.marker
        return marker is None or marker.evaluate()


def read_lock(path: Path) -> list[Pin]:
    pins: list[Pin] = []
    entry = ""
    for line in [*path.read_text().splitlines(), ""]:
        stripped = line.strip()
        if line.startswith((" ", "\t")) and not stripped.startswith("#"):
            entry += " " + stripped  # a continuation: the entry's hashes
            continue
        if entry:
            requirement = entry.split("--hash=")[0].replace("\\", " ").strip()
            pins.append(Pin(Requirement(requirement), frozenset(HASH.findall(entry))))
            entry = ""
        if stripped and not stripped.startswith("#"):
            entry = stripped
    return pins


def read_requirements(path: Path) -> list[Requirement]:
    lines = (line.split("#")[0].strip() for line in path.read_text().splitlines())
    return [Requirement(line) for line in lines if line]


def local_projects() -> dict[Path, dict[str, Any]]:
    """Each local package's folder and its [project] table."""
    projects: dict[Path, dict[str, Any]] = {}
    for pyproject in [*ROOT.glob("*/pyproject.toml"), *ROOT.glob("*/*/pyproject.toml")]:
        if ".venv" in pyproject.parts:
            continue
        project = tomllib.loads(pyproject.read_text()).get("project")
        if project:
            projects[pyproject.parent] = project
    return projects


PROJECTS = local_projects()
LOCAL_NAMES = {canonicalize_name(str(project["name"])) for project in PROJECTS.values()}


def third_party_dependencies(folders: set[Path]) -> list[Requirement]:
    requirements = [
        Requirement(dependency) for folder in folders for dependency in PROJECTS[folder]["dependencies"]
    ]
    return [r for r in requirements if canonicalize_name(r.name) not in LOCAL_NAMES]


def installed_by_the_images() -> set[Path]:
    """The local packages the Dockerfiles install (the kit and each process)."""
    folders: set[Path] = set()
    for dockerfile in DOCKERFILES:
        for path in APP_PATH.findall(dockerfile.read_text()):
            if (ROOT / path).resolve() in PROJECTS:
                folders.add((ROOT / path).resolve())
    return folders


def assert_satisfied(requirements: list[Requirement], lock: Path) -> None:
    pins = {pin.name: pin for pin in read_lock(lock) if pin.applies_here()}
    for requirement in requirements:
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        pin = pins.get(canonicalize_name(requirement.name))
        assert pin, f"{lock.name} has no {requirement.name}: run make lock"
        assert requirement.specifier.contains(pin.version, prereleases=True), (
            f"{lock.name} pins {pin.name}=={pin.version}, {requirement} asks otherwise: run make lock"
        )


def test_the_local_packages_are_all_found() -> None:
    assert len(PROJECTS) >= 6
    assert len(installed_by_the_images()) == 5


@pytest.mark.parametrize("lock", [LOCK, RUNTIME_LOCK], ids=lambda path: path.name)
def test_every_locked_package_is_pinned_to_one_version_with_its_hashes(lock: Path) -> None:
    pins = read_lock(lock)
    assert pins
    for pin in pins:
        assert pin.requirement.url is None, pin.requirement
        assert str(pin.requirement.specifier).startswith("=="), pin.requirement
        assert pin.hashes, f"{pin.name} has no hash"
        assert pin.name not in LOCAL_NAMES, f"{pin.name} is built from this repository, not locked"
    # One version per package wherever it is installed (a package may fork by Python version).
    here = [pin.name for pin in pins if pin.applies_here()]
    assert len(here) == len(set(here))


def test_the_lock_holds_every_dependency_of_the_local_packages_and_the_tools() -> None:
    requirements = third_party_dependencies(set(PROJECTS))
    for path in TOOL_REQUIREMENTS:
        requirements += read_requirements(path)
    assert_satisfied(requirements, LOCK)


def test_the_runtime_lock_holds_every_dependency_of_what_the_images_install() -> None:
    requirements = third_party_dependencies(installed_by_the_images())
    assert_satisfied(requirements + read_requirements(BUILD_REQUIREMENTS), RUNTIME_LOCK)


def test_the_runtime_lock_pins_what_the_full_lock_pins() -> None:
    # The same version and files; the markers may differ, as each lock's are worked out from what
    # its own packages need (checkov's pycares asks for cffi on PyPy too, the images' packages do not).
    full = {(pin.name, pin.version): pin.hashes for pin in read_lock(LOCK)}
    for pin in read_lock(RUNTIME_LOCK):
        key = (pin.name, pin.version)
        assert key in full, f"{pin.requirement} is not in {LOCK.name}: run make lock"
        assert pin.hashes == full[key], pin.name
