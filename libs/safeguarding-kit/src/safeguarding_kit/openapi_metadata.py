"""What an integrator reads before any operation: where to send requests, who maintains
the API and under which licence, and a description of every path parameter.

The licence is the repository's LICENSE (MIT, the licence the UK government's service
manual recommends for code it publishes).
"""

from __future__ import annotations

from typing import Any

from safeguarding_kit.openapi_components import operations

Spec = dict[str, Any]

CONTACT: dict[str, str] = {
    "name": "The safeguarding platform's maintainers (issues and questions in the project's repository)",
}
LICENSE: dict[str, str] = {"name": "MIT License", "identifier": "MIT"}

GATEWAY_SERVERS: list[dict[str, Any]] = [
    {
        "url": "https://{gateway_host}",
        "description": "Your partnership's gateway: the only address integrators call.",
        "variables": {
            "gateway_host": {
                "default": "gateway.safeguarding.example",
                "description": "The host name your partnership publishes its gateway under.",
            }
        },
    },
    {"url": "http://127.0.0.1:8080", "description": "`make run` on your own machine (demo data)."},
]
SERVICE_SERVERS: list[dict[str, Any]] = [
    {
        "url": "/",
        "description": "This service where it runs; integrators call the same paths through the "
        "gateway (its spec is the platform's).",
    }
]


def add_metadata(spec: Spec, servers: list[dict[str, Any]]) -> None:
    """Contact, licence and ``servers``."""
    spec.setdefault("info", {}).update(contact=dict(CONTACT), license=dict(LICENSE))
    spec["servers"] = [dict(server) for server in servers]


def describe_path_parameters(spec: Spec) -> None:
    """A path parameter named ``<thing>_id`` without a description is "The id of the <thing>"."""
    for operation in operations(spec):
        for parameter in operation.get("parameters", []):
            name = str(parameter.get("name", ""))
            if parameter.get("in") == "path" and "description" not in parameter and name.endswith("_id"):
                parameter["description"] = f"The id of the {name.removesuffix('_id').replace('_', ' ')}."
