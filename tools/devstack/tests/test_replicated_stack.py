"""The dev stack with several replicas of every process (``REPLICAS=2 make run``): what each
process is told, and the configurations it refuses."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from devstack.shared_backends import rate_limit_storage
from devstack.stack import StackConfig, StackMisconfigured

ON_POSTGRESQL = {
    "referral-api": "postgresql+psycopg://postgres@db/safeguarding_referral",
    "risk-api": "postgresql+psycopg://postgres@db/safeguarding_risk",
    "meetings-api": "postgresql+psycopg://postgres@db/safeguarding_meetings",
}
REDIS = "async+redis://127.0.0.1:6379"


def two_of_everything(tmp_path: Path, **options: object) -> StackConfig:
    return StackConfig(
        data_dir=tmp_path,
        replicas=2,
        database_urls=dict(ON_POSTGRESQL),
        rate_limit_storage_url=REDIS,
        **options,  # type: ignore[arg-type]
    )


def test_every_process_runs_twice_each_replica_ten_ports_above_the_last(tmp_path):
    config = two_of_everything(tmp_path)
    assert [(p.name, p.port) for p in config.processes] == [
        ("referral-api", 8101),
        ("referral-api-2", 8111),
        ("risk-api", 8102),
        ("risk-api-2", 8112),
        ("meetings-api", 8103),
        ("meetings-api-2", 8113),
        ("gateway", 8080),
        ("gateway-2", 8090),
    ]
    assert config.gateway_urls == ["http://127.0.0.1:8080", "http://127.0.0.1:8090"]


def process(config: StackConfig, name: str):  # type: ignore[no-untyped-def]
    return next(p for p in config.processes if p.name == name)


def test_every_gateway_spreads_each_service_over_all_its_replicas_and_counts_in_redis(tmp_path):
    config = two_of_everything(tmp_path)
    for name in ("gateway", "gateway-2"):
        env = config.environment(process(config, name))
        assert env["REFERRAL_API_URLS"] == "http://127.0.0.1:8101,http://127.0.0.1:8111"
        assert env["RISK_API_URLS"] == "http://127.0.0.1:8102,http://127.0.0.1:8112"
        assert env["MEETINGS_API_URLS"] == "http://127.0.0.1:8103,http://127.0.0.1:8113"
        assert "REFERRAL_API_URL" not in env
        assert env["RATE_LIMIT_STORAGE_URL"] == REDIS


def test_replicas_of_a_service_share_its_database_and_talk_to_their_peers(tmp_path):
    config = two_of_everything(tmp_path)
    first, second = (config.environment(process(config, n)) for n in ("referral-api", "referral-api-2"))
    assert first["DATABASE_URL"] == second["DATABASE_URL"] == ON_POSTGRESQL["referral-api"]
    assert [s["url"] for s in json.loads(second["EVENT_SUBSCRIBERS"])] == [
        "http://127.0.0.1:8112/internal/events",
        "http://127.0.0.1:8113/internal/events",
    ]
    # The same subscriber name from either replica: one lane per child, in order.
    assert [s["name"] for s in json.loads(first["EVENT_SUBSCRIBERS"])] == ["risk-api", "meetings-api"]
    assert [s["name"] for s in json.loads(second["EVENT_SUBSCRIBERS"])] == ["risk-api", "meetings-api"]
    meetings = config.environment(process(config, "meetings-api-2"))
    assert (meetings["RISK_API_URL"], meetings["REFERRAL_API_URL"]) == (
        "http://127.0.0.1:8112",
        "http://127.0.0.1:8111",
    )
    # Decisions and actions about a child reach the referral service's chronology.
    assert [(s["name"], s["url"]) for s in json.loads(meetings["EVENT_SUBSCRIBERS"])] == [
        ("referral-api", "http://127.0.0.1:8111/internal/events")
    ]


def test_one_replica_is_the_stack_as_it_always_was(tmp_path):
    config = StackConfig(data_dir=tmp_path)
    assert [p.name for p in config.processes] == ["referral-api", "risk-api", "meetings-api", "gateway"]
    env = config.environment(process(config, "gateway"))
    assert env["REFERRAL_API_URL"] == "http://127.0.0.1:8101"
    assert "REFERRAL_API_URLS" not in env
    assert "RATE_LIMIT_STORAGE_URL" not in env


def test_settings_for_one_process_only(tmp_path):
    config = two_of_everything(tmp_path, process_env={"referral-api-2": {"WORKERS": "2"}})
    assert config.environment(process(config, "referral-api-2"))["WORKERS"] == "2"
    assert "WORKERS" not in config.environment(process(config, "referral-api"))


def test_replicas_on_sqlite_are_refused_saying_what_to_give_instead(tmp_path):
    with pytest.raises(StackMisconfigured, match=r"must be PostgreSQL.*POSTGRES_URL="):
        StackConfig(data_dir=tmp_path, replicas=2, rate_limit_storage_url=REDIS)


def test_replicas_counting_rate_limits_in_memory_are_refused(tmp_path):
    with pytest.raises(StackMisconfigured, match="REDIS_URL="):
        StackConfig(data_dir=tmp_path, replicas=2, database_urls=dict(ON_POSTGRESQL))


def test_a_redis_that_does_not_answer_is_said_before_anything_starts():
    with socket.create_server(("127.0.0.1", 0)) as placeholder:
        port = placeholder.getsockname()[1]
    with pytest.raises(StackMisconfigured, match=f"nothing answers at 127.0.0.1:{port}"):
        rate_limit_storage(f"redis://127.0.0.1:{port}")
    with pytest.raises(StackMisconfigured, match="not a Redis URL"):
        rate_limit_storage("http://127.0.0.1:6379")


def test_separate_relays_run_beside_each_replica_a_thousand_ports_above_it(tmp_path):
    config = two_of_everything(tmp_path, separate_relays=True)
    relays = [(p.name, p.port, p.kind) for p in config.processes if p.command == "relay"]
    assert relays == [
        ("referral-api-relay", 9101, "referral-api"),
        ("referral-api-relay-2", 9111, "referral-api"),
        ("risk-api-relay", 9102, "risk-api"),
        ("risk-api-relay-2", 9112, "risk-api"),
        ("meetings-api-relay", 9103, "meetings-api"),
        ("meetings-api-relay-2", 9113, "meetings-api"),
    ]
    # The gateways route to the replicas that serve, never to a relay.
    gateway = config.environment(process(config, "gateway"))
    assert gateway["REFERRAL_API_URLS"] == "http://127.0.0.1:8101,http://127.0.0.1:8111"


def test_a_separate_relay_delivers_for_its_replica_which_then_does_not_relay_itself(tmp_path):
    config = two_of_everything(tmp_path, separate_relays=True)
    relay = config.environment(process(config, "referral-api-relay-2"))
    serving = config.environment(process(config, "referral-api-2"))
    assert relay["DATABASE_URL"] == serving["DATABASE_URL"] == ON_POSTGRESQL["referral-api"]
    assert relay["EVENT_SUBSCRIBERS"] == serving["EVENT_SUBSCRIBERS"]  # the same lanes, the same peers
    assert relay["PORT"] == "9111"
    assert serving["EVENTS_RELAY_ENABLED"] == "false"
    assert "EVENTS_RELAY_ENABLED" not in relay
    # Without separate relays each replica relays itself, as it always did.
    together = two_of_everything(tmp_path)
    assert "EVENTS_RELAY_ENABLED" not in together.environment(process(together, "referral-api"))
    assert not [p for p in together.processes if p.command == "relay"]


def test_separate_relays_on_sqlite_are_refused_saying_what_to_give_instead(tmp_path):
    with pytest.raises(StackMisconfigured, match=r"needs PostgreSQL.*POSTGRES_URL="):
        StackConfig(data_dir=tmp_path, separate_relays=True)
