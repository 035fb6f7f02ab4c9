"""Fixtures shared by the tests that start the real processes (tests/e2e, tests/fuzz, ...):
the whole stack, started once per run, on SQLite or on the PostgreSQL server that
TEST_DATABASE_URL names (a database per service), and tokens its gateway trusts."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from devstack.stack import Stack, StackConfig, prepare
from safeguarding_kit.auth.dev_issuer import ensure_dev_key_pair
from safeguarding_kit.testing import TokenFactory
from safeguarding_kit.throwaway_database import TEST_DATABASE_URL_ENV, provisioned_database

POLICE_IDP = "https://login.south-yorkshire-police.example"


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    data_dir = tmp_path_factory.mktemp("stack")
    with ExitStack() as cleanup:
        database_urls = {}
        if os.environ.get(TEST_DATABASE_URL_ENV):
            for name in ("referral-api", "risk-api", "meetings-api"):
                database_urls[name] = cleanup.enter_context(provisioned_database(name, data_dir))
        # A second trusted issuer, as a police force's identity provider would be: it may
        # vouch for police officers only.
        police_idp = ensure_dev_key_pair(data_dir / "police-idp")
        trusted = [
            {
                "issuer": POLICE_IDP,
                "algorithms": ["RS256"],
                "public_key_file": str(police_idp.parent / "public.pem"),
                "allowed_agency_types": ["police"],
            }
        ]
        config = StackConfig.on_free_ports(
            data_dir,
            database_urls=database_urls,
            log_dir=data_dir / "logs",
            extra_env={
                "UPSTREAM_TIMEOUT_SECONDS": "5",
                "UPSTREAM_CONNECT_TIMEOUT_SECONDS": "1",
                # The tests act as a handful of clients sending many requests each.
                "RATE_LIMIT_READS": "100000/minute",
                "RATE_LIMIT_WRITES": "100000/minute",
                "TRUSTED_ISSUERS": json.dumps(trusted),
            },
        )
        prepare(config)
        running = Stack(config)
        cleanup.callback(running.stop_all)
        running.start_all()
        running.wait_all_ready(timeout=60)
        yield running


@pytest.fixture(scope="session")
def police_idp() -> str:
    """The issuer of the stack's second trusted identity provider (police officers only);
    its key pair is under the stack's data folder, in ``police-idp/``."""
    return POLICE_IDP


@pytest.fixture(scope="session")
def stack_tokens(stack: Stack) -> TokenFactory:
    """Tokens signed by the stack's own dev issuer key."""
    return TokenFactory(Path(stack.config.data_dir) / "dev-issuer")
