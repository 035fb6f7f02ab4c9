"""Fixtures of the end-to-end tests: a client of the stack's gateway, and connections to
each service's own database (SQLite file or PostgreSQL, as the stack configured it), where
the tests look at outboxes, inboxes and audit logs."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from devstack.stack import Stack
from safeguarding_kit.db import Database


@pytest.fixture
def gateway(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.config.gateway_url, timeout=30.0) as client:
        yield client


def service_database(stack: Stack, name: str) -> Database:
    service = next(s for s in stack.config.services if s.name == name)
    return Database(stack.config.database_url(service))


@pytest.fixture
def risk_db(stack: Stack) -> Iterator[Database]:
    database = service_database(stack, "risk-api")
    yield database
    database.dispose()


@pytest.fixture
def meetings_db(stack: Stack) -> Iterator[Database]:
    database = service_database(stack, "meetings-api")
    yield database
    database.dispose()
