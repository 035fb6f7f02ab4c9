"""The last step of every service's spec: the headers each operation reads and sends,
the metadata integrators need, and what many operations repeat written once under
``components``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.routing import BaseRoute

from safeguarding_kit.openapi_components import operations, share_repeated_parts
from safeguarding_kit.openapi_headers import (
    add_header_components,
    declare_operation_headers,
    declare_route_headers,
)
from safeguarding_kit.openapi_metadata import SERVICE_SERVERS, add_metadata, describe_path_parameters
from safeguarding_kit.problems import PROBLEM_JSON

PROBLEM_CONTENT = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}}


def complete_contract(spec: dict[str, Any], routes: Sequence[BaseRoute]) -> None:
    """Declare headers, add metadata and share repeated parts, in place."""
    describe_path_parameters(spec)
    add_header_components(spec)
    declare_route_headers(spec, routes)
    for operation in operations(spec):
        declare_operation_headers(spec, operation, PROBLEM_CONTENT)
    add_metadata(spec, SERVICE_SERVERS)
    share_repeated_parts(spec)
