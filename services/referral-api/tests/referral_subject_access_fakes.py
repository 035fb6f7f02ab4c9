"""The risk and meetings services as a subject access package reads them, faked on a real
loopback HTTP server: each answers its documented extract of a child
(``GET /api/v1/risk/children/{id}/subject-access-extract``,
``GET /api/v1/meetings/children/{id}/subject-access-extract``) from what a test states,
401 without a bearer token, an empty extract for a child it holds nothing about, and 500
when the test says it fails. The referral service's tests import neither service; their own
tests check the real extracts."""

from __future__ import annotations

import json
import re
import socket
import uuid
from http.server import BaseHTTPRequestHandler
from typing import Any

RISK_PATH = re.compile(r"^/api/v1/risk/children/(?P<child>[0-9a-f-]{36})/subject-access-extract$")
MEETINGS_PATH = re.compile(r"^/api/v1/meetings/children/(?P<child>[0-9a-f-]{36})/subject-access-extract$")
EXTRACTED_AT = "2026-12-06T10:00:00+00:00"


def unused_port_url() -> str:
    """The address of a port nothing listens on: a service that is down."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def recipient(agency: str, agency_type: str, roles: str, action: str, resource_type: str) -> dict[str, Any]:
    return {
        "agency": agency,
        "agency_type": agency_type,
        "roles": roles,
        "action": action,
        "resource_type": resource_type,
        "times": 2,
        "first_at": "2026-11-25T14:30:00+00:00",
        "last_at": "2026-11-26T09:00:00+00:00",
    }


class FakeExtractServices:
    """Both services' extracts behind one handler, and every request they were sent."""

    def __init__(self) -> None:
        self.risk: dict[str, dict[str, Any]] = {}
        self.meetings: dict[str, dict[str, Any]] = {}
        self.failing: set[str] = set()
        self.requests: list[tuple[str, dict[str, str]]] = []

    def assessed(self, child_id: str, *, evidence: str = "Reported missing three times in October.") -> None:
        """The child assessed high by the hub's social care team (answers from the police)."""
        assessment_id = str(uuid.uuid4())
        self.risk[child_id] = {
            "child_id": child_id,
            "extracted_at": EXTRACTED_AT,
            "current_risk": {
                "current_level": "high",
                "previous_level": None,
                "trend": "first",
                "last_assessed_at": "2026-11-25T14:30:00+00:00",
                "level_changed_at": "2026-11-25T14:30:00+00:00",
                "next_review_due": "2026-12-23T14:30:00+00:00",
                "screening_opened_at": "2026-11-24T09:20:00+00:00",
                "initial_assessment_due": None,
            },
            "assessments": [
                {
                    "id": assessment_id,
                    "assessed_at": "2026-11-25T14:30:00+00:00",
                    "assessed_agency": "sheffield-social-care",
                    "model_name": "Sheffield child exploitation tracker",
                    "model_version": 1,
                    "age_at_assessment": 15,
                    "score": 17,
                    "age_points": 0,
                    "computed_level": "high",
                    "final_level": "high",
                    "hard_triggers": [],
                    "overridden": False,
                    "override_reason": None,
                    "override_at": None,
                    "answers": [
                        {
                            "indicator_code": "missing_repeat",
                            "indicator_wording": "Missing from home or care three or more times in 90 days",
                            "answer": "present",
                            "evidence": evidence,
                            "source_agency": "south-yorkshire-police",
                            "contribution": 3,
                        }
                    ],
                }
            ],
            "level_history": [
                {"at": "2026-11-25T14:30:00+00:00", "level": "high", "assessment_id": assessment_id}
            ],
            "access": [
                recipient("sheffield-social-care", "social_care", "risk_assessor", "create", "assessment")
            ],
        }

    def discussed(self, child_id: str, *, minutes: str = "Plan agreed with school and police.") -> None:
        """The child discussed at MACE, with a decision and an action."""
        item_id = str(uuid.uuid4())
        self.meetings[child_id] = {
            "child_id": child_id,
            "extracted_at": EXTRACTED_AT,
            "agenda_items": [
                {
                    "id": item_id,
                    "meeting": {
                        "meeting_type": "MACE",
                        "series_title": "Sheffield MACE",
                        "starts_at": "2026-11-26T10:00:00+00:00",
                        "status": "held",
                    },
                    "kind": "child",
                    "title": f"Child {child_id[:8]}",
                    "reasons": [{"code": "became_high", "detail": "Risk became high since the last meeting"}],
                    "minutes": minutes,
                    "with_other_children": False,
                    "decisions": [
                        {
                            "id": str(uuid.uuid4()),
                            "text": "Strategy discussion under section 47.",
                            "recorded_at": "2026-11-26T11:00:00+00:00",
                        }
                    ],
                }
            ],
            "actions": [
                {
                    "id": str(uuid.uuid4()),
                    "agenda_item_id": item_id,
                    "description": "Disruption visit to the London Road takeaway.",
                    "owner_agency": "south-yorkshire-police",
                    "owner_person_recorded": True,
                    "due_date": "2026-12-03",
                    "status": "open",
                    "completed_at": None,
                    "created_at": "2026-11-26T11:05:00+00:00",
                }
            ],
            "access": [
                recipient("sheffield-social-care", "social_care", "meeting_coordinator", "read", "agenda")
            ],
        }

    def bearer_tokens(self) -> set[str]:
        return {headers.get("authorization", "").removeprefix("Bearer ") for _, headers in self.requests}

    def answer(self, path: str, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
        self.requests.append((path, headers))
        for service, pattern, held in (
            ("risk", RISK_PATH, self.risk),
            ("meetings", MEETINGS_PATH, self.meetings),
        ):
            found = pattern.match(path)
            if found is None:
                continue
            if not headers.get("authorization", "").startswith("Bearer "):
                return 401, {"title": "A bearer token is required", "status": 401}
            if service in self.failing:
                return 500, {"title": "Internal error", "status": 500}
            child = found["child"]
            empty: dict[str, Any] = {"child_id": child, "extracted_at": EXTRACTED_AT, "access": []}
            empty |= (
                {"current_risk": None, "assessments": [], "level_history": []}
                if service == "risk"
                else {"agenda_items": [], "actions": []}
            )
            return 200, held.get(child, empty)
        return 404, {"title": "Not found", "status": 404}

    def handler(self) -> type[BaseHTTPRequestHandler]:
        fakes = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status, body = fakes.answer(self.path, {k.lower(): v for k, v in self.headers.items()})
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler
