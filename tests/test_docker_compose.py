"""docker-compose.yml and the Dockerfiles agree with each other and with the settings classes.

There is no Docker engine in CI, so these checks are static: they read the compose file and
the Dockerfiles and compare them with the code they will run.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, urlsplit

import pytest
import yaml

from api_gateway.settings import GatewaySettings
from devstack.stack import StackConfig
from meetings_api.settings import MeetingsSettings
from referral_api.settings import ReferralSettings
from risk_api.settings import RiskSettings
from safeguarding_kit.settings import DatabaseSettings, Environment, ProcessSettings

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yml"
POSTGRES_INIT_SQL = ROOT / "deploy" / "postgres" / "init.sql"
POSTGRES_SERVICE = "postgres"
GATEWAY = "gateway"
# The third-party packages every image installs, with their hashes (`make lock` writes it).
RUNTIME_LOCK = "requirements-runtime.lock"


@dataclass(frozen=True)
class Process:
    """One deployable as the repository lays it out."""

    folder: str
    package: str
    settings: type[ProcessSettings]
    database: str | None = None

    @property
    def dockerfile(self) -> str:
        return f"{self.folder}/Dockerfile"


PROCESSES: dict[str, Process] = {
    "referral-api": Process("services/referral-api", "referral_api", ReferralSettings, "referral"),
    "risk-api": Process("services/risk-api", "risk_api", RiskSettings, "risk"),
    "meetings-api": Process("services/meetings-api", "meetings_api", MeetingsSettings, "meetings"),
    GATEWAY: Process("gateway", "api_gateway", GatewaySettings),
}
SERVICES = sorted(name for name, process in PROCESSES.items() if process.database)
GATEWAY_UPSTREAM_URLS = {
    "REFERRAL_API_URL": "referral-api",
    "RISK_API_URL": "risk-api",
    "MEETINGS_API_URL": "meetings-api",
}
# Variables for the interpreter and pip, not for the process's settings.
RUNTIME_ENV_PREFIXES = ("PYTHON", "PIP_")
EXAMPLE_AGREEMENT = Path(__file__).parents[1] / "deploy/partnership/example-production-agreement.yaml"
INTERPOLATION = re.compile(r"\$\{(?P<name>\w+)(?P<modifier>[^}]*)\}")
URL_PORT = re.compile(r"https?://[\w.-]+:(\d+)/")
PYTHON_MODULE = re.compile(r"python -m ([A-Za-z_][\w.]*)")


def load_compose() -> dict[str, Any]:
    loaded = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(loaded, dict), "docker-compose.yml is not a mapping"
    return loaded


COMPOSE = load_compose()


def compose_service(name: str) -> dict[str, Any]:
    service: dict[str, Any] = COMPOSE["services"][name]
    return service


def compose_environment(name: str) -> dict[str, str]:
    environment = compose_service(name).get("environment", {})
    assert isinstance(environment, dict), f"{name}: write environment as a mapping"
    return {key: str(value) for key, value in environment.items()}


def healthcheck_command(check: Any) -> str:
    """The healthcheck's command as one string, from exec form, CMD-SHELL or a plain string."""
    if isinstance(check, list):
        return " ".join(str(part) for part in check[1:])
    return str(check)


@dataclass(frozen=True)
class Dockerfile:
    """The instructions of a Dockerfile, continuation lines joined and comments dropped."""

    instructions: list[tuple[str, str]]

    @classmethod
    def read(cls, path: Path) -> Dockerfile:
        instructions: list[tuple[str, str]] = []
        pending = ""
        for raw in path.read_text().splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            if line.endswith("\\"):
                pending += line[:-1] + " "
                continue
            keyword, _, arguments = (pending + line).partition(" ")
            instructions.append((keyword.upper(), arguments.strip()))
            pending = ""
        return cls(instructions)

    def all(self, keyword: str) -> list[str]:
        return [arguments for kw, arguments in self.instructions if kw == keyword]

    def last(self, keyword: str) -> str:
        found = self.all(keyword)
        assert found, f"no {keyword} instruction"
        return found[-1]

    def env(self) -> dict[str, str]:
        variables: dict[str, str] = {}
        for arguments in self.all("ENV"):
            for assignment in shlex.split(arguments):
                name, _, value = assignment.partition("=")
                variables[name] = value
        return variables

    def command(self) -> str:
        """CMD as the shell would see it (exec form joined)."""
        return " ".join(json.loads(self.last("CMD")))


