"""Examples of the answers only the gateway gives, made from its Problem classes, and the
platform's list of problem types: the services' lists and the gateway's own."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

# Imported for their Problem classes, which the gateway's list of problem types names.
from api_gateway import cors, fast_path  # noqa: F401
from api_gateway.header_limits import FEWER_HEADERS, RequestHeadersTooLarge
from api_gateway.proxy import (
    TIMEOUT_RETRY_ADVICE,
    BadGateway,
    PayloadTooLarge,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from api_gateway.rate_limits import TooManyRequests
from safeguarding_kit.openapi_examples import problem_example
from safeguarding_kit.problem_types import (
    ProblemType,
    merged_problem_types,
    problem_classes,
    problem_types,
)
from safeguarding_kit.problems import PROBLEM_JSON, Problem, Unauthenticated

GATEWAY_PACKAGE = "api_gateway"

# Each gateway answer's example, worded as the gateway words it.
GATEWAY_EXAMPLES: dict[str, tuple[type[Problem], str]] = {
    "401": (Unauthenticated, "The token has expired."),
    "413": (PayloadTooLarge, "Request bodies are limited to 1048576 bytes."),
    "429": (
        TooManyRequests,
        "This client may make 120 per 1 minute write requests; wait 12 s before trying again.",
    ),
    "431": (
        RequestHeadersTooLarge,
        f"The request has 156 header fields; the gateway accepts at most 100. {FEWER_HEADERS}",
    ),
    "502": (BadGateway, "The referral-api service gave no valid answer."),
    "503": (UpstreamUnavailable, "The referral-api service is unavailable; try again shortly."),
    "504": (
        UpstreamTimeout,
        f"The referral-api service did not answer in time. {TIMEOUT_RETRY_ADVICE}",
    ),
}


def add_gateway_problem_examples(spec: dict[str, Any]) -> None:
    """Add to each operation's gateway answers (401, 413, 429, 431, 502-504) the example of the
    gateway's problem, beside any the service already shows for the same status (in the
    shared answer under ``components/responses`` where the operation refers to one)."""
    shared = spec.get("components", {}).get("responses", {})
    for item in spec.get("paths", {}).values():
        for operation in item.values():
            if not isinstance(operation, dict):
                continue
            for status, response in operation.get("responses", {}).items():
                if "$ref" in response:
                    response = shared.get(response["$ref"].rsplit("/", 1)[1], {})
                media = response.get("content", {}).get(PROBLEM_JSON)
                if media is None or status not in GATEWAY_EXAMPLES:
                    continue
                problem, detail = GATEWAY_EXAMPLES[status]
                media.setdefault("examples", {}).setdefault(problem.slug, problem_example(problem, detail))


def platform_problem_types(service_specs: Iterable[dict[str, Any]]) -> list[ProblemType]:
    """Every problem type a client of the gateway can meet: the services' and the gateway's."""
    lists: list[list[ProblemType]] = [spec.get("x-problem-types", []) for spec in service_specs]
    return merged_problem_types(*lists, problem_types(problem_classes({GATEWAY_PACKAGE})))
