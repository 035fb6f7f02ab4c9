"""``python -m api_gateway serve``."""

from __future__ import annotations

import argparse

import uvicorn

from api_gateway.app import create_app
from api_gateway.settings import GatewaySettings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m api_gateway")
    parser.add_argument("command", choices=["serve"])
    parser.parse_args(argv)
    settings = GatewaySettings()
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        server_header=False,
        proxy_headers=False,
    )


if __name__ == "__main__":
    main()
