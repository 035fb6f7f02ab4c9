"""The Kubernetes manifests (deploy/kubernetes) say what docker-compose.yml says, on a cluster.

There is no cluster here or in CI, so each overlay is rendered with `kubectl kustomize` (kubectl
is installed on these machines and in CI), every object is checked against the Kubernetes 1.32
JSON schemas that kubernetes-validate ships, checkov's Kubernetes policies scan the result (a
failed check must be listed with its reason in deploy/kubernetes/checkov-skips.yaml), and the
tests below read the rendered objects as the specification reads: only the gateway is exposed,
containers are non-root and read-only, probes, requests and limits, autoscaling and disruption
budgets, no secret value in the manifests, migrations once per release, each service's outbox
relay a Deployment of its own (the service serving with its own relay off), NetworkPolicies
that deny by default and allow what the services and relays really call.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import kubernetes_validate  # type: ignore[import-untyped]  # ships no type hints
import pytest
import yaml
from sqlalchemy import create_engine, text

from api_gateway.settings import GatewaySettings
from devstack.stack import StackConfig
from meetings_api.settings import MeetingsSettings
from referral_api.database import MIGRATIONS_DIR as REFERRAL_MIGRATIONS
from referral_api.database import VERSION_TABLE as REFERRAL_VERSION_TABLE
from referral_api.settings import ReferralSettings
from risk_api.settings import RiskSettings
from safeguarding_kit.health import health_router
from safeguarding_kit.migrations import upgrade_to_head
from safeguarding_kit.settings import DatabaseSettings, Environment, ProcessSettings

ROOT = Path(__file__).resolve().parents[2]
KUBERNETES = ROOT / "deploy" / "kubernetes"
OVERLAYS = sorted(p.name for p in (KUBERNETES / "overlays").iterdir() if (p / "kustomization.yaml").is_file())
CHECKOV_SKIPS = KUBERNETES / "checkov-skips.yaml"
WAIT_FOR_SCHEMA = KUBERNETES / "base" / "wait_for_schema.py"
README = ROOT / "README.md"
EXAMPLE_AGREEMENT = ROOT / "deploy" / "partnership" / "example-production-agreement.yaml"
KUBECTL = shutil.which("kubectl")
KUBERNETES_VERSION = "1.32"  # kubectl's here and in CI

Obj = dict[str, Any]


@dataclass(frozen=True)
class Process:
    """One deployable: its Deployment, Service, image and settings."""

    name: str
    package: str
    settings: type[ProcessSettings]
    folder: str

    @property
    def port(self) -> int:
        port = self.settings.model_fields["port"].default
        assert isinstance(port, int)
        return port

    @property
    def has_database(self) -> bool:
        return issubclass(self.settings, DatabaseSettings)


PROCESSES = {
    p.name: p
    for p in (
        Process("gateway", "api_gateway", GatewaySettings, "gateway"),
        Process("referral-api", "referral_api", ReferralSettings, "services/referral-api"),
        Process("risk-api", "risk_api", RiskSettings, "services/risk-api"),
        Process("meetings-api", "meetings_api", MeetingsSettings, "services/meetings-api"),
    )
}
GATEWAY = "gateway"
SERVICES = sorted(name for name, p in PROCESSES.items() if p.has_database)
# Each service's outbox relay: a Deployment of its own, of the service's image and settings.
RELAYS = {f"{name}-relay": name for name in SERVICES}
RELAY = "relay"  # their pods' app.kubernetes.io/component
# Settings fields that hold a secret: they come from Secret objects, never from a literal.
SECRET_VARIABLES = {"DATABASE_URL", "EVENTS_SIGNING_SECRET", "RATE_LIMIT_STORAGE_URL"}
HEALTH_PATHS = {route.path for route in health_router({}).routes}  # type: ignore[attr-defined]
POSTGRESQL_PORT = 5432
REDIS_PORT = 6379
HTTPS_PORT = 443
DNS_PORT = 53
CLOUD_METADATA = ipaddress.ip_address("169.254.169.254")
TMP = "/tmp"  # noqa: S108 - the containers' one writable place, an emptyDir of their own
IN_CLUSTER_URL = re.compile(r"https?://([a-z0-9-]+):(\d+)")
CREDENTIALS_IN_URL = re.compile(r"[a-z+]+://[^\s/:@\"']*:[^\s/@\"']+@")


# --- rendering -------------------------------------------------------------------------------


@cache
def render(overlay: str) -> tuple[Obj, ...]:
    """The overlay's objects, as `kubectl kustomize` renders them (and `kubectl apply -k` applies)."""
    assert KUBECTL is not None
    result = subprocess.run(
        [KUBECTL, "kustomize", str(KUBERNETES / "overlays" / overlay)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return tuple(obj for obj in yaml.safe_load_all(result.stdout) if obj)


@dataclass(frozen=True)
class Overlay:
    name: str
    objects: tuple[Obj, ...]

    def of_kind(self, kind: str) -> list[Obj]:
        return [obj for obj in self.objects if obj["kind"] == kind]

    def named(self, kind: str, name: str) -> Obj:
        (found,) = [obj for obj in self.of_kind(kind) if obj["metadata"]["name"] == name]
        return found

    def workloads(self) -> list[Obj]:
        """Every object that runs pods: the Deployments and the migration Jobs."""
        return self.of_kind("Deployment") + self.of_kind("Job")

    def deployment(self, process: str) -> Obj:
        return self.named("Deployment", process)

    def config_map_data(self, name: str) -> dict[str, str]:
        data: dict[str, str] = self.named("ConfigMap", name).get("data", {})
        return data

    def generated(self, name: str) -> Obj:
        """The ConfigMap kustomize generated as `name` (its name carries a hash of its data)."""
        (found,) = [
            c
            for c in self.of_kind("ConfigMap")
            if re.fullmatch(rf"{name}-[a-z0-9]{{10}}", c["metadata"]["name"])
        ]
        return found


def require_kubectl() -> str:
    if KUBECTL is None:
        pytest.skip("kubectl is not installed: it renders deploy/kubernetes (installed here and in CI)")
    return KUBECTL


@pytest.fixture(params=OVERLAYS)
def overlay(request: pytest.FixtureRequest) -> Overlay:
    require_kubectl()
    name: str = request.param
    return Overlay(name, render(name))


@pytest.fixture
def production() -> Overlay:
    require_kubectl()
    return Overlay("production", render("production"))


def pod_spec(workload: Obj) -> Obj:
    spec: Obj = workload["spec"]["template"]["spec"]
    return spec


def pod_labels(workload: Obj) -> dict[str, str]:
    labels: dict[str, str] = workload["spec"]["template"]["metadata"]["labels"]
    return labels


def containers(workload: Obj) -> list[Obj]:
    spec = pod_spec(workload)
    return [*spec.get("initContainers", []), *spec["containers"]]


def main_container(workload: Obj) -> Obj:
    container: Obj
    (container,) = pod_spec(workload)["containers"]
    return container


def process_of(workload: Obj) -> Process:
    return PROCESSES[pod_labels(workload)["app.kubernetes.io/name"]]


def image_tag(image: str) -> str:
    repository, _, tag = image.rpartition(":")
    assert repository, f"{image}: no tag"
    assert "/" not in tag, f"{image}: no tag"
    return tag


def dockerfile_user(process: Process) -> str:
    users = re.findall(r"^USER\s+(\S+)", (ROOT / process.folder / "Dockerfile").read_text(), re.MULTILINE)
    assert users, f"{process.folder}/Dockerfile has no USER"
    return str(users[-1])


def dockerfile_env(process: Process) -> dict[str, str]:
    """The image's ENV, as the container starts with it (continuation lines joined)."""
    joined = (ROOT / process.folder / "Dockerfile").read_text().replace("\\\n", " ")
    env: dict[str, str] = {}
    for line in re.findall(r"^ENV\s+(.+)$", joined, re.MULTILINE):
        for assignment in line.split():
            name, _, value = assignment.partition("=")
            env[name] = value
    return env


# --- schemas and policies --------------------------------------------------------------------


def test_every_overlay_renders_the_gateway_the_services_their_relays_and_migrations(overlay: Overlay) -> None:
    assert {d["metadata"]["name"] for d in overlay.of_kind("Deployment")} == set(PROCESSES) | set(RELAYS)
    assert {process_of(job).name for job in overlay.of_kind("Job")} == set(SERVICES)
    # PostgreSQL and Redis are the cluster's dependencies, never deployed here.
    for obj in overlay.objects:
        if obj["kind"] in {"Deployment", "StatefulSet", "Job"}:
            for container in containers(obj):
                assert not re.search(r"postgres|redis", container["image"]), container["image"]
    assert not overlay.of_kind("StatefulSet")
    assert not overlay.of_kind("PersistentVolumeClaim")


def test_every_rendered_object_is_valid_against_the_kubernetes_schemas(overlay: Overlay) -> None:
    invalid = []
    for obj in overlay.objects:
        try:
            # Strict: a field the schema does not know (a typo) is an error, not ignored.
            used = kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            invalid.append(f"{obj['kind']}/{obj['metadata']['name']}: {exc}")
            continue
        assert used == KUBERNETES_VERSION, f"schemas of {used}, not {KUBERNETES_VERSION}"
    assert not invalid, "\n".join(invalid)
    assert len(overlay.objects) >= 30


def test_the_schema_validator_refuses_a_misspelt_field(production: Overlay) -> None:
    deployment = json.loads(json.dumps(production.deployment(GATEWAY)))
    main_container(deployment)["imagePullPolcy"] = "Always"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


def read_checkov_skips() -> dict[str, str]:
    skips: dict[str, str] = {}
    for entry in yaml.safe_load(CHECKOV_SKIPS.read_text()):
        assert set(entry) == {"id", "check", "reason"}, entry
        assert len(entry["reason"]) > 80, f"{entry['id']}: say why the check does not apply"
        skips[entry["id"]] = entry["check"]
    return skips


@pytest.fixture(scope="module")
def checkov_report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """checkov's Kubernetes checks over every overlay, as rendered, in one run (no network)."""
    require_kubectl()
    rendered = tmp_path_factory.mktemp("rendered")
    for name in OVERLAYS:
        (rendered / f"{name}.yaml").write_text(yaml.safe_dump_all(render(name), sort_keys=False))
    result = subprocess.run(
        [
            *(sys.executable, "-m", "checkov.main"),
            *("--directory", str(rendered), "--framework", "kubernetes"),
            # Nothing from the vendor's servers: the checks are the installed package's.
            *("--skip-download", "--quiet", "--compact", "--output", "json"),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
        cwd=rendered,
    )
    assert result.returncode in {0, 1}, result.stderr[-3000:]
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def test_checkov_fails_no_check_but_the_documented_skips(checkov_report: dict[str, Any]) -> None:
    skips = read_checkov_skips()
    summary = checkov_report["summary"]
    failed = checkov_report["results"]["failed_checks"] if summary["failed"] else []
    assert summary["parsing_errors"] == 0
    assert summary["resource_count"] >= 40, summary
    assert summary["passed"] > 500, summary
    unexplained = sorted(
        f"{check['check_id']} {check['check_name']}: {check['file_path']} {check['resource']}"
        for check in failed
        if check["check_id"] not in skips
    )
    assert not unexplained, "list each in checkov-skips.yaml with its reason:\n" + "\n".join(unexplained)
    stale = set(skips) - {check["check_id"] for check in failed}
    assert not stale, f"no longer failing, remove from checkov-skips.yaml: {sorted(stale)}"


# --- exposure --------------------------------------------------------------------------------


def test_only_the_gateway_is_reachable_from_outside_the_cluster(overlay: Overlay) -> None:
    for service in overlay.of_kind("Service"):
        spec = service["spec"]
        assert spec.get("type", "ClusterIP") == "ClusterIP", service["metadata"]["name"]
        assert not spec.get("externalIPs"), service["metadata"]["name"]
    (ingress,) = overlay.of_kind("Ingress")
    backends = {
        (path["backend"]["service"]["name"], path["backend"]["service"]["port"]["name"])
        for rule in ingress["spec"]["rules"]
        for path in rule["http"]["paths"]
    }
    assert backends == {(GATEWAY, "http")}
    assert ingress["spec"]["tls"], "the Ingress serves HTTPS only"
    # The API, its spec and docs; health and metrics stay inside the cluster.
    paths = {path["path"] for rule in ingress["spec"]["rules"] for path in rule["http"]["paths"]}
    assert not paths & HEALTH_PATHS
    assert "/" not in paths
    for workload in overlay.workloads():
        spec = pod_spec(workload)
        assert not {"hostNetwork", "hostPID", "hostIPC"} & set(spec)
        for container in containers(workload):
            assert all("hostPort" not in port for port in container.get("ports", []))


def test_every_process_is_served_on_its_settings_port(overlay: Overlay) -> None:
    for name, process in PROCESSES.items():
        deployment = overlay.deployment(name)
        (port,) = main_container(deployment)["ports"]
        assert port == {"name": "http", "containerPort": process.port}
        service = overlay.named("Service", name)
        assert service["spec"]["ports"] == [{"name": "http", "port": process.port, "targetPort": "http"}]
        # The Service sends to the Deployment's pods only, never to a migration Job's.
        assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
        assert pod_labels(deployment)["app.kubernetes.io/component"] != "migrations"
    for name, service_name in RELAYS.items():
        relay = overlay.deployment(name)
        # Its health and metrics on the service's port; no Service sends it anything.
        (port,) = main_container(relay)["ports"]
        assert port == {"name": "http", "containerPort": PROCESSES[service_name].port}
        assert pod_labels(relay) == {
            **pod_labels(overlay.deployment(service_name)),
            "app.kubernetes.io/component": RELAY,
        }
        for service in overlay.of_kind("Service"):
            assert not selects({"matchLabels": service["spec"]["selector"]}, pod_labels(relay)), name


# --- containers ------------------------------------------------------------------------------


def test_every_container_runs_as_the_images_non_root_user_on_a_read_only_root(overlay: Overlay) -> None:
    for workload in overlay.workloads():
        process = process_of(workload)
        spec = pod_spec(workload)
        owner = f"{workload['kind']}/{workload['metadata']['name']}"
        assert spec["automountServiceAccountToken"] is False, owner
        # No REFERRAL_API_PORT=tcp://... and the like beside the settings' own variables.
        assert spec["enableServiceLinks"] is False, owner
        assert spec["serviceAccountName"] == process.name, owner
        assert spec["securityContext"]["runAsNonRoot"] is True, owner
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, owner
        user, _, group = dockerfile_user(process).partition(":")
        assert user.isdigit(), f"{process.folder}/Dockerfile: USER by number, so runAsNonRoot can check it"
        assert int(user) >= 10000, f"{process.folder}/Dockerfile: a user id clear of the host's"
        writable = {volume["name"] for volume in spec["volumes"] if "emptyDir" in volume}
        for container in containers(workload):
            context = container["securityContext"]
            where = f"{owner} {container['name']}"
            assert context["runAsNonRoot"] is True, where
            assert (str(context["runAsUser"]), str(context["runAsGroup"])) == (user, group), where
            assert context["readOnlyRootFilesystem"] is True, where
            assert context["allowPrivilegeEscalation"] is False, where
            assert context.get("privileged", False) is False, where
            assert context["capabilities"] == {"drop": ["ALL"]}, where
            assert context["seccompProfile"] == {"type": "RuntimeDefault"}, where
            mounts = {mount["mountPath"]: mount for mount in container.get("volumeMounts", [])}
            # The one writable place is /tmp, an emptyDir; everything else is mounted read-only.
            assert mounts[TMP]["name"] in writable, where
            for path, mount in mounts.items():
                assert path == TMP or mount.get("readOnly") is True, f"{where}: {path}"
    for account in overlay.of_kind("ServiceAccount"):
        assert account["automountServiceAccountToken"] is False


def test_every_container_has_cpu_and_memory_requests_and_limits(overlay: Overlay) -> None:
    for workload in overlay.workloads():
        for container in containers(workload):
            where = f"{workload['metadata']['name']} {container['name']}"
            resources = container["resources"]
            for resource in ("cpu", "memory"):
                request = quantity(resources["requests"][resource])
                limit = quantity(resources["limits"][resource])
                assert 0 < request <= limit, f"{where}: {resource}"


def quantity(value: str | int) -> float:
    """A Kubernetes quantity (250m, 1, 256Mi) as a number."""
    units = {"m": 1e-3, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "k": 1e3, "M": 1e6, "G": 1e9}
    match = re.fullmatch(r"([0-9.]+)([A-Za-z]*)", str(value))
    assert match, value
    number, unit = match.groups()
    return float(number) * (units[unit] if unit else 1)


def test_every_image_is_its_own_process_at_a_pinned_tag(overlay: Overlay) -> None:
    for workload in overlay.workloads():
        process = process_of(workload)
        for container in containers(workload):
            image = container["image"]
            repository = image.rpartition(":")[0]
            assert repository.endswith(f"/safeguarding/{process.name}"), image
            assert image_tag(image) not in {"", "latest"}, image
            assert container["imagePullPolicy"] == "Always", image


# --- probes ----------------------------------------------------------------------------------


def test_every_deployment_is_probed_on_the_kits_health_paths(overlay: Overlay) -> None:
    assert {"/healthz", "/readyz"} <= HEALTH_PATHS
    for name in [*PROCESSES, *RELAYS]:
        container = main_container(overlay.deployment(name))
        probes = {
            kind: container[kind]["httpGet"] for kind in ("startupProbe", "livenessProbe", "readinessProbe")
        }
        assert {probe["port"] for probe in probes.values()} == {"http"}, name
        # Alive: the process answers. Restarting it mends nothing a dependency broke.
        assert probes["startupProbe"]["path"] == probes["livenessProbe"]["path"] == "/healthz", name
        # Ready: a service whose database does not answer takes no requests. The gateway's
        # /readyz asks every service, and would take the whole platform off the Ingress when one
        # service is down: it stays in on /healthz and answers that service's routes with 503.
        expected = "/healthz" if name == GATEWAY else "/readyz"
        assert probes["readinessProbe"]["path"] == expected, name


# --- scaling ---------------------------------------------------------------------------------


def test_every_deployment_is_autoscaled_and_has_a_disruption_budget(overlay: Overlay) -> None:
    for name in [*PROCESSES, *RELAYS]:
        deployment = overlay.deployment(name)
        assert "replicas" not in deployment["spec"], f"{name}: the autoscaler owns the count"
        assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
        (autoscaler,) = [
            hpa
            for hpa in overlay.of_kind("HorizontalPodAutoscaler")
            if hpa["spec"]["scaleTargetRef"]["name"] == name
        ]
        assert autoscaler["apiVersion"] == "autoscaling/v2"
        assert autoscaler["spec"]["scaleTargetRef"]["kind"] == "Deployment"
        assert 1 <= autoscaler["spec"]["minReplicas"] < autoscaler["spec"]["maxReplicas"]
        if overlay.name == "production":
            assert autoscaler["spec"]["minReplicas"] >= 2, f"{name}: one pod can always be drained"
        assert [m["resource"]["name"] for m in autoscaler["spec"]["metrics"]] == ["cpu"]
        (budget,) = [
            pdb
            for pdb in overlay.of_kind("PodDisruptionBudget")
            if pdb["spec"]["selector"] == deployment["spec"]["selector"]
        ]
        assert budget["apiVersion"] == "policy/v1"
        assert budget["spec"]["maxUnavailable"] == 1


def test_several_gateway_replicas_share_rate_limits_in_redis(overlay: Overlay) -> None:
    env = {var["name"]: var for var in main_container(overlay.deployment(GATEWAY))["env"]}
    assert "secretKeyRef" in env["RATE_LIMIT_STORAGE_URL"]["valueFrom"]
    documented = deploy_section()
    assert "async+redis://" in documented


# --- secrets and configuration ---------------------------------------------------------------


def test_no_secret_value_appears_in_the_manifests(overlay: Overlay) -> None:
    assert not overlay.of_kind("Secret"), "Secrets are created in the cluster, never rendered from here"
    text_of_everything = yaml.safe_dump_all(overlay.objects)
    assert not CREDENTIALS_IN_URL.search(text_of_everything)
    assert "PRIVATE KEY" not in text_of_everything
    for config_map in overlay.of_kind("ConfigMap"):
        assert not SECRET_VARIABLES & set(config_map.get("data", {})), config_map["metadata"]["name"]
    for workload in overlay.workloads():
        for container in containers(workload):
            assert all("secretRef" not in source for source in container.get("envFrom", []))
            for variable in container.get("env", []):
                if variable["name"] in SECRET_VARIABLES:
                    assert set(variable) == {"name", "valueFrom"}, variable
                    assert set(variable["valueFrom"]) == {"secretKeyRef"}, variable


def secret_references(overlay: Overlay) -> set[tuple[str, str]]:
    return {
        (variable["valueFrom"]["secretKeyRef"]["name"], variable["valueFrom"]["secretKeyRef"]["key"])
        for workload in overlay.workloads()
        for container in containers(workload)
        for variable in container.get("env", [])
        if "secretKeyRef" in variable.get("valueFrom", {})
    }


def deploy_section() -> str:
    readme = README.read_text()
    start = readme.index("## Deploy to a cluster")
    end = readme.find("\n## ", start + 1)
    return readme[start : end if end != -1 else len(readme)]


def test_every_secret_and_key_the_manifests_name_is_created_in_the_readme(overlay: Overlay) -> None:
    documented = deploy_section()
    for name, key in sorted(secret_references(overlay)):
        creation = re.search(
            rf"kubectl [^\n]*create secret generic {re.escape(name)} [^\n]*--from-literal={key}=", documented
        )
        assert creation, f"README.md, Deploy to a cluster: create Secret {name} with key {key}"
    (ingress,) = overlay.of_kind("Ingress")
    for tls in ingress["spec"]["tls"]:
        assert f"create secret tls {tls['secretName']}" in documented
    for key in partnership_keys(overlay):
        assert re.search(rf"create configmap partnership[^`]*--from-file={re.escape(key)}=", documented), key


def partnership_keys(overlay: Overlay) -> set[str]:
    """The keys of the `partnership` ConfigMap (created in the cluster) the containers read."""
    keys = set()
    for workload in overlay.workloads():
        for container in containers(workload):
            for variable in container.get("env", []):
                reference = variable.get("valueFrom", {}).get("configMapKeyRef")
                if reference:
                    assert reference["name"] == "partnership"
                    keys.add(reference["key"])
    keys.add(Path(overlay.generated("platform-config")["data"]["PARTNERSHIP_AGREEMENT_FILE"]).name)
    return keys


def documented_trusted_issuers() -> str:
    """The trusted-issuers.json the README shows."""
    match = re.search(r"```json\n(.*?)```", deploy_section(), re.DOTALL)
    assert match, "README.md, Deploy to a cluster: show an example trusted-issuers.json"
    return match.group(1)


def container_environment(overlay: Overlay, workload: Obj, container: Obj) -> dict[str, str]:
    """The environment the container starts with: the image's, the ConfigMaps', the Secrets'
    (invented values) and the partnership ConfigMap's (the example agreement and issuers)."""
    process = process_of(workload)
    environment = dockerfile_env(process)
    for source in container.get("envFrom", []):
        environment |= overlay.config_map_data(source["configMapRef"]["name"])
    invented = {
        "url": "postgresql+psycopg://invented:invented@db.internal.example:5432/invented",
        "signing-secret": "invented-but-long-enough-0123456789abcdef",
        "storage-url": "async+redis://redis.internal.example:6379/0",
    }
    for variable in container.get("env", []):
        source = variable.get("valueFrom", {})
        if "secretKeyRef" in source:
            environment[variable["name"]] = invented[source["secretKeyRef"]["key"]]
        elif "configMapKeyRef" in source:
            assert source["configMapKeyRef"]["key"] == "trusted-issuers.json"
            environment[variable["name"]] = documented_trusted_issuers()
        else:
            environment[variable["name"]] = variable["value"]
    return environment


def test_production_settings_accept_each_containers_configuration(
    overlay: Overlay, monkeypatch: pytest.MonkeyPatch
) -> None:
    for workload in overlay.workloads():
        process = process_of(workload)
        container = main_container(workload)
        environment = container_environment(overlay, workload, container)
        fields = process.settings.model_fields
        runtime = ("PYTHON", "PIP_")
        unread = [v for v in environment if v.lower() not in fields and not v.startswith(runtime)]
        assert not unread, f"{process.name}: nothing reads {unread}"
        # The agreement is where the partnership ConfigMap is mounted: read the example from its path.
        agreement = Path(environment["PARTNERSHIP_AGREEMENT_FILE"])
        mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
        volumes = {v["name"]: v for v in pod_spec(workload)["volumes"]}
        assert volumes[mounts[str(agreement.parent)]]["configMap"]["name"] == "partnership"
        environment["PARTNERSHIP_AGREEMENT_FILE"] = str(EXAMPLE_AGREEMENT)
        with monkeypatch.context() as patched:
            for variable, value in environment.items():
                patched.setenv(variable, value)
            settings = process.settings()
        assert settings.environment is Environment.production
        assert not settings.dev_issuer_enabled
        assert settings.host == "0.0.0.0"  # noqa: S104 - reachable from the other pods
        assert settings.port == process.port
        if isinstance(settings, DatabaseSettings):
            assert settings.resolved_database_url().startswith("postgresql")


# --- migrations ------------------------------------------------------------------------------


def test_migrations_run_once_per_release_in_a_job_named_for_the_release(overlay: Overlay) -> None:
    for name in SERVICES:
        process = PROCESSES[name]
        deployment = overlay.deployment(name)
        image = main_container(deployment)["image"]
        (job,) = [job for job in overlay.of_kind("Job") if process_of(job) is process]
        migrate = main_container(job)
        assert migrate["command"] == ["python", "-m", process.package, "migrate"]
        assert migrate["image"] == image
        # A new release's tag makes a new Job; the same release applied again leaves it be.
        assert job["metadata"]["name"] == f"{name}-migrate-{image_tag(image)}"
        assert pod_labels(job)["app.kubernetes.io/component"] == "migrations"
        assert pod_spec(job)["restartPolicy"] == "Never"
        assert 0 < job["spec"]["backoffLimit"] <= 5
        assert job["spec"]["activeDeadlineSeconds"] > 0
        # The service serves only: the image's own command would migrate at every pod's start.
        assert main_container(deployment)["command"] == ["python", "-m", process.package, "serve"]
        (wait,) = pod_spec(deployment)["initContainers"]
        assert wait["image"] == image
        assert wait["command"] == [
            "python",
            "/etc/safeguarding/migrations/wait_for_schema.py",
            process.package,
        ]
        # Its relay runs the same image, once the schema is at head, as a process of its own;
        # the service's own pods leave the outbox to it.
        relay = overlay.deployment(f"{name}-relay")
        assert main_container(relay)["command"] == ["python", "-m", process.package, "relay"]
        assert main_container(relay)["image"] == image
        (relay_wait,) = pod_spec(relay)["initContainers"]
        assert relay_wait["command"] == wait["command"]
        serving = {v["name"]: v.get("value") for v in main_container(deployment)["env"]}
        assert serving["EVENTS_RELAY_ENABLED"] == "false"
        assert "EVENTS_RELAY_ENABLED" not in {v["name"] for v in main_container(relay)["env"]}
    gateway = overlay.deployment(GATEWAY)
    assert main_container(gateway)["command"] == ["python", "-m", "api_gateway", "serve"]
    for workload in overlay.workloads():
        if workload["kind"] == "Deployment":
            assert all("migrate" not in container["command"] for container in containers(workload))


def test_the_services_wait_for_the_script_this_repository_holds(overlay: Overlay) -> None:
    config_map = overlay.generated("wait-for-schema")
    assert config_map["data"] == {"wait_for_schema.py": WAIT_FOR_SCHEMA.read_text()}


def run_wait_for_schema(database_url: str, timeout: float) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "DATABASE_URL": database_url, "WAIT_FOR_SCHEMA_POLL_SECONDS": "0.2"}
    return subprocess.run(
        [sys.executable, str(WAIT_FOR_SCHEMA), "referral_api"],
        capture_output=True,
        text=True,
        env=environment,
        timeout=timeout,
        check=False,
    )


def test_a_services_pods_wait_until_the_migration_job_has_brought_the_schema_to_head(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'referral.db'}"
    with pytest.raises(subprocess.TimeoutExpired) as waiting:
        run_wait_for_schema(url, timeout=8)
    assert "waiting for the migration Job" in str(waiting.value.stdout)

    upgrade_to_head(REFERRAL_MIGRATIONS, url, REFERRAL_VERSION_TABLE)
    done = run_wait_for_schema(url, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "schema at" in done.stdout

    # Rolled back to an earlier image: the newer schema (a revision it does not know) lets it start.
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text(f"UPDATE {REFERRAL_VERSION_TABLE} SET version_num = 'f00dfeedbeef'"))  # noqa: S608
    engine.dispose()
    rolled_back = run_wait_for_schema(url, timeout=60)
    assert rolled_back.returncode == 0, rolled_back.stderr
    assert "newer than this release's" in rolled_back.stdout


# --- network ---------------------------------------------------------------------------------


def selects(selector: Obj, labels: dict[str, str]) -> bool:
    """Whether a Kubernetes label selector matches these labels."""
    if any(labels.get(key) != value for key, value in selector.get("matchLabels", {}).items()):
        return False
    for expression in selector.get("matchExpressions", []):
        key, operator, values = expression["key"], expression["operator"], expression.get("values", [])
        matched = {
            "In": labels.get(key) in values,
            "NotIn": labels.get(key) not in values,
            "Exists": key in labels,
            "DoesNotExist": key not in labels,
        }[operator]
        if not matched:
            return False
    return True


def rule_ports(rule: Obj) -> Iterator[tuple[str, int | None]]:
    for port in rule.get("ports") or [{"protocol": "TCP"}]:
        yield port.get("protocol", "TCP"), port.get("port")


def allows_port(rule: Obj, port: int, protocol: str = "TCP") -> bool:
    return any(p == protocol and (number is None or number == port) for p, number in rule_ports(rule))


def policies_for(overlay: Overlay, labels: dict[str, str], direction: str) -> list[Obj]:
    return [
        policy
        for policy in overlay.of_kind("NetworkPolicy")
        if direction in policy["spec"]["policyTypes"] and selects(policy["spec"]["podSelector"], labels)
    ]


def same_namespace_peer_matches(peer: Obj, labels: dict[str, str]) -> bool:
    return "namespaceSelector" not in peer and "ipBlock" not in peer and selects(peer["podSelector"], labels)


def pod_may_connect(overlay: Overlay, source: dict[str, str], target: dict[str, str], port: int) -> bool:
    """Both ends' policies let `source` open a TCP connection to `target` on `port`."""
    egress = any(
        allows_port(rule, port)
        and any(same_namespace_peer_matches(peer, target) for peer in rule.get("to", []))
        for policy in policies_for(overlay, source, "Egress")
        for rule in policy["spec"].get("egress", [])
    )
    ingress = any(
        allows_port(rule, port)
        and any(same_namespace_peer_matches(peer, source) for peer in rule.get("from", []))
        for policy in policies_for(overlay, target, "Ingress")
        for rule in policy["spec"].get("ingress", [])
    )
    return egress and ingress


def egress_blocks(overlay: Overlay, labels: dict[str, str], port: int) -> list[Obj]:
    """The ipBlocks the pod may reach on `port` (outside the cluster's pods)."""
    return [
        peer["ipBlock"]
        for policy in policies_for(overlay, labels, "Egress")
        for rule in policy["spec"].get("egress", [])
        if allows_port(rule, port)
        for peer in rule.get("to", [])
        if "ipBlock" in peer
    ]


def calls_in_configuration(overlay: Overlay, workload: Obj) -> set[tuple[str, int]]:
    """The (Service, port) pairs a process's configuration names that it calls: the upstream
    URLs of a service or the gateway, the event subscribers of a relay (a service serving with
    its own relay off sends no events)."""
    container = main_container(workload)
    relay = pod_labels(workload)["app.kubernetes.io/component"] == RELAY
    relaying = (
        relay
        or {v["name"]: v.get("value") for v in container.get("env", [])}.get("EVENTS_RELAY_ENABLED")
        != "false"
    )
    calls = set()
    for source in container.get("envFrom", []):
        for key, value in overlay.config_map_data(source["configMapRef"]["name"]).items():
            if (key == "EVENT_SUBSCRIBERS" and relaying) or (key != "EVENT_SUBSCRIBERS" and not relay):
                calls |= {(host, int(port)) for host, port in IN_CLUSTER_URL.findall(value)}
    return calls


def test_each_service_delivers_its_events_where_the_devstack_does(overlay: Overlay) -> None:
    """The same receivers (by the same subscriber names) get the same event types as under
    `make run`, each at its in-cluster Service: a route added to one is added to both."""
    stack = StackConfig(data_dir=ROOT / "data")  # only asked who subscribes: nothing is written
    for name in SERVICES:
        configured = overlay.generated(f"{name}-config").get("data", {}).get("EVENT_SUBSCRIBERS", "[]")
        expected = [
            {**s, "url": f"http://{s['name']}:{PROCESSES[str(s['name'])].port}/internal/events"}
            for s in stack.subscribers(name)
        ]
        assert json.loads(configured) == expected, name


def test_network_policies_deny_every_pod_by_default(overlay: Overlay) -> None:
    deny_all = [
        policy
        for policy in overlay.of_kind("NetworkPolicy")
        if policy["spec"]["podSelector"] == {}
        and set(policy["spec"]["policyTypes"]) == {"Ingress", "Egress"}
        and not policy["spec"].get("ingress")
        and not policy["spec"].get("egress")
    ]
    assert len(deny_all) == 1
    for workload in overlay.workloads():
        labels = pod_labels(workload)
        assert policies_for(overlay, labels, "Ingress")
        assert policies_for(overlay, labels, "Egress")
        # Every pod may ask the cluster DNS, and nothing else is open to all of them.
        dns = [
            peer
            for policy in policies_for(overlay, labels, "Egress")
            for rule in policy["spec"].get("egress", [])
            if allows_port(rule, DNS_PORT, "UDP") and allows_port(rule, DNS_PORT, "TCP")
            for peer in rule["to"]
        ]
        assert dns
        assert all(peer["podSelector"] == {"matchLabels": {"k8s-app": "kube-dns"}} for peer in dns)


def test_pods_reach_each_other_only_where_their_configuration_calls(overlay: Overlay) -> None:
    deployments = {name: overlay.deployment(name) for name in [*PROCESSES, *RELAYS]}
    expected = {
        (name, host, port)
        for name, d in deployments.items()
        for host, port in calls_in_configuration(overlay, d)
    }
    # Each named Service is one of ours, on its process's port.
    assert {(host, port) for _, host, port in expected} <= {(n, p.port) for n, p in PROCESSES.items()}
    allowed = {
        (source, target, PROCESSES[target].port)
        for source, source_deployment in deployments.items()
        for target in PROCESSES
        if source != target
        and pod_may_connect(
            overlay, pod_labels(source_deployment), pod_labels(deployments[target]), PROCESSES[target].port
        )
    }
    assert allowed == expected
    assert expected >= {
        (GATEWAY, "referral-api", 8101),
        (GATEWAY, "risk-api", 8102),
        (GATEWAY, "meetings-api", 8103),
        ("meetings-api", "referral-api", 8101),
        ("meetings-api", "risk-api", 8102),
        # Events go from each relay, never from the service's own pods.
        ("referral-api-relay", "risk-api", 8102),
        ("referral-api-relay", "meetings-api", 8103),
        ("risk-api-relay", "meetings-api", 8103),
        ("risk-api-relay", "referral-api", 8101),
        ("meetings-api-relay", "referral-api", 8101),
    }
    assert not {("risk-api", "meetings-api", 8103), ("risk-api", "referral-api", 8101)} & allowed
    for job in overlay.of_kind("Job"):
        for target in deployments.values():
            assert not pod_may_connect(overlay, pod_labels(job), pod_labels(target), process_of(target).port)


def test_only_the_gateway_takes_connections_from_outside_the_namespace(overlay: Overlay) -> None:
    for workload in overlay.workloads():
        outside = [
            peer
            for policy in policies_for(overlay, pod_labels(workload), "Ingress")
            for rule in policy["spec"].get("ingress", [])
            for peer in rule.get("from") or [{"anywhere": True}]
            if not ("podSelector" in peer and "namespaceSelector" not in peer)
        ]
        if workload["kind"] == "Deployment" and process_of(workload).name == GATEWAY:
            assert outside == [
                {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}}
            ]
        else:
            assert not outside, workload["metadata"]["name"]


def test_only_the_services_and_their_migrations_reach_postgresql(overlay: Overlay) -> None:
    for workload in overlay.workloads():
        labels = pod_labels(workload)
        database = egress_blocks(overlay, labels, POSTGRESQL_PORT)
        if process_of(workload).has_database:
            assert database, workload["metadata"]["name"]
            # A managed database or an operator's cluster, at a private address.
            assert all(ipaddress.ip_network(block["cidr"]).is_private for block in database)
        else:
            assert not database, "the gateway has no database"


def test_only_the_gateway_reaches_redis(overlay: Overlay) -> None:
    for workload in overlay.workloads():
        redis = egress_blocks(overlay, pod_labels(workload), REDIS_PORT)
        gateway = workload["kind"] == "Deployment" and process_of(workload).name == GATEWAY
        assert bool(redis) == gateway, workload["metadata"]["name"]


def test_https_goes_out_to_public_addresses_never_to_cloud_metadata(overlay: Overlay) -> None:
    for workload in overlay.workloads():
        blocks = egress_blocks(overlay, pod_labels(workload), HTTPS_PORT)
        if workload["kind"] == "Job":
            assert not blocks, "a migration needs its database only"
            continue
        # Issuers' JWKS for every process; partner webhooks for the services.
        assert blocks, workload["metadata"]["name"]
        for block in blocks:
            network = ipaddress.ip_network(block["cidr"])
            excepted = [ipaddress.ip_network(cidr) for cidr in block.get("except", [])]
            if network.version == CLOUD_METADATA.version:
                assert any(CLOUD_METADATA in e for e in excepted)
            for private in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"):
                candidate = ipaddress.ip_network(private)
                if candidate.version == network.version:
                    assert any(candidate.subnet_of(e) for e in excepted), (block, private)  # type: ignore[arg-type]


# --- namespace -------------------------------------------------------------------------------


def test_the_overlay_puts_everything_in_one_namespace_that_enforces_the_restricted_profile(
    overlay: Overlay,
) -> None:
    (namespace,) = overlay.of_kind("Namespace")
    labels = namespace["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    name = namespace["metadata"]["name"]
    for obj in overlay.objects:
        if obj["kind"] != "Namespace":
            assert obj["metadata"]["namespace"] == name, obj["metadata"]["name"]
            assert obj["metadata"]["labels"]["app.kubernetes.io/part-of"] == "safeguarding"
    public_base_url = overlay.generated("meetings-api-config")["data"]["PUBLIC_BASE_URL"]
    (ingress,) = overlay.of_kind("Ingress")
    # Calendar feed addresses are built on the address the Ingress serves.
    assert urlsplit(public_base_url).hostname == ingress["spec"]["rules"][0]["host"]
    assert urlsplit(public_base_url).scheme == "https"
