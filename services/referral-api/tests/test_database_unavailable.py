"""A referral service whose database cannot be reached (restarting, failed over, out of
connections) answers 503 problem+json with Retry-After, never a 500: a partner system
retries, with its Idempotency-Key, and nothing is lost."""

from __future__ import annotations

import socket

from fastapi.testclient import TestClient
from referral_scenarios import SCHOOL, referral_body

from referral_api.app import create_app
from referral_api.settings import ReferralSettings


def a_port_nothing_listens_on() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_referral_posted_while_the_database_is_down_is_503_with_retry_after(data_dir, tokens):
    nothing_listens = f"postgresql+psycopg://postgres@127.0.0.1:{a_port_nothing_listens_on()}/referral"
    settings = ReferralSettings(
        database_url=nothing_listens,
        data_dir=data_dir,
        environment="test",
        log_json=False,
        events_relay_enabled=False,
    )
    with TestClient(create_app(settings)) as client:
        answer = client.post(
            "/api/v1/referrals",
            json=referral_body(),
            headers={**tokens.headers(**SCHOOL), "Idempotency-Key": "db-down-1"},
        )
        assert client.get("/readyz").status_code == 503
    assert answer.status_code == 503
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["retry-after"].isdigit()
    assert "Idempotency-Key" in answer.json()["detail"]
    assert "psycopg" not in answer.text  # no driver, address or statement in the answer
    assert "127.0.0.1" not in answer.text
