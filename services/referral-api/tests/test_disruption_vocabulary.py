"""The kinds of disruption action as configuration: the platform's researched default list,
and a partnership's own file that adds a kind (a gang injunction) without a line of code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from referral_scenarios import POLICE, bearer

from referral_api.disruption.models import DisruptionOutcome, TargetType
from referral_api.disruption.vocabulary import InvalidVocabulary, load_vocabulary
from referral_api.settings import ReferralSettings

OFFICER = {**POLICE, "roles": ["practitioner"]}
ANALYST = {"agency": "sheffield-council", "agency_type": "social_care", "roles": ["analyst"]}

GANG_INJUNCTION = """\
version: "sheffield-2026-12"
extends_default: true
kinds:
  - slug: gang_injunction
    label: Gang-related violence and drug dealing injunction
    applies_to: [person]
    outcomes: [pending, granted, refused, withdrawn]
    authority: Policing and Crime Act 2009 Part 4 (s.34), as amended by the Serious Crime Act 2015.
    source: https://www.legislation.gov.uk/ukpga/2009/26/part/4
"""


def test_the_default_list_holds_the_police_and_licensing_powers_each_with_its_authority():
    vocabulary = load_vocabulary()
    for slug in (
        "child_abduction_warning_notice",
        "arrest",
        "charge",
        "conviction",
        "sexual_risk_order",
        "slavery_and_trafficking_prevention_order",
        "slavery_and_trafficking_risk_order",
        "closure_order",
        "premises_licence_review",
        "premises_licence_revocation",
        "taxi_driver_licence_suspension",
        "taxi_driver_licence_revocation",
        "hotel_guest_information_notice",
        "other",
    ):
        kind = vocabulary.kind(slug)
        assert kind is not None, slug
        assert kind.authority
    assert all(kind.source is not None for kind in vocabulary.kinds)
    cawn = vocabulary.kind("child_abduction_warning_notice")
    assert cawn is not None
    assert cawn.applies_to == [TargetType.person]
    assert "Child Abduction Act 1984 s.2" in cawn.authority
    assert "Children Act 1989 s.49" in cawn.authority
    closure = vocabulary.kind("closure_order")
    assert closure is not None
    assert closure.applies_to == [TargetType.place]
    assert [k.slug for k in vocabulary.kinds if k.counts_as_charge] == ["charge"]
    assert [k.slug for k in vocabulary.kinds if k.counts_as_conviction] == ["conviction"]
    assert [k.slug for k in vocabulary.kinds if k.requires_text] == ["other"]
    conviction = vocabulary.kind("conviction")
    assert conviction is not None
    assert conviction.outcomes == [DisruptionOutcome.convicted]


def test_a_partnerships_own_file_adds_a_kind_it_then_records_and_counts(client, app, tokens, tmp_path: Path):
    own = tmp_path / "sheffield-disruption.yaml"
    own.write_text(GANG_INJUNCTION)
    app.state.settings = app.state.settings.model_copy(update={"disruption_vocabulary_file": own})

    kinds = client.get("/api/v1/disruption/kinds", headers=bearer(tokens, OFFICER)).json()
    assert kinds["version"] == "sheffield-2026-12"
    slugs = [k["slug"] for k in kinds["kinds"]]
    assert slugs[-1] == "gang_injunction"
    assert "child_abduction_warning_notice" in slugs  # the default list is kept

    person = client.post(
        "/api/v1/persons-of-concern", json={"alias": "Shadz"}, headers=bearer(tokens, OFFICER)
    ).json()
    injunction = client.post(
        "/api/v1/disruption/actions",
        json={
            "kind": "gang_injunction",
            "person_of_concern_id": person["id"],
            "action_date": "2026-11-03",
            "outcome": "pending",
        },
        headers=bearer(tokens, OFFICER),
    )
    assert injunction.status_code == 201, injunction.text
    figures = client.get(
        "/api/v1/stats/disruption", params={"period": "2026-27"}, headers=bearer(tokens, ANALYST)
    ).json()
    rows = [t["key"]["kind"] for t in figures["actions"]["row_totals"]]
    assert rows[-1] == "gang_injunction"
    assert figures["actions"]["row_totals"][-1]["count"] == 1


def test_a_kind_the_partnership_no_longer_lists_is_still_counted_after_the_list(
    client, app, tokens, tmp_path: Path
):
    own = tmp_path / "sheffield-disruption.yaml"
    own.write_text(GANG_INJUNCTION)
    app.state.settings = app.state.settings.model_copy(update={"disruption_vocabulary_file": own})
    person = client.post(
        "/api/v1/persons-of-concern", json={"alias": "Shadz"}, headers=bearer(tokens, OFFICER)
    ).json()
    body = {"kind": "gang_injunction", "person_of_concern_id": person["id"], "action_date": "2026-11-03"}
    recorded = client.post(
        "/api/v1/disruption/actions", json={**body, "outcome": "pending"}, headers=bearer(tokens, OFFICER)
    )
    assert recorded.status_code == 201, recorded.text

    app.state.settings = app.state.settings.model_copy(update={"disruption_vocabulary_file": None})
    figures = client.get(
        "/api/v1/stats/disruption", params={"period": "2026-27"}, headers=bearer(tokens, ANALYST)
    ).json()
    assert figures["actions"]["row_totals"][-1]["key"] == {"kind": "gang_injunction"}
    refused = client.post(
        "/api/v1/disruption/actions", json={**body, "outcome": "pending"}, headers=bearer(tokens, OFFICER)
    )
    assert refused.status_code == 422
    assert refused.json()["type"].endswith("unknown-disruption-kind")


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("version: x\nkinds: []\n", "kinds"),
        (
            "version: x\nkinds:\n"
            "  - {slug: a_b, label: AB, applies_to: [person], outcomes: [issued], authority: xy}\n"
            "  - {slug: a_b, label: AB, applies_to: [person], outcomes: [issued], authority: xy}\n",
            "listed twice",
        ),
        (
            "version: x\nkinds:\n  - {slug: both, label: Both, applies_to: [person], outcomes: [issued], "
            "authority: xy, counts_as_charge: true, counts_as_conviction: true}\n",
            "not both",
        ),
        (
            "version: x\nkinds:\n"
            "  - {slug: Bad Slug, label: x, applies_to: [car], outcomes: [x], authority: xy}\n",
            "slug",
        ),
        ("version: [unclosed\n", "YAML"),
    ],
    ids=["empty", "duplicate", "charge-and-conviction", "bad-kind", "not-yaml"],
)
def test_a_vocabulary_file_that_is_not_a_list_of_kinds_stops_the_service_starting(
    tmp_path: Path, text: str, says: str, data_dir: Any
):
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    with pytest.raises(InvalidVocabulary, match=says):
        load_vocabulary(bad)
    with pytest.raises(ValidationError, match="DISRUPTION_VOCABULARY_FILE"):
        ReferralSettings(data_dir=data_dir, environment="test", disruption_vocabulary_file=bad)
