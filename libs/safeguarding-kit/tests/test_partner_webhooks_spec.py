"""The spec's `webhooks`: every event type a service publishes to partners is described
with the schema of what the relay really sends, the signature headers a partner checks,
and an example that validates and whose signature verifies; and every service names its
shared paths and operations one way."""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest
from fastapi import FastAPI
from pydantic import ConfigDict, Field

from safeguarding_kit.auth.principal import AgencyType
from safeguarding_kit.cloudevents import EventData
from safeguarding_kit.db import Database, service_metadata, utc_now
from safeguarding_kit.events import (
    WEBHOOK_ID,
    WEBHOOK_SIGNATURE,
    WEBHOOK_TIMESTAMP,
    EventTables,
    Outbox,
    RelayPolicy,
    delivery_body,
    event_tables,
    relay_once,
    verify_signature,
)
from safeguarding_kit.openapi import install_problem_openapi
from safeguarding_kit.service_label import ServiceLabel
from safeguarding_kit.throwaway_database import provisioned_database
from safeguarding_kit.webhooks.contract import delivery_errors, delivery_validator, webhook_example_errors
from safeguarding_kit.webhooks.published import PartnerEvents
from safeguarding_kit.webhooks.spec import EXAMPLE_SECRET, EXAMPLE_TIME

CHILD = "7f1f4c8e-0f7e-4c38-9a0e-0b9f1f7f3a11"


class CaseOpened(EventData):
    """A case was opened.

    Told to every partner that may see the child."""

    event_type: ClassVar[str] = "case.opened"
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"child_id": CHILD, "opened_by": "police", "from": None}]}
    )

    child_id: uuid.UUID
    opened_by: AgencyType
    from_case: uuid.UUID | None = Field(None, alias="from")

    def subject(self) -> str:
        return str(self.child_id)


class CaseClosed(EventData):
    """A case was closed."""

    event_type: ClassVar[str] = "case.closed"
    model_config = ConfigDict(json_schema_extra={"examples": [{"child_id": CHILD}]})

    child_id: uuid.UUID

    def subject(self) -> str:
        return str(self.child_id)


SAMPLE = PartnerEvents(ServiceLabel("sample"), (CaseOpened, CaseClosed))


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    app = FastAPI(title="Sample", version="1")
    install_problem_openapi(app, SAMPLE)
    return app.openapi()


def example_of(spec: dict[str, Any], event_type: str) -> tuple[dict[str, str], dict[str, Any]]:
    operation = spec["webhooks"][event_type]["post"]
    headers = {p["name"]: p["example"] for p in operation["parameters"] if p["in"] == "header"}
    return headers, operation["requestBody"]["content"]["application/cloudevents+json"]["example"]


def test_a_service_label_names_its_shared_paths_and_operations_one_way() -> None:
    risk = ServiceLabel("risk")
    assert risk.webhooks_prefix == "/api/v1/webhooks/risk-service"
    assert risk.audit_prefix == "/api/v1/audit/risk-service"
    assert risk.operation_id("create", "WebhookEndpoint") == "createRiskWebhookEndpoint"
    assert risk.operation_id("verify", "AuditChain") == "verifyRiskAuditChain"
    for unfit in ("Risk", "risk-service", "risk api", ""):
        with pytest.raises(ValueError, match="one lower-case word"):
            ServiceLabel(unfit)


def test_every_published_event_type_has_a_webhook_with_signature_headers(spec: dict[str, Any]) -> None:
    assert spec["openapi"].startswith("3.1")
    assert sorted(spec["webhooks"]) == ["case.closed", "case.opened"]
    for event_type, item in spec["webhooks"].items():
        operation = item["post"]
        headers = {p["name"]: p for p in operation["parameters"] if p["in"] == "header"}
        assert sorted(headers) == sorted([WEBHOOK_ID, WEBHOOK_TIMESTAMP, WEBHOOK_SIGNATURE]), event_type
        assert all(h["required"] and h["description"] for h in headers.values())
        assert "HMAC-SHA256" in operation["description"]
        assert "whsec_" in operation["description"]  # the key is the secret as shown
        assert operation["security"] == []  # signed, not called with a bearer token
        assert "2XX" in operation["responses"]
    opened = spec["webhooks"]["case.opened"]["post"]
    assert opened["summary"] == "A case was opened."
    assert opened["description"].startswith("Told to every partner that may see the child.")


