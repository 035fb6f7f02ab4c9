"""``GET /api/v1/partnership``: the agreement as every partner may read it, so that each
can see who may see and do what (issuers by name, agencies, capacities; no secrets)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from safeguarding_kit.auth.dependencies import CurrentPrincipal
from safeguarding_kit.partnership.agreement import Agreement
from safeguarding_kit.problems import problem_responses


class IssuerView(BaseModel):
    issuer: str = Field(examples=["https://login.south-yorkshire-police.example"])
    name: str = Field(examples=["South Yorkshire Police identity service"])
    agencies: list[str] = Field(
        description="Agency slugs, or prefix patterns such as `school-*`, the issuer may vouch for.",
        examples=[["south-yorkshire-police"]],
    )


class AgencyView(BaseModel):
    slug: str | None = Field(
        description="The agency's slug; null for a pattern entry.", examples=["sheffield-health"]
    )
    pattern: str | None = Field(
        description="A slug prefix pattern (`school-*`); null for one agency.", examples=[None]
    )
    name: str = Field(examples=["Sheffield MASH: Health Safeguarding Team"])
    type: str = Field(examples=["health"])
    capacities: list[str] = Field(examples=[["all_cases"]])
    description: str = Field(examples=["Named nurses for safeguarding working in the MASH."])


class ServiceView(BaseModel):
    slug: str = Field(examples=["community-youth-team"])
    name: str = Field(examples=["Community Youth Team"])
    description: str = Field(examples=["Detached and centre-based youth work; takes signposted children."])
    provider_agency: str | None = Field(examples=["sheffield-youth"])


class PartnershipView(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "partnership": "Sheffield Safeguarding Children Partnership",
                    "version": "2026-11-29",
                    "issuers": [
                        {
                            "issuer": "https://login.south-yorkshire-police.example",
                            "name": "South Yorkshire Police identity service",
                            "agencies": ["south-yorkshire-police"],
                        }
                    ],
                    "agencies": [
                        {
                            "slug": "south-yorkshire-police",
                            "pattern": None,
                            "name": "South Yorkshire Police: Child Exploitation Unit",
                            "type": "police",
                            "capacities": ["all_cases", "chairs_meetings", "intelligence"],
                            "description": "The police exploitation unit in the MASH; chairs the CETG.",
                        },
                        {
                            "slug": None,
                            "pattern": "school-*",
                            "name": "Sheffield schools (each school by its own slug)",
                            "type": "education",
                            "capacities": [],
                            "description": "",
                        },
                    ],
                    "services": [
                        {
                            "slug": "community-youth-team",
                            "name": "Community Youth Team",
                            "description": "Detached and centre-based youth work.",
                            "provider_agency": "sheffield-youth",
                        }
                    ],
                    "capacities": {
                        "all_cases": "the hub's own teams: case workers see every child, "
                        "not only those linked to them"
                    },
                }
            ]
        }
    )

    partnership: str = Field(examples=["Sheffield Safeguarding Children Partnership"])
    version: str = Field(description="The agreement's own version.", examples=["2026-11-29"])
    issuers: list[IssuerView]
    agencies: list[AgencyView]
    services: list[ServiceView] = Field(
        description="The closed list of services children are signposted or referred on to."
    )
    capacities: dict[str, str] = Field(
        description="What each capacity lets an agency's people do (with the right role).",
        examples=[{"all_cases": "the hub's own teams: case workers see every child"}],
    )


def partnership_router(tag: str = "partnership") -> APIRouter:
    router = APIRouter(prefix="/api/v1/partnership", tags=[tag])

    @router.get(
        "",
        operation_id="getPartnershipAgreement",
        summary="Read the partnership's information sharing agreement",
        description="Any authenticated caller reads the agreement the platform enforces: which identity "
        "provider vouches for which agencies, each agency's type, and the hub capacities granted to it. "
        "A permission is a person's role (from their token) and their agency's capacity (from this "
        "document); an agency without `all_cases` sees only the children linked to it.",
        response_model=PartnershipView,
        responses=problem_responses(401),
    )
    def read_partnership(request: Request, principal: CurrentPrincipal) -> dict[str, Any]:
        agreement: Agreement = request.app.state.agreement
        return agreement.public_view()

    return router
