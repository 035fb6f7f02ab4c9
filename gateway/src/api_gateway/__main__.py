"""``python -m api_gateway serve``."""

from __future__ import annotations

import argparse

from api_gateway.app import create_app
from api_gateway.settings import GatewaySettings
from safeguarding_kit.cli import serve


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m api_gateway")
    parser.add_argument("command", choices=["serve"])
    parser.parse_args(argv)
    settings = GatewaySettings()
    serve(create_app, settings, workers=settings.workers)


if __name__ == "__main__":
    main()
