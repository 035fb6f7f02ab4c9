"""``/healthz`` (alive), ``/readyz`` (dependencies reachable) and ``/metrics``."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool

from safeguarding_kit.problems import PROBLEM_JSON, PROBLEM_TYPE_BASE

ReadinessCheck = Callable[[], bool | Awaitable[bool]]
LivenessCheck = Callable[[], bool]


def health_router(
    checks: dict[str, ReadinessCheck], *, liveness: dict[str, LivenessCheck] | None = None
) -> APIRouter:
    """Operational endpoints, left out of the integrators' OpenAPI spec. ``/readyz`` runs
    ``checks`` (what the process needs, such as its database); ``/healthz`` runs
    ``liveness``, cheap checks of the process itself (a loop that is not stuck), whose
    failure means restarting it would help."""
    router = APIRouter(include_in_schema=False)

    @router.get("/healthz")
    async def healthz() -> JSONResponse:
        stuck = [name for name, alive in (liveness or {}).items() if not alive()]
        if not stuck:
            return JSONResponse({"status": "ok"})
        return JSONResponse(
            {
                "type": PROBLEM_TYPE_BASE + "not-alive",
                "title": "Not alive",
                "status": 503,
                "detail": f"Stuck: {', '.join(stuck)}.",
            },
            status_code=503,
            media_type=PROBLEM_JSON,
        )

    @router.get("/readyz")
    async def readyz() -> JSONResponse:
        results: dict[str, str] = {}
        for name, check in checks.items():
            if inspect.iscoroutinefunction(check):
                ok = await check()
            else:
                ok = await run_in_threadpool(check)
            results[name] = "ok" if ok else "unavailable"
        if all(v == "ok" for v in results.values()):
            return JSONResponse({"status": "ready", "checks": results})
        down = ", ".join(name for name, v in results.items() if v != "ok")
        return JSONResponse(
            {
                "type": PROBLEM_TYPE_BASE + "not-ready",
                "title": "Not ready",
                "status": 503,
                "detail": f"Unavailable: {down}.",
                "checks": results,
            },
            status_code=503,
            media_type=PROBLEM_JSON,
        )

    @router.get("/metrics")
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router