def test_the_payload_schema_is_the_envelope_around_the_events_own_data(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    envelope = schemas["CaseOpenedEvent"]
    assert envelope["properties"]["type"]["const"] == "case.opened"
    assert envelope["properties"]["data"]["$ref"] == "#/components/schemas/CaseOpened"
    assert set(envelope["required"]) >= {"specversion", "id", "source", "type", "subject", "time", "data"}
    # The data's own vocabulary comes with it, and the wire name of an aliased field.
    assert "police" in schemas["AgencyType"]["enum"]
    assert "from" in schemas["CaseOpened"]["properties"]


def test_each_example_validates_and_its_signature_verifies(spec: dict[str, Any]) -> None:
    assert webhook_example_errors(spec) == []
    tampered = copy.deepcopy(spec)
    examples = {
        event_type: item["post"]["requestBody"]["content"]["application/cloudevents+json"]["example"]
        for event_type, item in tampered["webhooks"].items()
    }
    examples["case.opened"]["id"] = "not-a-uuid"
    examples["case.closed"]["data"] = {}
    assert [e.split(":")[0] for e in webhook_example_errors(tampered)] == ["case.opened", "case.closed"]
    for event_type in SAMPLE.types:
        headers, example = example_of(spec, event_type)
        validator = delivery_validator(spec, event_type)
        assert list(validator.iter_errors(example)) == []
        assert example["type"] == event_type
        assert verify_signature(EXAMPLE_SECRET, headers, delivery_body(example), now=EXAMPLE_TIME.timestamp())
        # The schema can refuse: another type, a missing id, a vocabulary word it does not know.
        assert list(validator.iter_errors({**example, "type": "case.reopened"}))
        assert list(validator.iter_errors({**example, "data": {}}))
    _, opened = example_of(spec, "case.opened")
    assert list(
        delivery_validator(spec, "case.opened").iter_errors(
            {**opened, "data": {**opened["data"], "opened_by": "neighbour"}}
        )
    )


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[tuple[Database, EventTables]]:
    metadata = service_metadata()
    tables = event_tables(metadata)
    with provisioned_database("webhooks_spec", tmp_path) as url:
        database = Database(url)
        metadata.create_all(database.engine)
        yield database, tables
        database.dispose()


def test_what_the_relay_delivers_to_a_partner_is_what_the_webhook_promises(
    spec: dict[str, Any], outbox: tuple[Database, EventTables]
) -> None:
    database, tables = outbox
    secret = "whsec_" + "k" * 40
    with database.sessions() as session:
        session.execute(
            tables.webhook_endpoints.insert().values(
                id=uuid.uuid4(),
                agency="south-yorkshire-police",
                agency_type="police",
                url="https://partner.test/hooks",
                event_types=SAMPLE.types,
                secret=secret,
                active=True,
                created_by="admin@police",
                created_at=utc_now(),
            )
        )
        sender = Outbox(tables, [], "sample-api", partner_audience=lambda *_: True)
        sender.publish(session, CaseOpened(child_id=uuid.UUID(CHILD), opened_by=AgencyType.police))
        sender.publish(session, CaseClosed(child_id=uuid.UUID(CHILD)))
        session.commit()
    received: list[httpx.Request] = []

    def partner(request: httpx.Request) -> httpx.Response:
        received.append(request)
        return httpx.Response(204)

    with httpx.Client(transport=httpx.MockTransport(partner)) as client:
        policy = RelayPolicy(private_addresses_allowed=True)
        while relay_once(database, tables, client, "internal-secret", "t", policy):
            pass

    assert [json.loads(r.content)["type"] for r in received] == ["case.opened", "case.closed"]
    for request in received:
        headers = {k.lower(): v for k, v in request.headers.items()}
        assert delivery_errors(spec, headers, request.content) == []
        assert verify_signature(secret, headers, request.content)
    # And the check can fail: a delivery whose data lost a field is not what was promised.
    tampered = json.loads(received[0].content)
    del tampered["data"]["opened_by"]
    headers = {k.lower(): v for k, v in received[0].headers.items()}
    assert delivery_errors(spec, headers, json.dumps(tampered).encode())
