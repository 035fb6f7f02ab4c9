"""CORS for the dashboards' configured origins, with refusals as problem+json.

Starlette's middleware answers a refused preflight with a plain-text 400; here it is
the platform's usual RFC 9457 problem, and it grants nothing: no
``Access-Control-Allow-*`` header goes back to an origin that is not configured.
"""

from __future__ import annotations

from fastapi.middleware.cors import CORSMiddleware
from starlette.datastructures import Headers
from starlette.responses import Response

from safeguarding_kit.problems import Problem, problem_response


class CorsPreflightRefused(Problem):
    """A browser's CORS preflight asked for an origin, method or header the platform's
    CORS settings do not allow."""

    status, slug, title = 400, "cors-preflight-refused", "CORS preflight refused"


class ProblemCORSMiddleware(CORSMiddleware):
    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code < 400:
            return response
        # Starlette's text names what was refused: origin, method, headers or private-network.
        refused = bytes(response.body).decode("utf-8", "replace").removeprefix("Disallowed CORS ")
        return problem_response(
            CorsPreflightRefused.status,
            CorsPreflightRefused.slug,
            CorsPreflightRefused.title,
            f"The platform's CORS settings do not allow this request ({refused}).",
            headers={"Vary": "Origin"},
        )
