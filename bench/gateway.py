"""Gateway overhead: the same authenticated GET sent straight to the referral
service and through the gateway, driven by wrk, at 4 and 32 connections.

Prints requests per second, p50 and p99 for each path and the gateway/direct
ratios. Run with `make bench` (installs wrk from Debian's packages if missing).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from devstack.stack import Stack, StackConfig, prepare
from safeguarding_kit.auth.dev_issuer import mint_dev_token

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


def main() -> int:
    if shutil.which("wrk") is None:
        print("wrk is not installed: apt-get install wrk", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        config = StackConfig.on_free_ports(
            Path(tmp),
            log_dir=Path(tmp) / "logs",
            # Rate limits stay on (their cost is part of the figure) but wide enough for wrk.
            extra_env={"RATE_LIMIT_READS": "100000000/minute"},
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
            direct_url = config.url_of("referral-api") + PATH
            gateway_url = config.gateway_url + PATH
            run_wrk(gateway_url, token, 4)  # warm-up: pools, caches, JIT-free but still
            print(f"GET {PATH} (authenticated, empty list), wrk -t2 -d{DURATION}")
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
