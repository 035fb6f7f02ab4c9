"""Gateway overhead, driven by wrk at 4 and 32 connections, direct and through the gateway:

1. a trivial GET: a one-route FastAPI app answering ``{"items": []}``, the gateway's own
   cost laid bare (the issue's yardstick: >= 0.6x direct throughput, <= 0.5 ms added
   at the median at 4 connections);
2. the platform's real path: an authenticated, database-backed referral list.

Prints requests per second, p50 and p99 for each path and the gateway/direct
ratios. Run with `make bench` (installs wrk from Debian's packages if missing).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from devstack.stack import Stack, StackConfig, free_port, prepare
from safeguarding_kit.auth.dev_issuer import mint_dev_token

TRIVIAL_APP = """
from fastapi import FastAPI

app = FastAPI()


@app.get("/api/v1/referrals")
async def referrals() -> dict:
    return {"items": []}
"""
WIDE_RATE_LIMITS = {"RATE_LIMIT_READS": "100000000/minute", "RATE_LIMIT_WRITES": "100000000/minute"}

DURATION = "8s"
CONNECTIONS = (4, 32)
PATH = "/api/v1/referrals?limit=1"


@dataclass
class WrkResult:
    rps: float
    p50_ms: float
    p99_ms: float


def _ms(value: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value)
    if match is None:
        raise ValueError(f"wrk printed a latency this script cannot read: {value!r}")
    number, unit = match.groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def run_wrk(url: str, token: str, connections: int) -> WrkResult:
    out = subprocess.run(
        [
            "wrk",
            "-t",
            "2",
            "-c",
            str(connections),
            "-d",
            DURATION,
            "--latency",
            "-H",
            f"Authorization: Bearer {token}",
            url,
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    if "Non-2xx" in out:
        raise RuntimeError(f"wrk saw non-2xx answers:\n{out}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"^\s*50%\s+(\S+)", out, re.MULTILINE).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s*99%\s+(\S+)", out, re.MULTILINE).group(1))  # type: ignore[union-attr]
    return WrkResult(rps, p50, p99)


def compare(title: str, direct_url: str, gateway_url: str, token: str) -> None:
    run_wrk(gateway_url, token, 4)  # warm-up: pools, caches
    print(f"{title}, wrk -t2 -d{DURATION}")
    print(f"{'conns':>5} {'path':>8} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8}")
    for connections in CONNECTIONS:
        direct = run_wrk(direct_url, token, connections)
        via = run_wrk(gateway_url, token, connections)
        for name, r in (("direct", direct), ("gateway", via)):
            print(f"{connections:>5} {name:>8} {r.rps:>9.0f} {r.p50_ms:>8.2f} {r.p99_ms:>8.2f}")
        print(
            f"{connections:>5} {'ratio':>8} {via.rps / direct.rps:>9.2f}x "
            f"added p50 {via.p50_ms - direct.p50_ms:+.2f} ms"
        )
    print()


def wait_until_up(url: str, procs: list[subprocess.Popen[bytes]]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in procs):
            raise RuntimeError("a benchmark process exited while starting")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise TimeoutError(f"{url} did not come up")


def trivial_get(tmp: Path) -> None:
    """The gateway in front of a one-route app: its own cost, nothing else's."""
    (tmp / "trivial_service.py").write_text(TRIVIAL_APP)
    service_port, gateway_port = free_port(), free_port()
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    service = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "trivial_service:app", "--app-dir", str(tmp),
         "--port", str(service_port), "--no-access-log", "--log-level", "warning"],
        **quiet,
    )  # fmt: skip
    env = {
        **os.environ,
        **WIDE_RATE_LIMITS,
        "PORT": str(gateway_port),
        "DATA_DIR": str(tmp),
        "REFERRAL_API_URL": f"http://127.0.0.1:{service_port}",
    }
    # The key pair exists before the gateway starts, so both read the same one.
    token = mint_dev_token(
        tmp / "dev-issuer", agency="sheffield-social-care", agency_type="social_care", roles=["practitioner"]
    )
    gateway = subprocess.Popen([sys.executable, "-m", "api_gateway", "serve"], env=env, **quiet)
    try:
        wait_until_up(f"http://127.0.0.1:{service_port}{PATH}", [service, gateway])
        wait_until_up(f"http://127.0.0.1:{gateway_port}/healthz", [service, gateway])
        compare(
            f"Trivial GET {PATH} (one-route FastAPI app)",
            f"http://127.0.0.1:{service_port}{PATH}",
            f"http://127.0.0.1:{gateway_port}{PATH}",
            token,
        )
    finally:
        for proc in (gateway, service):
            proc.terminate()
            proc.wait(10)


def main() -> int:
    if shutil.which("wrk") is None:
        print("wrk is not installed: apt-get install wrk", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        trivial_get(Path(tmp))
    with tempfile.TemporaryDirectory() as tmp:
        config = StackConfig.on_free_ports(
            Path(tmp),
            log_dir=Path(tmp) / "logs",
            # Rate limits stay on (their cost is part of the figure) but wide enough for wrk.
            extra_env=WIDE_RATE_LIMITS,
        )
        prepare(config)
        token = mint_dev_token(
            config.data_dir / "dev-issuer",
            agency="sheffield-social-care",
            agency_type="social_care",
            roles=["practitioner"],
        )
        with Stack(config) as stack:
            stack.wait_all_ready()
            compare(
                f"Real GET {PATH} (authenticated, referral service on SQLite)",
                config.url_of("referral-api") + PATH,
                config.gateway_url + PATH,
                token,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