def dockerfile_of(name: str) -> Dockerfile:
    return Dockerfile.read(ROOT / PROCESSES[name].dockerfile)


def pip_installs(dockerfile: Dockerfile) -> list[str]:
    """The RUN instructions that call pip install, in order."""
    installs = [run for run in dockerfile.all("RUN") if "pip install" in run]
    assert installs, "no pip install"
    return installs


def documented_trusted_issuers() -> str:
    """The example TRUSTED_ISSUERS value from the comments at the top of the compose file."""
    match = re.search(r"^#\s+TRUSTED_ISSUERS='(.+)'$", COMPOSE_FILE.read_text(), re.MULTILINE)
    assert match, "docker-compose.yml should document an example TRUSTED_ISSUERS in its header"
    return match.group(1)


def interpolate(value: str, variables: dict[str, str]) -> str:
    return INTERPOLATION.sub(lambda m: variables[m.group("name")], value)


def database_url_of(name: str) -> SplitResult:
    password = {"POSTGRES_PASSWORD": "secret", "TRUSTED_ISSUERS": "[]"}
    return urlsplit(interpolate(compose_environment(name)["DATABASE_URL"], password))


def test_compose_file_parses_and_names_every_process() -> None:
    assert set(COMPOSE["services"]) == {*PROCESSES, POSTGRES_SERVICE}


@pytest.mark.parametrize("name", sorted(PROCESSES))
def test_every_build_context_and_dockerfile_exists(name: str) -> None:
    build = compose_service(name)["build"]
    # The repository root, so each image can copy the shared kit next to its own folder.
    assert (ROOT / build["context"]).resolve() == ROOT
    assert build["dockerfile"] == PROCESSES[name].dockerfile
    assert (ROOT / build["dockerfile"]).is_file()


@pytest.mark.parametrize("name", sorted(PROCESSES))
def test_every_image_copies_only_the_kit_and_its_own_folder_into_the_repository_layout(
    name: str,
) -> None:
    process = PROCESSES[name]
    dockerfile = dockerfile_of(name)
    assert dockerfile.last("FROM") == "python:3.11-slim"
    for arguments in dockerfile.all("COPY"):
        source, destination = arguments.split()
        assert source == RUNTIME_LOCK or source.startswith(
            ("libs/safeguarding-kit/", f"{process.folder}/")
        ), arguments
        assert (ROOT / source).exists(), arguments
        assert destination == f"/app/{source}", arguments
    local_install = pip_installs(dockerfile)[-1]
    # The lock brought every dependency: nothing beyond the kit and the process itself comes in.
    assert "--no-cache-dir --no-deps --no-build-isolation /app/libs/safeguarding-kit" in local_install
    # Editable: each service finds its migrations/ relative to its source tree.
    assert f"-e /app/{process.folder}" in local_install


@pytest.mark.parametrize("name", sorted(PROCESSES))
def test_every_image_installs_its_dependencies_from_the_runtime_lock_with_hashes(name: str) -> None:
    dockerfile = dockerfile_of(name)
    lock_install, *local_installs = pip_installs(dockerfile)
    assert f"{RUNTIME_LOCK} /app/{RUNTIME_LOCK}" in dockerfile.all("COPY")
    options = shlex.split(lock_install.split("&&")[0])
    assert options[options.index("-r") + 1] == f"/app/{RUNTIME_LOCK}"
    # Hash-checking mode refuses any file, dependency or not, the lock does not hash; wheels
    # only, so no sdist's build pulls in an unpinned build backend.
    assert {"--require-hashes", "--only-binary", ":all:"} <= set(options)
    for install in local_installs:
        assert {"--no-deps", "--no-build-isolation"} <= set(shlex.split(install.split("&&")[0]))


