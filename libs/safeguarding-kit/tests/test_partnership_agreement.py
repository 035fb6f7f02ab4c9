"""The partnership agreement as configuration: what a process refuses to start on, what
production refuses, and how agencies and issuers are looked up."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from safeguarding_kit.auth.principal import AgencyType
from safeguarding_kit.partnership.agreement import InvalidAgreement, load_agreement, parse_agreement
from safeguarding_kit.partnership.capacities import Capacity
from safeguarding_kit.settings import ProcessSettings

REPO = Path(__file__).parents[3]
DEMO = REPO / "deploy/partnership/demo-agreement.yaml"
EXAMPLE = REPO / "deploy/partnership/example-production-agreement.yaml"
POLICE_IDP = "https://login.police.example/realms/syp"


def agreement(**changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "partnership": "Test partnership",
        "version": "2026-11-29",
        "issuers": [{"issuer": POLICE_IDP, "agencies": ["syp-exploitation-unit"]}],
        "agencies": [
            {
                "slug": "syp-exploitation-unit",
                "name": "Police exploitation unit",
                "type": "police",
                "capacities": ["all_cases", "intelligence"],
            },
            {"pattern": "school-*", "name": "Schools", "type": "education"},
        ],
    }
    document.update(changes)
    return document


def test_the_shipped_agreements_are_valid():
    demo = load_agreement(DEMO)
    assert demo.agency("sheffield-health") is not None
    assert demo.capacities_of("norfolk-park-medical-practice") == frozenset()  # a GP is not a hub member
    assert load_agreement(EXAMPLE).production_problems([POLICE_IDP]) == []


def test_a_capacity_is_granted_to_a_named_agency_never_to_its_type():
    loaded = parse_agreement(agreement())
    assert loaded.capacities_of("syp-exploitation-unit") == {Capacity.all_cases, Capacity.intelligence}
    assert loaded.agency("leeds-police") is None
    school = loaded.agency("school-abbeydale-grange")
    assert school is not None
    assert school.type is AgencyType.education
    assert school.capacities == frozenset()


@pytest.mark.parametrize(
    ("document", "named"),
    [
        (agreement(agencies=[{"slug": "x-y", "name": "X", "type": "military"}]), "agencies[0] (x-y).type"),
        (
            agreement(
                agencies=[{"slug": "x-y", "name": "X", "type": "police", "capacities": ["everything"]}]
            ),
            "agencies[0] (x-y).capacities[0]",
        ),
        (
            agreement(agencies=[{"slug": "Bad Slug", "name": "X", "type": "police"}]),
            "agencies[0] (Bad Slug).slug",
        ),
        (
            agreement(agencies=[{"pattern": "*", "name": "Everyone", "type": "police"}]),
            "agencies[0] (*).pattern",
        ),
        (agreement(issuers=[{"issuer": POLICE_IDP}]), f"issuers[0] ({POLICE_IDP})"),
        (agreement(issuers=[{"issuer": POLICE_IDP, "agencies": ["nobody-we-know"]}]), "'nobody-we-know'"),
        (agreement(version=None), "version"),
    ],
)
def test_an_invalid_agreement_is_refused_naming_the_bad_entry(document, named):
    with pytest.raises(InvalidAgreement) as refused:
        parse_agreement(document, source="agreement.yaml")
    assert named in str(refused.value)


def test_a_process_refuses_to_start_on_an_invalid_agreement(tmp_path):
    bad = tmp_path / "agreement.yaml"
    bad.write_text("partnership: Test\nversion: '1'\nissuers: []\nagencies:\n  - slug: x-y\n    name: X\n")
    with pytest.raises(ValidationError, match=r"PARTNERSHIP_AGREEMENT_FILE: .*agencies\[0\] \(x-y\)"):
        ProcessSettings(partnership_agreement_file=bad, data_dir=tmp_path)
    with pytest.raises(ValidationError, match="does not exist"):
        ProcessSettings(partnership_agreement_file=tmp_path / "missing.yaml", data_dir=tmp_path)


def production(tmp_path: Path, document: dict[str, Any]) -> ProcessSettings:
    path = tmp_path / "agreement.yaml"
    path.write_text(yaml.safe_dump(document))
    return ProcessSettings(
        environment="production",
        dev_issuer_enabled=False,
        data_dir=tmp_path,
        trusted_issuers=[{"issuer": POLICE_IDP, "public_key_pem": "-----BEGIN PUBLIC KEY-----\n..."}],
        partnership_agreement_file=path,
    )


def test_production_accepts_an_agreement_binding_every_issuer_to_named_agencies(tmp_path):
    assert production(tmp_path, agreement()).agreement.issuer(POLICE_IDP) is not None


def test_production_refuses_an_issuer_without_an_agency_list(tmp_path):
    document = agreement(issuers=[{"issuer": POLICE_IDP, "agencies": []}])
    with pytest.raises(ValidationError, match="has no agency list"):
        production(tmp_path, document)


def test_production_refuses_all_cases_granted_to_agencies_wholesale(tmp_path):
    document = agreement()
    document["agencies"][1]["capacities"] = ["all_cases"]  # every school-* agency
    with pytest.raises(ValidationError, match="granted all_cases wholesale"):
        production(tmp_path, document)


def test_production_refuses_a_trusted_issuer_the_agreement_does_not_name(tmp_path):
    document = agreement(issuers=[{"issuer": "https://idp.other.example", "agencies": ["school-*"]}])
    with pytest.raises(ValidationError, match="is not in the agreement"):
        production(tmp_path, document)


def test_the_public_view_names_issuers_and_capacities_and_holds_no_key_material():
    view = load_agreement(DEMO).public_view()
    assert {a["slug"] or a["pattern"] for a in view["agencies"]} >= {"sheffield-health", "school-*"}
    assert set(view["capacities"]) == {c.value for c in Capacity}
    text = str(view)
    assert "BEGIN PUBLIC KEY" not in text
    assert "jwks" not in text


def test_the_services_children_are_signposted_to_are_a_closed_list_of_the_agreement():
    demo = load_agreement(DEMO)
    youth = demo.service("community-youth-team")
    assert youth is not None
    assert youth.provider_agency == "sheffield-youth"
    assert demo.service("a-service-nobody-agreed") is None
    assert {"slug": "early-help"}.items() <= next(
        s for s in demo.public_view()["services"] if s["slug"] == "early-help"
    ).items()


def test_a_service_provided_by_an_agency_outside_the_agreement_is_refused():
    document = agreement(
        services=[{"slug": "youth-work", "name": "Youth work", "provider_agency": "nobody-we-know"}]
    )
    with pytest.raises(InvalidAgreement, match="services \\(youth-work\\): provider_agency 'nobody-we-know'"):
        parse_agreement(document)
