"""``python -m api_gateway serve``."""

from __future__ import annotations

import argparse

from api_gateway.app import create_app
from api_gateway.header_limits import BoundedHttpToolsProtocol
from api_gateway.settings import GatewaySettings
from safeguarding_kit.cli import serve


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m api_gateway")
    parser.add_argument("command", choices=["serve"])
    parser.parse_args(argv)
    settings = GatewaySettings()
    serve(
        create_app,
        settings,
        workers=settings.workers,
        # httptools, stopping a request's head at this size rather than buffering it whole.
        http=BoundedHttpToolsProtocol,
        max_request_head_bytes=settings.max_request_head_bytes,
    )


if __name__ == "__main__":
    main()