@pytest.mark.parametrize("name", sorted(PROCESSES))
def test_every_image_runs_as_a_non_root_user(name: str) -> None:
    dockerfile = dockerfile_of(name)
    keywords = [keyword for keyword, _ in dockerfile.instructions]
    assert dockerfile.last("USER") not in {"root", "0"}
    assert keywords.index("USER") < keywords.index("CMD")


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_migrating_services_ship_their_migrations(name: str) -> None:
    process = PROCESSES[name]
    copied = {arguments.split()[0] for arguments in dockerfile_of(name).all("COPY")}
    assert f"{process.folder}/migrations" in copied
    assert (ROOT / process.folder / "migrations" / "env.py").is_file()


@pytest.mark.parametrize("name", sorted(PROCESSES))
def test_every_environment_variable_is_read_by_that_processes_settings(name: str) -> None:
    fields = PROCESSES[name].settings.model_fields
    image_env = dockerfile_of(name).env()
    settings_env = [var for var in image_env if not var.startswith(RUNTIME_ENV_PREFIXES)]
    for variable in {*compose_environment(name), *settings_env}:
        assert variable.lower() in fields, f"{name}: nothing reads {variable}"


@pytest.mark.parametrize("name", sorted(PROCESSES))
def test_production_settings_accept_the_compose_environment(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    supplied = {
        "POSTGRES_PASSWORD": "not-a-real-password",
        "TRUSTED_ISSUERS": documented_trusted_issuers(),
        "EVENTS_SIGNING_SECRET": "not-a-real-secret-but-long-enough-0123456789",
        "PARTNERSHIP_AGREEMENT": str(EXAMPLE_AGREEMENT),
    }
    compose_env = compose_environment(name)
    interpolated = {key: interpolate(value, supplied) for key, value in compose_env.items()}
    # The agreement is mounted where PARTNERSHIP_AGREEMENT_FILE says: read it from its host path.
    (mount,) = [interpolate(v, supplied).split(":") for v in compose_service(name)["volumes"]]
    assert mount[1] == interpolated["PARTNERSHIP_AGREEMENT_FILE"]
    assert mount[2] == "ro"
    interpolated["PARTNERSHIP_AGREEMENT_FILE"] = mount[0]
    environment = dockerfile_of(name).env() | interpolated
    for variable, value in environment.items():
        monkeypatch.setenv(variable, value)

    settings = PROCESSES[name].settings()

    assert settings.environment is Environment.production
    assert not settings.dev_issuer_enabled
    assert [issuer.algorithms for issuer in settings.trusted_issuers] == [["RS256"]]
    if isinstance(settings, DatabaseSettings):
        assert settings.resolved_database_url().startswith("postgresql+psycopg://")


def test_secrets_and_issuers_must_be_supplied_rather_than_defaulted() -> None:
    references = list(INTERPOLATION.finditer(COMPOSE_FILE.read_text()))
    assert {m.group("name") for m in references} == {
        "POSTGRES_PASSWORD",
        "TRUSTED_ISSUERS",
        "EVENTS_SIGNING_SECRET",
        "PARTNERSHIP_AGREEMENT",
    }
    for reference in references:
        # `${VAR:?message}` stops `docker compose` when VAR is unset or empty.
        assert reference.group("modifier").startswith(":?"), reference.group(0)


@pytest.mark.parametrize("name", sorted(PROCESSES))
def test_ports_agree_between_compose_dockerfile_and_settings(name: str) -> None:
    dockerfile = dockerfile_of(name)
    default_port = PROCESSES[name].settings.model_fields["port"].default
    compose_port = int(compose_environment(name)["PORT"])
    image_healthcheck = dockerfile.last("HEALTHCHECK")
    compose_healthcheck = healthcheck_command(compose_service(name)["healthcheck"]["test"])

    assert compose_port == default_port
    assert int(dockerfile.env()["PORT"]) == compose_port
    assert [int(port) for port in dockerfile.all("EXPOSE")] == [compose_port]
    assert [int(port) for port in URL_PORT.findall(image_healthcheck)] == [compose_port]
    assert [int(port) for port in URL_PORT.findall(compose_healthcheck)] == [compose_port]
    # Listening on loopback only would make the port unreachable from the other containers.
    assert compose_environment(name)["HOST"] == dockerfile.env()["HOST"] == "0.0.0.0"  # noqa: S104


def test_gateway_upstream_urls_name_each_service_and_its_port() -> None:
    environment = compose_environment(GATEWAY)
    assert set(GATEWAY_UPSTREAM_URLS) <= set(environment)
    for variable, service in GATEWAY_UPSTREAM_URLS.items():
        url = urlsplit(environment[variable])
        assert url.hostname == service, variable
        assert url.port == int(compose_environment(service)["PORT"]), variable


def test_each_service_delivers_its_events_where_the_devstack_does() -> None:
    """The same receivers (by the same subscriber names) get the same event types as under
    `make run`, each at its own compose address: a route added to one is added to both."""
    stack = StackConfig(data_dir=ROOT / "data")  # only asked who subscribes: nothing is written
    for name in SERVICES:
        composed = json.loads(compose_environment(name).get("EVENT_SUBSCRIBERS", "[]"))
        expected = [
            {**s, "url": f"http://{s['name']}:{compose_environment(str(s['name']))['PORT']}/internal/events"}
            for s in stack.subscribers(name)
        ]
        assert composed == expected, name


def test_only_the_gateway_publishes_a_port() -> None:
    publishing = {name for name, service in COMPOSE["services"].items() if service.get("ports")}
    assert publishing == {GATEWAY}
    assert [str(port) for port in compose_service(GATEWAY)["ports"]] == ["8080:8080"]


def test_database_and_services_sit_on_an_internal_network_and_the_gateway_on_the_edge() -> None:
    networks = COMPOSE["networks"]
    internal = {name for name, config in networks.items() if (config or {}).get("internal")}
    # PostgreSQL has no route out at all.
    assert set(compose_service(POSTGRES_SERVICE)["networks"]) <= internal
    for name in SERVICES:
        assert set(compose_service(name)["networks"]) & internal, name
    gateway_networks = set(compose_service(GATEWAY)["networks"])
    assert gateway_networks - internal, "the gateway needs a non-internal network for clients"
    assert gateway_networks & internal, "the gateway must reach the services"


def test_services_wait_for_healthy_dependencies() -> None:
    for name, service in COMPOSE["services"].items():
        assert service.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
        depends_on = service.get("depends_on", {})
        assert isinstance(depends_on, dict), f"{name}: depends_on needs conditions"
        for dependency, condition in depends_on.items():
            assert condition == {"condition": "service_healthy"}, f"{name} -> {dependency}"
    for name in SERVICES:
        assert POSTGRES_SERVICE in compose_service(name)["depends_on"], name
    assert set(compose_service(GATEWAY)["depends_on"]) == set(SERVICES)
    postgres_check = compose_service(POSTGRES_SERVICE)["healthcheck"]["test"]
    assert "pg_isready" in healthcheck_command(postgres_check)


@pytest.mark.parametrize("name", sorted(PROCESSES))
def test_each_dockerfile_command_names_a_real_module(name: str) -> None:
    process = PROCESSES[name]
    command = dockerfile_of(name).command()
    modules = PYTHON_MODULE.findall(command)
    assert modules, command
    for module in modules:
        assert module == process.package, command
        assert (ROOT / process.folder / "src" / module / "__main__.py").is_file(), module
    if process.database:
        # Migrate first, and exec so the server is PID 1's child that receives SIGTERM.
        expected = f"python -m {process.package} migrate && exec python -m {process.package} serve"
        assert expected in command
    else:
        assert command == f"python -m {process.package} serve"


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_each_service_database_is_created_by_the_postgres_init_script(name: str) -> None:
    url = database_url_of(name)
    init_sql = POSTGRES_INIT_SQL.read_text()
    created = set(re.findall(r"CREATE DATABASE (\w+)", init_sql, re.IGNORECASE))
    assert url.hostname == POSTGRES_SERVICE
    assert url.path.lstrip("/") == PROCESSES[name].database
    assert PROCESSES[name].database in created
    init_mount = "./deploy/postgres/init.sql:/docker-entrypoint-initdb.d/"
    volumes = compose_service(POSTGRES_SERVICE)["volumes"]
    assert any(volume.startswith(init_mount) for volume in volumes)


def test_each_service_has_a_database_of_its_own() -> None:
    databases = [database_url_of(name).path for name in SERVICES]
    assert len(set(databases)) == len(SERVICES)
