"""``python -m devstack run`` (the whole platform) and ``python -m devstack token``."""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path

from devstack.demo_data import load_demo_data
from devstack.shared_backends import postgres_databases, rate_limit_storage
from devstack.stack import RELAY, SERVICE_KINDS, Stack, StackConfig, StackMisconfigured, prepare
from safeguarding_kit.auth.dev_issuer import mint_dev_token
from safeguarding_kit.auth.principal import AgencyType, Role
from safeguarding_kit.settings import DEV_ISSUER, ProcessSettings


def run(config: StackConfig) -> int:
    data_dir = config.data_dir
    where = "on PostgreSQL" if config.database_urls else f"under {data_dir.resolve()}"
    print("Migrating the three databases", where, flush=True)
    prepare(config)
    stack = Stack(config)
    stopping = False

    def request_stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    stack.start_all()
    try:
        stack.wait_all_ready(timeout=60)
        created = load_demo_data(config.gateway_url, data_dir / "dev-issuer")
        token = mint_dev_token(
            data_dir / "dev-issuer",
            agency="sheffield-social-care",
            agency_type="social_care",
            roles=["practitioner", "manager", "meeting_coordinator", "risk_assessor"],
        )
        if config.replicas > 1 or config.separate_relays:
            print(f"\n{replicas_summary(config)}", flush=True)
        print(
            f"\nSafeguarding platform is up: {config.gateway_url}\n"
            f"Demo referrals loaded: {created} new.\n"
            "Dev token (social care practitioner/manager/coordinator/assessor, valid 8 h):\n\n"
            f"{token}\n\n"
            f"Try: curl -H 'Authorization: Bearer <token>' {config.gateway_url}/api/v1/referrals\n"
            "Ctrl-C stops every process.\n",
            flush=True,
        )
        while not stopping:
            dead = stack.exited()
            if dead:
                for name, code in dead.items():
                    print(
                        f"\n!! {name} exited with code {code}; stopping the others.",
                        file=sys.stderr,
                        flush=True,
                    )
                return 1
            time.sleep(0.5)
        return 0
    except (TimeoutError, RuntimeError) as exc:
        print(f"\n!! {exc}; stopping the others.", file=sys.stderr, flush=True)
        return 1
    finally:
        print("Stopping all processes...", file=sys.stderr, flush=True)
        stack.stop_all()


def replicas_summary(config: StackConfig) -> str:
    """Where each replica listens, for the console."""
    lines = [f"{config.replicas} replica(s) of every process:"]
    for kind in ("gateway", "referral-api", "risk-api", "meetings-api"):
        lines.append(f"  {kind:<19} {'  '.join(config.urls_of(kind))}")
    for kind in SERVICE_KINDS:
        relays = config.urls_of(kind, command=RELAY)
        if relays:
            lines.append(f"  {kind + ' relay':<19} {'  '.join(relays)}  (/healthz, /readyz, /metrics)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack")
    sub = parser.add_subparsers(dest="command", required=True)
    run_cmd = sub.add_parser("run", help="migrate, start and supervise every process")
    run_cmd.add_argument("--data-dir", type=Path, default=Path("data"))
    defaults = StackConfig(data_dir=Path("data"))
    for name in ("gateway", "referral", "risk", "meetings"):
        run_cmd.add_argument(
            f"--{name}-port", type=int, default=getattr(defaults, f"{name}_port"), help=f"the {name} port"
        )
    run_cmd.add_argument(
        "--replicas",
        type=int,
        default=1,
        help="how many of every process (each service and the gateway); more than one needs "
        "--postgres-url and Redis. Replica n listens 10 x (n - 1) above the first's port.",
    )
    run_cmd.add_argument(
        "--postgres-url",
        default=None,
        help="a PostgreSQL server to keep the services' databases on (one each, made if missing), "
        "instead of SQLite files under --data-dir",
    )
    run_cmd.add_argument(
        "--separate-relays",
        action="store_true",
        help="each service's outbox relay as a process of its own beside each replica (python -m "
        "<service> relay, 1000 above the replica's port), as the Kubernetes manifests deploy it; "
        "needs --postgres-url",
    )
    run_cmd.add_argument(
        "--redis-url",
        default="redis://127.0.0.1:6379",
        help="where several gateways count rate limits together (with --replicas above 1)",
    )
    token_cmd = sub.add_parser("token", help="print a dev token and nothing else")
    token_cmd.add_argument("--data-dir", type=Path, default=Path("data"))
    token_cmd.add_argument("--agency", default="sheffield-social-care")
    token_cmd.add_argument(
        "--type", dest="agency_type", default="social_care", choices=[t.value for t in AgencyType]
    )
    token_cmd.add_argument(
        "--roles",
        default="practitioner",
        help="comma-separated: " + ",".join(r.value for r in Role),
    )
    token_cmd.add_argument("--sub", default=None)
    args = parser.parse_args(argv)
    if args.command == "run":
        try:
            config = StackConfig(
                data_dir=args.data_dir,
                gateway_port=args.gateway_port,
                referral_port=args.referral_port,
                risk_port=args.risk_port,
                meetings_port=args.meetings_port,
                replicas=args.replicas,
                separate_relays=args.separate_relays,
                database_urls=postgres_databases(args.postgres_url) if args.postgres_url else {},
                # Redis is asked for only once the databases can be shared (SQLite is said first).
                rate_limit_storage_url=(
                    rate_limit_storage(args.redis_url) if args.replicas > 1 and args.postgres_url else None
                ),
            )
        except StackMisconfigured as exc:
            print(f"!! {exc}", file=sys.stderr)
            return 2
        return run(config)
    roles = [r.strip() for r in args.roles.split(",") if r.strip()]
    unknown = sorted(set(roles) - {r.value for r in Role})
    if unknown:
        parser.error(f"unknown roles: {', '.join(unknown)}")
    warning = agreement_warning(args.agency, args.agency_type)
    if warning:
        print(f"warning: {warning}", file=sys.stderr)
    print(
        mint_dev_token(
            args.data_dir / "dev-issuer",
            agency=args.agency,
            agency_type=args.agency_type,
            roles=roles,
            sub=args.sub,
        )
    )
    return 0


def agreement_warning(agency: str, agency_type: str) -> str | None:
    """Why the platform will refuse a dev token for this agency, if it will: the dev issuer
    is bound by the partnership agreement like any other issuer."""
    agreement = ProcessSettings(dev_issuer_enabled=True).agreement
    binding = agreement.issuer(DEV_ISSUER)
    entry = agreement.agency(agency)
    if binding is None or not binding.may_vouch_for(agency) or entry is None:
        return (
            f"the partnership agreement does not let the dev issuer vouch for '{agency}': "
            "the platform will refuse this token"
        )
    if entry.type.value != agency_type:
        return (
            f"the agreement gives '{agency}' the type {entry.type.value}, not {agency_type}: "
            "the platform will refuse this token"
        )
    return None


if __name__ == "__main__":
    sys.exit(main())
