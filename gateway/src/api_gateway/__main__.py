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
    # Several workers need the app built in each of them, hence the factory by name.
    app = "api_gateway.app:create_app" if settings.workers > 1 else create_app(settings)
    uvicorn.run(
        app,
        factory=settings.workers > 1,
        workers=settings.workers,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        server_header=False,
        proxy_headers=False,
    )


if __name__ == "__main__":
    main()
