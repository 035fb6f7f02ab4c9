"""An integrator's first day: a Python client generated from `openapi/gateway.json` with
openapi-python-client (a tool nobody here wrote) does the work of the partnership through
the real gateway, one scenario per tag of the spec, reading every answer into the
client's typed models; and every GET operation's 200 answer is read into its model,
every figure included (suppressed cells are `null` with `display: "c"`, not a string
where an integer belongs).

A tag added to the spec without a scenario here fails
`test_every_tag_of_the_spec_has_a_scenario`; a scenario that does not call an operation
of the tag it claims fails too. Operations are looked up by their `operationId`, as an
integrator reading the spec would."""

from __future__ import annotations

import importlib
import inspect
import json
import os
import pkgutil
import shutil
import subprocess
import sys
import types
import typing
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from safeguarding_kit.testing import eventually

pytestmark = pytest.mark.e2e

SPEC_FILE = Path(__file__).parents[2] / "openapi" / "gateway.json"
SPEC: dict[str, Any] = json.loads(SPEC_FILE.read_text())
PACKAGE = "safeguarding_platform_client"
LONDON = ZoneInfo("Europe/London")
METHODS = ("get", "put", "post", "delete", "patch")

# The people of the scenarios (agencies of deploy/partnership/demo-agreement.yaml).
SCHOOL_DSL = {"agency": "sheffield-schools", "agency_type": "education", "roles": ["referrer"]}
HUB_PRACTITIONER = {
    "agency": "sheffield-social-care",
    "agency_type": "social_care",
    "roles": ["practitioner"],
}
HUB_MANAGER = {"agency": "sheffield-social-care", "agency_type": "social_care", "roles": ["manager"]}
HUB_RISK_ASSESSOR = {
    "agency": "sheffield-social-care",
    "agency_type": "social_care",
    "roles": ["risk_assessor"],
}
MACE_COORDINATOR = {
    "agency": "sheffield-social-care",
    "agency_type": "social_care",
    "roles": ["meeting_coordinator"],
}
POLICE_OFFICER = {"agency": "south-yorkshire-police", "agency_type": "police", "roles": ["practitioner"]}
YOUTH_WORKER = {
    "agency": "sheffield-youth",
    "agency_type": "youth_service",
    "roles": ["practitioner"],
    "sub": "out-of-hours@sheffield-youth",
}
YOUTH_PASTOR = {"agency": "st-examples-church", "agency_type": "voluntary", "roles": ["referrer"]}
COUNCIL_AUDITOR = {"agency": "sheffield-council", "agency_type": "social_care", "roles": ["auditor"]}
# The keyworker of the post-abuse service the partnership commissions (`post-abuse-support`).
SAFE_SPACE_KEYWORKER = {
    "agency": "safe-space-sheffield",
    "agency_type": "voluntary",
    "roles": ["practitioner"],
    "sub": "keyworker@safe-space.example",
}
# The council's information governance team: its data protection officer is COUNCIL_AUDITOR;
# a subject access package is reviewed by someone other than the officer who assembled it.
SECOND_DATA_PROTECTION_OFFICER = {**COUNCIL_AUDITOR, "sub": "second.reviewer@sheffield-council"}
DATA_ADMINISTRATOR = {"agency": "sheffield-council", "agency_type": "social_care", "roles": ["admin"]}
COUNCIL_MODEL_OWNER = {
    "agency": "sheffield-council",
    "agency_type": "social_care",
    "roles": ["admin"],
    "sub": "model.owner@sheffield-council",
}
EXACT_ANALYST = {"agency": "sheffield-council", "agency_type": "social_care", "roles": ["analyst"]}
PARTNER = {"agency": "sheffield-schools", "agency_type": "education", "roles": ["practitioner"]}
# A cross-border partner's integration: it sees no child of these tests, so its webhook
# endpoints are never called (a public address, as the outbound policy demands).
LEEDS_POLICE_INTEGRATOR = {"agency": "leeds-police", "agency_type": "police", "roles": ["admin"]}
WEBHOOK_URL = "https://93.184.216.34/hooks/leeds-police/safeguarding"
# Callers for reading every GET operation: the hub's teams, the council's business unit
# (figures, audit, the risk model) and the partner that owns the webhook endpoints.
HUB_READER = {
    "agency": "sheffield-social-care",
    "agency_type": "social_care",
    "roles": ["practitioner", "manager", "meeting_coordinator"],
}
COUNCIL_READER = {
    "agency": "sheffield-council",
    "agency_type": "social_care",
    "roles": ["admin", "analyst", "auditor"],
}


def spec_operations() -> dict[str, tuple[str, str, dict[str, Any]]]:
    """operationId -> (method, path, operation) of the checked-in spec."""
    return {
        operation["operationId"]: (method, path, operation)
        for path, item in SPEC["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    }


def resolved(node: dict[str, Any]) -> dict[str, Any]:
    """A spec object with its `$ref` (to the spec's own components) followed."""
    while "$ref" in node:
        target: Any = SPEC
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def spec_tags() -> set[str]:
    """The tags declared at the top of the spec and those its operations carry."""
    declared = {tag["name"] for tag in SPEC.get("tags", [])}
    return declared | {tag for _, _, op in spec_operations().values() for tag in op.get("tags", [])}


# --- the generated client ------------------------------------------------------------------


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """The client package, generated once from the checked-in spec into a temporary folder."""
    target = tmp_path_factory.mktemp("client") / PACKAGE
    tool = shutil.which("openapi-python-client", path=str(Path(sys.executable).parent))
    assert tool, "openapi-python-client is installed by requirements-dev.txt"
    done = subprocess.run(
        [tool, "generate", "--path", str(SPEC_FILE), "--meta", "none", "--output-path", str(target)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    # A schema or operation the generator cannot read is left out of the client with a warning.
    assert "Unable to parse" not in done.stdout + done.stderr, done.stdout + done.stderr
    sys.path.insert(0, str(target.parent))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(target.parent))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def operation_modules(package: ModuleType) -> dict[str, ModuleType]:
    """Every generated operation module, by its name without underscores (the generator
    snake-cases each operationId: `verifyRiskAuditChain` -> `verify_risk_audit_chain`)."""
    api = importlib.import_module(f"{package.__name__}.api")
    found: dict[str, ModuleType] = {}
    for tag in pkgutil.iter_modules(api.__path__):
        tag_package = importlib.import_module(f"{api.__name__}.{tag.name}")
        for operation in pkgutil.iter_modules(tag_package.__path__):
            module = importlib.import_module(f"{tag_package.__name__}.{operation.name}")
            found[operation.name.replace("_", "")] = module
    return found


def documented_success(operation_id: str) -> int:
    """The one 2xx status the spec documents for an operation."""
    operations = spec_operations()
    assert operation_id in operations, f"openapi/gateway.json has no operation {operation_id}"
    _, _, operation = operations[operation_id]
    successes = [int(code) for code in operation["responses"] if code.startswith("2")]
    assert len(successes) == 1, f"{operation_id} documents {successes}: say which the scenario expects"
    return successes[0]


def success_models(module: ModuleType) -> tuple[type, ...]:
    """The model classes an operation's `sync` may return other than ProblemDetails."""
    answer = inspect.signature(module.sync).return_annotation
    members = typing.get_args(answer) if isinstance(answer, types.UnionType) else (answer,)
    return tuple(
        m
        for m in members
        if isinstance(m, type) and m not in (type(None), Any) and m.__name__ != "ProblemDetails"
    )


@dataclass
class Platform:
    """The generated client as an integrator uses it: an authenticated client per caller,
    operations by operationId, and every answer checked to be the documented status read
    into the documented model."""

    package: ModuleType
    gateway_url: str
    tokens: Callable[..., str]
    operations: dict[str, ModuleType]
    called: set[str] = field(default_factory=set)

    @property
    def models(self) -> Any:
        return importlib.import_module(f"{self.package.__name__}.models")

    def as_(self, caller: dict[str, Any]) -> Any:
        return self.package.AuthenticatedClient(
            base_url=self.gateway_url, token=self.tokens(**caller), raise_on_unexpected_status=True
        )

    def anonymous(self) -> Any:
        """A client without a token (for the operations whose spec says `security: []`)."""
        return self.package.Client(base_url=self.gateway_url, raise_on_unexpected_status=True)

    def operation(self, operation_id: str) -> ModuleType:
        key = operation_id.replace("_", "").lower()
        assert key in self.operations, f"the generated client has no operation {operation_id}"
        return self.operations[key]

    def body_model(self, operation_id: str) -> Any:
        """The model class of an operation's request body."""
        return inspect.signature(self.operation(operation_id).sync_detailed).parameters["body"].annotation

    def webhook_endpoint(self, operation_id: str, event_type: str, **fields: Any) -> Any:
        """A webhook endpoint registration body for one event type, in the types the
        generated model declares (an enum of the service's event types, or plain strings)."""
        model = self.body_model(operation_id)
        declared = typing.get_type_hints(model)["event_types"]
        (item,) = typing.get_args(declared) or (str,)
        return model(url=WEBHOOK_URL, event_types=[item(event_type)], **fields)

    def call(self, operation_id: str, caller: Any, *, status: int | None = None, **arguments: Any) -> Any:
        """The answer (`Response`) of one call; its status must be ``status`` (by default
        the one success status the spec documents) and, for a success with a JSON body,
        `parsed` must be the operation's model."""
        if status is None:
            status = documented_success(operation_id)
        module = self.operation(operation_id)
        self.called.add(operation_id)
        answer = module.sync_detailed(client=caller, **arguments)
        assert answer.status_code == status, f"{operation_id}: {answer.status_code} {answer.content[:600]!r}"
        if 200 <= status < 300 and answer.content and "json" in answer.headers.get("content-type", ""):
            expected = success_models(module)
            assert isinstance(answer.parsed, expected), (
                f"{operation_id}: read as {type(answer.parsed).__name__}, not {expected}"
            )
        elif status >= 400:
            assert type(answer.parsed).__name__ == "ProblemDetails", f"{operation_id}: {answer.parsed!r}"
        return answer

    def read(self, operation_id: str, caller: Any, *, status: int | None = None, **arguments: Any) -> Any:
        """The parsed model of one call (see :meth:`call`)."""
        return self.call(operation_id, caller, status=status, **arguments).parsed


@pytest.fixture(scope="session")
def generated_operations(generated: ModuleType) -> dict[str, ModuleType]:
    return operation_modules(generated)


@pytest.fixture
def platform(request, generated, generated_operations, stack, stack_tokens) -> Iterator[Platform]:
    """The generated client against the running stack; after a scenario, each tag it
    claims to cover must have had one of its operations called."""
    client = Platform(generated, stack.config.gateway_url, stack_tokens, generated_operations)
    failed_before = request.session.testsfailed
    yield client
    if request.session.testsfailed > failed_before:
        return  # the scenario's own failure says more
    claimed = getattr(request.function, "covers", ())
    operations = spec_operations()
    for tag in claimed:
        of_tag = {op_id for op_id, (_, _, op) in operations.items() if tag in op.get("tags", [])}
        assert client.called & of_tag, f"the {tag} scenario called none of the tag's operations"


def covers(*tags: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Marks a scenario as the one for these tags of the spec."""

    def mark(test: Callable[..., Any]) -> Callable[..., Any]:
        test.covers = tags  # type: ignore[attr-defined]
        return test

    return mark


def scenario_tags() -> set[str]:
    return {tag for value in globals().values() for tag in getattr(value, "covers", ())}


def test_every_tag_of_the_spec_has_a_scenario():
    missing = spec_tags() - scenario_tags()
    assert not missing, (
        f"tags of openapi/gateway.json with no generated-client scenario here: {sorted(missing)}"
    )


def test_the_generated_client_has_every_operation_of_the_spec(generated_operations):
    missing = [op for op in spec_operations() if op.replace("_", "").lower() not in generated_operations]
    assert not missing, missing


# --- helpers the scenarios share ------------------------------------------------------------


def uniquely(text: str) -> str:
    return f"{text} {uuid.uuid4().hex[:8]}"


def refer_child(platform: Platform, given_name: str, family_name: str, **child: Any) -> Any:
    """A school's referral about a new child (invented): the parsed ReferralRead."""
    m = platform.models
    body = m.ReferralCreate(
        child=m.ChildDetails(
            given_name=given_name,
            family_name=family_name,
            date_of_birth=child.pop("date_of_birth", date(2011, 5, 17)),
            gender=m.Gender(child.pop("gender", "female")),
            **child,
        ),
        referrer=m.Referrer(name="Sam Teacher", role="Designated Safeguarding Lead"),
        concern_types=[m.ConcernType("criminal_exploitation"), m.ConcernType("county_lines")],
        summary="Seen getting into cars with older youths outside school; new phone and trainers.",
        lawful_basis=m.LawfulBasisForSharing(basis=m.LawfulBasis("consent")),
        urgency=m.Urgency("urgent"),
    )
    with platform.as_(SCHOOL_DSL) as school:
        return platform.read("createReferral", school, body=body)


def etag(answer: Any) -> str:
    value = answer.headers.get("etag")
    assert value, "the answer carries an ETag"
    return str(value)


def screened_child_risk(platform: Platform, child_id: uuid.UUID) -> Any:
    """The child's risk record (the `Response`, with its ETag), once the referral's event
    has opened a screening."""
    with platform.as_(HUB_RISK_ASSESSOR) as assessor:
        operation = platform.operation("getChildRisk")
        answer = eventually(
            lambda: (a := operation.sync_detailed(child_id, client=assessor)).status_code == 200 and a,
            "the referral opened a screening in the risk service",
        )
        platform.called.add("getChildRisk")
        return answer


def published_model(platform: Platform) -> Any:
    with platform.as_(HUB_RISK_ASSESSOR) as assessor:
        page = platform.read("listRiskModels", assessor, limit=100)
    published = [model for model in page.items if model.status.value == "published"]
    assert published, "the platform ships a published risk model"
    return published[0]


def assess(platform: Platform, child_id: uuid.UUID, present: int) -> Any:
    """An assessment answering the published model's first ``present`` indicators present."""
    m = platform.models
    model = published_model(platform)
    answers = [
        m.AnswerIn(
            indicator_code=indicator.code,
            answer=m.Answer("present" if i < present else "absent"),
            evidence="Seen by police with older males at the station." if i < present else None,
            source_agency="south-yorkshire-police" if i < present else None,
        )
        for i, indicator in enumerate(model.indicators)
    ]
    risk = screened_child_risk(platform, child_id)
    with platform.as_(HUB_RISK_ASSESSOR) as assessor:
        return platform.read(
            "assessChild",
            assessor,
            child_id=child_id,
            body=m.AssessmentCreate(answers=answers),
            if_match=etag(risk),
        )


def meeting_series(platform: Platform, first_local: datetime, rrule: str = "FREQ=WEEKLY;COUNT=4") -> Any:
    m = platform.models
    body = m.SeriesCreate(
        meeting_type=m.MeetingType("MACE"),
        title=uniquely("Sheffield MACE"),
        chair_agency="sheffield-social-care",
        first_meeting_local=first_local.strftime("%Y-%m-%dT%H:%M:%S"),
        rrule=rrule,
        bank_holiday_rule=m.BankHolidayRule("keep"),
        core_agency_types=[m.AgencyType("social_care"), m.AgencyType("police"), m.AgencyType("education")],
        quorum_agency_types=[m.AgencyType("social_care"), m.AgencyType("police")],
        duration_minutes=120,
        location="Howden House, Sheffield",
    )
    with platform.as_(MACE_COORDINATOR) as coordinator:
        return platform.read("createMeetingSeries", coordinator, body=body)


def occurrences_of(platform: Platform, series: Any) -> list[Any]:
    """The series' meetings from its first (the list starts now unless told otherwise)."""
    first_day = datetime.fromisoformat(series.first_meeting_local).date()
    with platform.as_(MACE_COORDINATOR) as coordinator:
        page = platform.read("listOccurrences", coordinator, series_id=series.id, from_=first_day)
    return list(page.items)


def last_week_at_ten() -> datetime:
    return datetime.combine(datetime.now(LONDON).date() - timedelta(days=7), datetime.min.time()).replace(
        hour=10
    )


def migrate_long_closed_referral(platform: Platform, given_name: str) -> Any:
    """A referral from the council's old tracker, closed with no further action in 2013,
    about a child born in 1997: past their 25th birthday, so past the retention schedule.
    The parsed ReferralRead."""
    m = platform.models
    received = datetime(2013, 6, 12, 9, 30, tzinfo=LONDON)
    body = m.MigratedReferralCreate(
        source_reference=f"OLD-TRACKER-2013-{uuid.uuid4().hex[:8]}",
        source_agency="sheffield-schools",
        received_at=received,
        concern_types=[m.ConcernType("sexual_exploitation")],
        summary="Seen with older men outside the school gates.",
        lawful_basis=m.LawfulBasisForSharing(basis=m.LawfulBasis("consent")),
        child=m.HistoricChildDetails(
            given_name=given_name,
            family_name=uniquely("Longago"),
            date_of_birth=date(1997, 2, 3),
            gender=m.Gender("female"),
        ),
        referrer=m.Referrer(name="Sam Teacher", role="Designated Safeguarding Lead"),
        outcome=m.MigratedOutcome("no_further_action"),
        decided_at=received + timedelta(days=1),
        decision_reason="Concerns not substantiated by the school or the family.",
    )
    with platform.as_(DATA_ADMINISTRATOR) as council:
        return platform.read("migrateHistoricReferral", council, body=body)


def review_decisions(platform: Platform, package: Any) -> list[Any]:
    """A reviewer's decision on each item of a package that needs one: disclose, except
    police intelligence (never releasable from the platform), which is withheld."""
    m = platform.models
    items = {item.id: item for item in package.items}
    return [
        m.ItemDecision(
            item_id=item_id,
            decision=m.ItemOutcome("withhold" if items[item_id].releasable is False else "disclose"),
        )
        for item_id in package.decisions_required
    ]


def post_abuse_support(platform: Platform, child_id: uuid.UUID, requested_at: datetime) -> Any:
    """The hub's offer of the commissioned post-abuse service to a child: the parsed SupportRead."""
    m = platform.models
    body = m.SupportOffer(
        kind=m.SupportKind("therapeutic_post_abuse_support"),
        provider=m.SupportProvider(service="post-abuse-support"),
        requested_at=requested_at,
    )
    with platform.as_(HUB_PRACTITIONER) as hub:
        return platform.read("offerSupport", hub, child_id=child_id, body=body)


def child_abduction_warning_notice(
    platform: Platform, person_id: uuid.UUID, child_id: uuid.UUID, **fields: Any
) -> Any:
    """A police child abduction warning notice served on a person of concern to protect a
    child, as its body (DisruptionActionCreate)."""
    m = platform.models
    return m.DisruptionActionCreate(
        kind="child_abduction_warning_notice",
        person_of_concern_id=person_id,
        child_ids=[child_id],
        action_date=datetime.now(LONDON).date() - timedelta(days=3),
        outcome=m.DisruptionOutcome("issued"),
        reference=f"SYP-CAWN-{uuid.uuid4().hex[:8]}",
        **fields,
    )


# --- one scenario per tag -----------------------------------------------------------------


@covers("referrals")
def test_a_school_refers_a_child_and_the_hub_screens_allocates_and_contacts_them(platform):
    m = platform.models
    body = m.ReferralCreate(
        child=m.ChildDetails(
            given_name="Jordan",
            family_name=uniquely("Referred"),
            date_of_birth=date(2010, 9, 2),
            gender=m.Gender("male"),
            school="Abbeydale Grange School",
        ),
        referrer=m.Referrer(name="Sam Teacher", role="Designated Safeguarding Lead"),
        concern_types=[m.ConcernType("county_lines")],
        summary="Missing from school three afternoons; seen at the station with older youths.",
        lawful_basis=m.LawfulBasisForSharing(basis=m.LawfulBasis("consent")),
        source_reference=f"MIS-{uuid.uuid4().hex[:12]}",
    )
    key = str(uuid.uuid4())
    with platform.as_(SCHOOL_DSL) as school:
        referral = platform.read("createReferral", school, body=body, idempotency_key=key)
        retried = platform.read("createReferral", school, body=body, idempotency_key=key)
        assert retried.id == referral.id
        assert referral.status == m.ReferralStatus("received")
        mine = platform.read("listReferrals", school, child_id=referral.child_id)
        assert [r.id for r in mine.items] == [referral.id]

    with platform.as_(HUB_PRACTITIONER) as hub:
        screening = platform.call(
            "transitionReferral",
            hub,
            referral_id=referral.id,
            body=m.TransitionCreate(to=m.ReferralStatus("screening")),
            if_match=etag(platform.call("getReferral", hub, referral_id=referral.id)),
        )
        assert screening.parsed.status.value == "screening"
    with platform.as_(HUB_MANAGER) as manager:
        allocated = platform.call(
            "transitionReferral",
            manager,
            referral_id=referral.id,
            body=m.TransitionCreate(
                to=m.ReferralStatus("allocated"),
                allocated_agency="sheffield-social-care",
                allocated_team="Exploitation team",
                allocated_worker="Alex Worker",
                reason="Criminal exploitation indicators; needs a single assessment.",
            ),
            if_match=etag(screening),
        )
        assert allocated.parsed.status.value == "allocated"
        assert allocated.parsed.decided_at is not None
        contacted = platform.read(
            "recordFirstContact",
            manager,
            referral_id=referral.id,
            body=m.FirstContactCreate(contacted_at=datetime.now(LONDON)),
            if_match=etag(allocated),
        )
        assert contacted.first_contact_at is not None
        history = platform.read("getReferralHistory", manager, referral_id=referral.id)
        assert [e.to_status.value for e in history.items][-2:] == ["screening", "allocated"]
        overdue = platform.read("listOverdueReferralDecisions", manager)
        assert referral.id not in {r.id for r in overdue.items}


@covers("referrals")
def test_the_councils_data_administrator_loads_a_referral_from_the_old_tracker(platform):
    m = platform.models
    received = datetime(2023, 5, 10, 9, 30, tzinfo=LONDON)
    body = m.MigratedReferralCreate(
        source_reference=f"CE-TRACKER-2023-{uuid.uuid4().hex[:6]}",
        source_agency="sheffield-schools",
        received_at=received,
        concern_types=[m.ConcernType("criminal_exploitation")],
        summary="Year 10 pupil seen getting into cars with older males after school; new phone.",
        lawful_basis=m.LawfulBasisForSharing(
            basis=m.LawfulBasis("safeguarding_without_consent"),
            reason="Asking consent could put the child at greater risk from the adults involved.",
        ),
        child=m.HistoricChildDetails(
            given_name="Jordan",
            family_name=uniquely("Tracker"),
            date_of_birth=date(2008, 2, 11),
            gender=m.Gender("male"),
        ),
        referrer=m.Referrer(name="Sam Teacher", role="Designated Safeguarding Lead"),
        outcome=m.MigratedOutcome("signposted"),
        signposted_to="community-youth-team",
        decided_at=received + timedelta(days=1),
        decision_reason="Below threshold for statutory work; youth offer fits.",
    )
    with platform.as_(DATA_ADMINISTRATOR) as council:
        migrated = platform.read("migrateHistoricReferral", council, body=body)
    assert migrated.migrated is True
    assert migrated.status.value == "signposted"
    with platform.as_(HUB_PRACTITIONER) as hub:
        assert platform.read("getReferral", hub, referral_id=migrated.id).received_at == received


@covers("children")
def test_the_hub_registers_a_child_corrects_the_record_and_merges_a_duplicate(platform):
    m = platform.models
    family_name = uniquely("Registered")
    details = m.ChildDetails(
        given_name="Casey",
        family_name=family_name,
        date_of_birth=date(2009, 2, 11),
        gender=m.Gender("female"),
        looked_after=True,
        home_ward_code="E05010863",
    )
    with platform.as_(HUB_PRACTITIONER) as hub:
        child = platform.read("registerChild", hub, status=201, body=details)
        read = platform.call("getChild", hub, child_id=child.id)
        assert read.parsed.family_name == family_name
        assert read.parsed.looked_after is True
        corrected = platform.read(
            "updateChild",
            hub,
            child_id=child.id,
            body=m.ChildUpdate(school="Sheffield Park Academy", sen_or_disability=True),
            if_match=etag(read),
        )
        assert corrected.school == "Sheffield Park Academy"
        # Registered again by another worker: a new record the hub sees as a possible duplicate.
        duplicate = platform.read("registerChild", hub, status=201, body=details)
        assert child.id in duplicate.possible_duplicate_ids
        page = platform.read("listChildren", hub, limit=100)
        assert all(isinstance(c, m.ChildRead) for c in page.items)
    with platform.as_(HUB_MANAGER) as manager:
        kept = platform.call("getChild", manager, child_id=child.id)
        merged = platform.read(
            "mergeChildren",
            manager,
            child_id=child.id,
            body=m.ChildMerge(duplicate_id=str(duplicate.id), reason="Registered twice by the hub."),
            if_match=etag(kept),
        )
        assert merged.id == child.id


@covers("missing-episodes")
def test_police_report_a_child_missing_and_the_return_home_interview_is_recorded(platform):
    m = platform.models
    referral = refer_child(platform, "Morgan", uniquely("Missing"))
    went_missing = datetime.now(LONDON) - timedelta(hours=30)
    with platform.as_(POLICE_OFFICER) as police:
        episode = platform.read(
            "reportMissing",
            police,
            body=m.EpisodeCreate(child_id=referral.child_id, reported_missing_at=went_missing),
        )
        assert episode.rhi_due_at is None
        found = platform.call(
            "recordChildFound",
            police,
            episode_id=episode.id,
            body=m.FoundCreate(
                found_at=went_missing + timedelta(hours=20), found_location="Sheffield station"
            ),
            if_match=etag(platform.call("getMissingEpisode", police, episode_id=episode.id)),
        )
        assert found.parsed.rhi_due_at is not None
    with platform.as_(HUB_PRACTITIONER) as hub:
        interviewed = platform.read(
            "recordReturnHomeInterview",
            hub,
            episode_id=episode.id,
            body=m.InterviewCreate(
                outcome=m.InterviewOutcome("completed"),
                at=datetime.now(LONDON) - timedelta(hours=1),
                notes="Spoke with Morgan at home.",
            ),
            if_match=etag(found),
        )
        assert interviewed.rhi_completed_at is not None
        episodes = platform.read("listMissingEpisodes", hub, child_id=referral.child_id)
        assert [e.id for e in episodes.items] == [episode.id]
        overdue = platform.read("listOverdueReturnHomeInterviews", hub)
        assert episode.id not in {e.id for e in overdue.items}


@covers("concerns")
def test_police_record_a_hotel_and_an_adult_of_concern_linked_to_a_child(platform):
    m = platform.models
    referral = refer_child(platform, "Taylor", uniquely("Concern"))
    with platform.as_(POLICE_OFFICER) as police:
        place = platform.read(
            "createPlaceOfConcern",
            police,
            body=m.PlaceCreate(
                place_type=m.PlaceType("hotel"),
                name=uniquely("Budget hotel, Sheffield Parkway"),
                ward_code="E05010863",
                description="Children seen arriving with adults late at night.",
            ),
        )
        person = platform.read(
            "createPersonOfConcern",
            police,
            body=m.PersonCreate(
                alias="Big T",
                approximate_age=24,
                gender=m.Gender("male"),
                description="Drives a grey hatchback; gives children lifts and phones.",
            ),
        )
        linked = platform.read(
            "linkPersonOfConcern",
            police,
            person_id=person.id,
            body=m.LinkCreate(child_id=referral.child_id),
        )
        assert referral.child_id in linked.child_ids
        at_place = platform.read(
            "linkPlaceOfConcern",
            police,
            place_id=place.id,
            body=m.LinkCreate(child_id=referral.child_id),
        )
        assert referral.child_id in at_place.child_ids
        seen_there = platform.read(
            "linkPlaceOfConcern", police, place_id=place.id, body=m.LinkCreate(person_id=person.id)
        )
        assert person.id in seen_there.person_ids
        updated = platform.read(
            "updatePersonOfConcern",
            police,
            person_id=person.id,
            body=m.PersonUpdate(name="Terrence Example"),
            if_match=etag(platform.call("getPersonOfConcern", police, person_id=person.id)),
        )
        assert updated.name == "Terrence Example"
        hotels = platform.read(
            "listPlacesOfConcern", police, place_type=m.PlaceType("hotel"), ward_code="E05010863", limit=100
        )
        assert place.id in {p.id for p in hotels.items}
        assert platform.read("getPlaceOfConcern", police, place_id=place.id).name == place.name
        assert person.id in {p.id for p in platform.read("listPersonsOfConcern", police, limit=100).items}


@covers("third-party-information")
def test_a_youth_pastor_passes_information_and_the_hub_reads_it(platform):
    m = platform.models
    family_name = uniquely("Informed")
    with platform.as_(YOUTH_PASTOR) as pastor:
        receipt = platform.read(
            "submitThirdPartyInformation",
            pastor,
            body=m.ThirdPartyInformationCreate(
                informant=m.Informant(
                    name="Rev. Jo Example", role="youth pastor", organisation="St Example's"
                ),
                child=m.ChildAsKnown(given_name="Sky", family_name=family_name, description="About 14"),
                information="Sky said older boys pay for food and asked Sky to carry a bag to Rotherham.",
                concern_types=[m.ConcernType("criminal_exploitation")],
                lawful_basis=m.LawfulBasisForSharing(
                    basis=m.LawfulBasis("safeguarding_without_consent"),
                    reason="Asking the family first could put Sky at risk.",
                ),
            ),
        )
        assert receipt.receipt_id
    with platform.as_(HUB_PRACTITIONER) as hub:
        received = platform.read("listThirdPartyInformation", hub, limit=100)
        ours = [i for i in received.items if i.child_family_name == family_name]
        assert len(ours) == 1
        read = platform.read("getThirdPartyInformation", hub, information_id=ours[0].id)
        assert read.informant_role == "youth pastor"


@covers("break-glass")
def test_a_youth_worker_breaks_glass_and_the_auditor_sees_the_grant(platform):
    m = platform.models
    referral = refer_child(platform, "Kai", uniquely("Glass"))
    with platform.as_(YOUTH_WORKER) as worker:
        platform.call("getChild", worker, status=404, child_id=referral.child_id)
        grant = platform.read(
            "breakGlassToChild",
            worker,
            child_id=referral.child_id,
            body=m.BreakGlassCreate(reason="Found at 02:00 in a hotel with two adults; planning tonight."),
        )
        assert grant.expires_at > grant.granted_at
        assert platform.read("getChild", worker, child_id=referral.child_id).id == referral.child_id
    with platform.as_(COUNCIL_AUDITOR) as auditor:
        grants = platform.read("listBreakGlassGrants", auditor, child_id=referral.child_id)
        assert [g.id for g in grants.items] == [grant.id]


@covers("audit")
def test_an_auditor_reads_a_childs_access_history_and_verifies_every_chain(platform):
    referral = refer_child(platform, "Robin", uniquely("Audited"))
    with platform.as_(HUB_PRACTITIONER) as hub:
        platform.read("getChild", hub, child_id=referral.child_id)
    screened_child_risk(platform, referral.child_id)
    with platform.as_(COUNCIL_AUDITOR) as auditor:
        log = platform.read("getChildAccessLog", auditor, child_id=referral.child_id)
        assert {e.actor_agency for e in log.items} >= {"sheffield-schools", "sheffield-social-care"}
        risk_log = platform.read("getChildRiskAccessLog", auditor, child_id=referral.child_id)
        assert any(e.actor_agency == "sheffield-social-care" for e in risk_log.items)
        platform.read("getChildMeetingsAccessLog", auditor, child_id=referral.child_id)
        for verify in ("verifyReferralAuditChain", "verifyRiskAuditChain", "verifyMeetingsAuditChain"):
            verified = platform.read(verify, auditor)
            assert verified.ok is True, verify
            assert verified.first_broken_seq is None


@covers("risk-models")
def test_the_council_drafts_a_risk_model_sees_its_impact_and_asks_a_second_person_to_publish(platform):
    m = platform.models
    shipped = published_model(platform)
    with platform.as_(COUNCIL_MODEL_OWNER) as owner:
        current = platform.read("getRiskModel", owner, model_id=shipped.id)
        assert current.indicators
        draft = platform.read("startRiskModelVersion", owner, model_id=shipped.id)
        assert draft.status.value == "draft"
        body = m.RiskModelCreate(
            name=draft.name,
            description="Workshop weights: hotels weigh more.",
            medium_from=draft.medium_from,
            high_from=draft.high_from,
            indicators=[
                m.Indicator(
                    code=i.code,
                    wording=i.wording,
                    category=i.category,
                    exploitation_type=i.exploitation_type,
                    weight=min(i.weight + 1, 10),
                    hard_trigger=i.hard_trigger,
                )
                for i in draft.indicators
            ],
            age_modifiers=[m.AgeModifier(max_age=a.max_age, points=a.points) for a in draft.age_modifiers],
        )
        replaced = platform.call(
            "replaceDraftRiskModel",
            owner,
            model_id=draft.id,
            body=body,
            if_match=etag(platform.call("getRiskModel", owner, model_id=draft.id)),
        )
        impact = platform.read("getRiskModelImpact", owner, model_id=draft.id)
        assert impact.model_id == draft.id
        assert isinstance(impact.children_moving_down, m.FigureCell)
        requested = platform.read(
            "requestRiskModelApproval", owner, model_id=draft.id, if_match=etag(replaced)
        )
        assert requested.requested_by == COUNCIL_MODEL_OWNER["sub"]
        assert platform.read("getRiskModelApprovalRequest", owner, model_id=draft.id).model_id == draft.id
        # Publication takes a second person: the one who asked cannot approve.
        platform.call(
            "approveRiskModel",
            owner,
            status=403,
            model_id=draft.id,
            if_match=etag(platform.call("getRiskModel", owner, model_id=draft.id)),
        )
        # A model drafted from scratch, for criminal exploitation only.
        fresh = platform.read(
            "createRiskModel",
            owner,
            body=m.RiskModelCreate(
                name=uniquely("County lines screening"),
                medium_from=3,
                high_from=6,
                indicators=[
                    m.Indicator(
                        code="carries_packages",
                        wording="Seen carrying packages or cash for adults",
                        category=m.IndicatorCategory("criminal_activity"),
                        exploitation_type=m.ExploitationType("criminal"),
                        weight=3,
                    ),
                    m.Indicator(
                        code="travels_out_of_area",
                        wording="Found in another town without explanation",
                        category=m.IndicatorCategory("missing"),
                        exploitation_type=m.ExploitationType("criminal"),
                        weight=3,
                        hard_trigger=True,
                    ),
                ],
            ),
        )
        assert fresh.status.value == "draft"
        assert {d.id for d in platform.read("listRiskModels", owner, limit=100).items} >= {draft.id, fresh.id}
    with platform.as_(HUB_MANAGER) as manager:
        moving = platform.read("listChildrenMovingLevel", manager, model_id=draft.id)
        assert all(c.child_id for c in moving.items)


@covers("assessments")
def test_a_risk_assessor_assesses_a_referred_child_and_a_manager_overrides_the_level(platform):
    m = platform.models
    referral = refer_child(platform, "Ellis", uniquely("Assessed"))
    screening = screened_child_risk(platform, referral.child_id).parsed
    assert screening.assessments_count == 0
    assessment = assess(platform, referral.child_id, present=2)
    assert assessment.score > 0
    with platform.as_(HUB_MANAGER) as manager:
        read = platform.call("getAssessment", manager, assessment_id=assessment.id)
        overridden = platform.read(
            "overrideRiskLevel",
            manager,
            assessment_id=assessment.id,
            body=m.OverrideCreate(
                level=m.RiskLevel("high"), reason="New intelligence from the CETG about the adults involved."
            ),
            if_match=etag(read),
        )
        assert overridden.final_level.value == "high"
        assert overridden.override_reason
        risk = platform.read("getChildRisk", manager, child_id=referral.child_id)
        assert risk.current_level.value == "high"
        history = platform.read("listChildAssessments", manager, child_id=referral.child_id)
        assert [a.id for a in history.items] == [assessment.id]
        high = platform.read("listChildRisks", manager, level=m.RiskLevel("high"), limit=100)
        assert all(r.current_level.value == "high" for r in high.items)


@covers("assessments")
def test_a_risk_assessor_opens_a_screening_for_a_child_known_before_the_platform(platform):
    m = platform.models
    with platform.as_(HUB_PRACTITIONER) as hub:
        child = platform.read(
            "registerChild",
            hub,
            status=201,
            body=m.ChildDetails(
                given_name="Rowan",
                family_name=uniquely("Known"),
                date_of_birth=date(2012, 1, 9),
                gender=m.Gender("not_known"),
            ),
        )
    with platform.as_(HUB_RISK_ASSESSOR) as assessor:
        opened = platform.read("openScreening", assessor, child_id=child.id, body=m.ScreeningCreate())
        assert opened.child_id == child.id


@covers("meeting-series")
def test_a_coordinator_schedules_weekly_mace_meetings_and_publishes_the_calendar(platform):
    first = datetime.combine(date.today() + timedelta(days=14), datetime.min.time()).replace(hour=10)
    series = meeting_series(platform, first)
    assert series.timezone == "Europe/London"
    with platform.as_(MACE_COORDINATOR) as coordinator:
        assert platform.read("getMeetingSeries", coordinator, series_id=series.id).title == series.title
        listed = platform.read("listMeetingSeries", coordinator, limit=100)
        assert all(s.meeting_type for s in listed.items)
        calendar = platform.call("getSeriesCalendar", coordinator, series_id=series.id)
        assert calendar.headers["content-type"].startswith("text/calendar")
        assert b"BEGIN:VCALENDAR" in calendar.content
    occurrences = occurrences_of(platform, series)
    assert len(occurrences) == 4
    assert occurrences[0].starts_at.astimezone(LONDON).hour == 10


@covers("meetings")
def test_a_coordinator_records_who_came_moves_one_meeting_and_cancels_another(platform):
    m = platform.models
    # Fortnightly from last week: one meeting behind us, two ahead whatever the time of day.
    series = meeting_series(platform, last_week_at_ten(), rrule="FREQ=WEEKLY;INTERVAL=2;COUNT=3")
    held, moved, cancelled = occurrences_of(platform, series)
    with platform.as_(MACE_COORDINATOR) as coordinator:
        attendance = platform.read(
            "recordAttendance",
            coordinator,
            occurrence_id=held.id,
            body=m.AttendanceUpdate(
                attendees=[
                    m.AttendeeIn(
                        agency="sheffield-social-care",
                        agency_type=m.AgencyType("social_care"),
                        person_name="Chair Example",
                        status=m.AttendanceStatus("present"),
                        role="Chair",
                    ),
                    m.AttendeeIn(
                        agency="south-yorkshire-police",
                        agency_type=m.AgencyType("police"),
                        person_name="DS Lee Example",
                        status=m.AttendanceStatus("present"),
                    ),
                ]
            ),
        )
        assert attendance.quorate is True
        assert platform.read("getAttendance", coordinator, occurrence_id=held.id).quorate is True
        marked = platform.read(
            "markOccurrenceHeld",
            coordinator,
            occurrence_id=held.id,
            if_match=etag(platform.call("getOccurrence", coordinator, occurrence_id=held.id)),
        )
        assert marked.status.value == "held"
        new_start = (moved.starts_at.astimezone(LONDON) + timedelta(days=1)).replace(tzinfo=None)
        rescheduled = platform.read(
            "rescheduleOccurrence",
            coordinator,
            occurrence_id=moved.id,
            body=m.RescheduleCreate(starts_at_local=new_start.strftime("%Y-%m-%dT%H:%M:%S")),
            if_match=etag(platform.call("getOccurrence", coordinator, occurrence_id=moved.id)),
        )
        assert rescheduled.moved is True
        called_off = platform.read(
            "cancelOccurrence",
            coordinator,
            occurrence_id=cancelled.id,
            body=m.CancelCreate(reason="Chair on leave; children discussed at the CETG instead."),
            if_match=etag(platform.call("getOccurrence", coordinator, occurrence_id=cancelled.id)),
        )
        assert called_off.status.value == "cancelled"


@covers("agendas")
def test_mace_discusses_a_child_records_a_decision_and_follows_up_an_action(platform):
    m = platform.models
    referral = refer_child(platform, "Quinn", uniquely("Agenda"))
    series = meeting_series(platform, last_week_at_ten(), rrule="FREQ=WEEKLY;COUNT=2")
    meeting = occurrences_of(platform, series)[0]
    with platform.as_(MACE_COORDINATOR) as coordinator:
        platform.read("generateAgenda", coordinator, occurrence_id=meeting.id)
        added = platform.call(
            "addAgendaItem",
            coordinator,
            occurrence_id=meeting.id,
            body=m.AgendaItemCreate(
                kind=m.ItemKind("child"),
                title="Quinn: seen with older males at the station",
                reason="Raised by the school; police intelligence links two adults.",
                child_ids=[referral.child_id],
            ),
        )
        item = added.parsed
        agenda = platform.read("getAgenda", coordinator, occurrence_id=meeting.id)
        assert item.id in {i.id for i in agenda.items}
        minuted = platform.read(
            "updateAgendaItem",
            coordinator,
            item_id=item.id,
            body=m.AgendaItemUpdate(minutes="Police to share disruption plan; school to monitor attendance."),
            if_match=etag(added),
        )
        assert minuted.minutes
        decision = platform.read(
            "recordDecision",
            coordinator,
            item_id=item.id,
            body=m.DecisionCreate(text="Child remains at high risk; review in four weeks."),
        )
        assert [d.id for d in platform.read("listDecisions", coordinator, item_id=item.id).items] == [
            decision.id
        ]
        agreed = platform.call(
            "agreeAction",
            coordinator,
            item_id=item.id,
            body=m.ActionCreate(
                description="Share the disruption plan for the station with British Transport Police.",
                owner_agency="south-yorkshire-police",
                owner_person="DS Lee Example",
                due_date=date.today() - timedelta(days=1),
                child_id=referral.child_id,
            ),
        )
        action = agreed.parsed
        assert action.overdue is True
        overdue = platform.read(
            "listOverdueActionsByAgency", coordinator, owner_agency="south-yorkshire-police"
        )
        assert any(row.owner_agency == "south-yorkshire-police" for row in overdue.items)
        done = platform.read(
            "updateAction",
            coordinator,
            action_id=action.id,
            body=m.ActionUpdate(status=m.ActionStatus("done")),
            if_match=etag(agreed),
        )
        assert done.status.value == "done"
        actions = platform.read("listMeetingActions", coordinator, occurrence_id=meeting.id)
        assert [a.id for a in actions.items] == [action.id]


@covers("webhooks")
@pytest.mark.parametrize(
    ("service", "event_type"),
    [("Referral", "referral.received"), ("Risk", "risk.assessed"), ("Meetings", "meeting.action_overdue")],
)
def test_a_partner_integrator_registers_a_webhook_endpoint_and_removes_it(platform, service, event_type):
    body = platform.webhook_endpoint(f"create{service}WebhookEndpoint", event_type, secret="s" * 40)
    with platform.as_(LEEDS_POLICE_INTEGRATOR) as integrator:
        endpoint = platform.read(f"create{service}WebhookEndpoint", integrator, body=body)
        assert endpoint.secret == "s" * 40
        assert endpoint.agency == "leeds-police"
        listed = platform.read(f"list{service}WebhookEndpoints", integrator, limit=100)
        assert endpoint.id in {e.id for e in listed.items if e.active}
        deliveries = platform.read(f"list{service}WebhookDeliveries", integrator, endpoint_id=endpoint.id)
        assert deliveries.items == []
        platform.call(f"remove{service}WebhookEndpoint", integrator, endpoint_id=endpoint.id)
        # A removed endpoint is not redelivered to: register it again instead.
        platform.call(
            f"redeliver{service}WebhookDelivery",
            integrator,
            status=409,
            endpoint_id=endpoint.id,
            delivery_id=1,
        )


@covers("calendar-feeds")
def test_a_police_chair_subscribes_a_calendar_app_to_the_cetg_and_revokes_it(platform):
    m = platform.models
    series = meeting_series(platform, last_week_at_ten(), rrule="FREQ=WEEKLY;COUNT=3")
    chair = {"agency": "south-yorkshire-police", "agency_type": "police", "roles": ["practitioner"]}
    with platform.as_(chair) as police:
        feed = platform.read(
            "createCalendarFeed",
            police,
            body=m.CalendarFeedCreate(label="CETG on my work phone", series_ids=[series.id], valid_days=30),
        )
        assert feed.series_ids == [series.id]
        token = feed.url.rsplit("/", 1)[-1].removesuffix(".ics")
        with platform.anonymous() as calendar_app:
            calendar = platform.call("readCalendarFeed", calendar_app, token=token)
            assert calendar.headers["content-type"].startswith("text/calendar")
            assert b"BEGIN:VCALENDAR" in calendar.content
        mine = platform.read("listCalendarFeeds", police, limit=100)
        assert feed.id in {f.id for f in mine.items}
        platform.call("revokeCalendarFeed", police, feed_id=feed.id)
        with platform.anonymous() as calendar_app:
            platform.call("readCalendarFeed", calendar_app, status=404, token=token)
        revoked = {f.id: f for f in platform.read("listCalendarFeeds", police, limit=100).items}
        assert revoked[feed.id].revoked_at is not None


@covers("partnership")
def test_an_integrator_reads_the_partnership_agreement_it_works_under(platform):
    with platform.as_(POLICE_OFFICER) as police:
        agreement = platform.read("getPartnershipAgreement", police)
    slugs = {agency.slug for agency in agreement.agencies}
    assert {"sheffield-social-care", "south-yorkshire-police", "leeds-police"} <= slugs
    assert agreement.version


def figure_calls(platform: Platform) -> dict[str, Callable[[Any], Any]]:
    """Every figure operation, as an integrator would call it."""
    m = platform.models
    return {
        "referrals by financial quarter and age band": lambda c: platform.read(
            "getReferralFigures",
            c,
            group_by=[m.GroupBy("financial_quarter"), m.GroupBy("age_band")],
            period="2025-26",
        ),
        "referrals by outcome": lambda c: platform.read(
            "getReferralFigures", c, group_by=[m.GroupBy("outcome")]
        ),
        "timeliness": lambda c: platform.read("getTimeliness", c, period="2025-26"),
        "places of concern by ward": lambda c: platform.read("getPlacesOfConcernByWard", c),
        "risk levels": lambda c: platform.read("getRiskLevelFigures", c),
        "risk movements": lambda c: platform.read("getRiskMovementFigures", c, period="2025-26"),
        "assessments per child": lambda c: platform.read("getAssessmentsPerChildFigures", c),
        "meeting actions": lambda c: platform.read("getActionFigures", c),
        "support started by kind and provider": lambda c: platform.read(
            "getSupportFigures",
            c,
            measure=m.SupportMeasure("started"),
            group_by=[m.SupportGroupBy("kind"), m.SupportGroupBy("provider")],
            period="2025-26",
        ),
        "support ended by reason": lambda c: platform.read(
            "getSupportFigures",
            c,
            measure=m.SupportMeasure("ended"),
            group_by=[m.SupportGroupBy("end_reason")],
        ),
        "support waiting times": lambda c: platform.read("getSupportWaitingTimes", c),
        "support contacts by engagement and setting": lambda c: platform.read(
            "getSupportContactFigures",
            c,
            group_by=[m.ContactGroupBy("engagement"), m.ContactGroupBy("setting")],
        ),
        "risk levels at the start and end of support": lambda c: platform.read("getSupportRiskMovement", c),
        # Two tables in one answer: each is read and checked.
        "disruption actions by kind": lambda c: platform.read("getDisruptionFigures", c).actions,
        "charges and convictions": lambda c: platform.read("getDisruptionFigures", c).charges_and_convictions,
    }


@covers("statistics")
@pytest.mark.parametrize("caller", [EXACT_ANALYST, PARTNER], ids=["exact analyst", "partner"])
def test_a_generated_client_reads_every_figure_into_its_models(platform, caller):
    referral = refer_child(platform, "Avery", uniquely("Counted"), date_of_birth=date(2011, 1, 1))
    assert referral.id
    with platform.as_(caller) as c:
        for name, call in figure_calls(platform).items():
            figures = call(c)
            assert figures.exact is (caller is EXACT_ANALYST), name
        table = figure_calls(platform)["referrals by outcome"](c)
        for cell in table.cells:
            if cell.suppressed is True:
                assert cell.count is None
                assert cell.display == "c"
            else:
                assert isinstance(cell.count, int), cell


@covers("retention")
def test_the_data_protection_officer_holds_a_child_for_an_inquiry_previews_disposal_and_releases_the_hold(
    platform,
):
    m = platform.models
    old = migrate_long_closed_referral(platform, "Olwen")
    child = (m.HoldSubject("child"), old.child_id)
    with platform.as_(HUB_PRACTITIONER) as hub:
        schedule = platform.read("getRetentionSchedule", hub)
    rules = {rule.record_class.value: rule for rule in schedule.record_classes}
    assert rules["no_further_action_referral"].authority
    assert schedule.version

    # An inquiry asks for every record of Olwen's case: nothing may be destroyed until it reports.
    body = m.LegalHoldCreate(
        subject_type=m.HoldSubject("child"),
        subject_id=old.child_id,
        reason="The independent review of the 2013 school referrals asked for every record of this case.",
        reference=uniquely("Sheffield review 2026/04"),
    )
    key = str(uuid.uuid4())
    with platform.as_(COUNCIL_AUDITOR) as officer:
        hold = platform.read("placeLegalHold", officer, body=body, idempotency_key=key)
        assert platform.read("placeLegalHold", officer, body=body, idempotency_key=key).id == hold.id
        assert hold.active is True
        assert hold.placed_by_agency == "sheffield-council"
        holds = platform.read("listLegalHolds", officer, active=True, subject_id=old.child_id)
        assert [h.id for h in holds.items] == [hold.id]

        preview = platform.read("runDisposal", officer, body=m.DisposalRunCreate(dry_run=True))
        assert preview.dry_run is True
        assert child in {(r.subject_type, r.subject_id) for r in preview.held}
        assert child not in {(r.subject_type, r.subject_id) for r in preview.records}

        # The inquiry reports: released, the records follow the schedule again.
        released = platform.read(
            "releaseLegalHold",
            officer,
            hold_id=hold.id,
            body=m.LegalHoldRelease(reason="The review reported on 3 March 2027 and returned the records."),
            if_match=etag(platform.call("getLegalHold", officer, hold_id=hold.id)),
        )
        assert released.active is False
        assert released.released_at is not None
        again = platform.read("runDisposal", officer, body=m.DisposalRunCreate(dry_run=True))
        assert child in {(r.subject_type, r.subject_id) for r in again.records}
        # A preview disposes of nothing.
        assert platform.read("listDisposals", officer, subject_id=old.child_id).items == []
    with platform.as_(HUB_PRACTITIONER) as hub:
        assert platform.read("getChild", hub, child_id=old.child_id).id == old.child_id
        # Holds are the information governance team's: the hub cannot place one.
        platform.call("placeLegalHold", hub, status=403, body=body)


@covers("subject-access")
def test_a_data_protection_officer_answers_a_parents_subject_access_request_and_the_referrer_is_nowhere(
    platform,
):
    m = platform.models
    family_name = uniquely("Accessby")
    referral_body = m.ReferralCreate(
        child=m.ChildDetails(
            given_name="Jordan",
            family_name=family_name,
            date_of_birth=date(2011, 3, 14),
            gender=m.Gender("male"),
        ),
        referrer=m.Referrer(
            name="Ms Priya Shah",
            role="Designated Safeguarding Lead",
            phone="0114 496 0123",
            email="priya.shah@hillsborough-academy.example",
        ),
        concern_types=[m.ConcernType("criminal_exploitation")],
        summary="Jordan has a second phone and is collected by older males after school.",
        lawful_basis=m.LawfulBasisForSharing(basis=m.LawfulBasis("consent")),
    )
    with platform.as_(SCHOOL_DSL) as school:
        referral = platform.read("createReferral", school, body=referral_body)
    child_id = referral.child_id
    assess(platform, child_id, present=1)

    # Jordan's mother asks for everything held about him; her identity was checked.
    body = m.SubjectAccessRequestCreate(
        subject_type=m.SubjectType("child"),
        subject_id=child_id,
        requester_relationship=m.RequesterRelationship("parent_or_carer"),
        identity_verified=True,
        received_on=datetime.now(LONDON).date(),
        reference=f"IG-SAR-{uuid.uuid4().hex[:8]}",
    )
    key = str(uuid.uuid4())
    with platform.as_(COUNCIL_AUDITOR) as officer:
        opened = platform.read("openSubjectAccessRequest", officer, body=body, idempotency_key=key)
        retried = platform.read("openSubjectAccessRequest", officer, body=body, idempotency_key=key)
        assert retried.id == opened.id
        assert opened.status.value == "open"
        assert opened.due_on > opened.received_on
        mine = platform.read("listSubjectAccessRequests", officer, subject_id=child_id)
        assert [r.id for r in mine.items] == [opened.id]
        # Records in three services: the officer takes the two further months the law allows.
        extended = platform.read(
            "extendSubjectAccessRequest",
            officer,
            request_id=opened.id,
            body=m.ExtensionCreate(
                reason="Complex request: records held by three services to be reviewed with the police."
            ),
            if_match=etag(platform.call("getSubjectAccessRequest", officer, request_id=opened.id)),
        )
        assert extended.extended_due_on > extended.due_on
        # The risk and meetings services' parts, as the referral service asks for them.
        assert platform.read("getChildRiskSubjectAccessExtract", officer, child_id=child_id).assessments
        assert platform.read("getChildMeetingsSubjectAccessExtract", officer, child_id=child_id).child_id == (
            child_id
        )
        assembled = platform.read("assembleSubjectAccessPackage", officer, request_id=opened.id)
        assert assembled.status.value == "ready_for_review"
        assert {item.source.value for item in assembled.items} >= {"referral-service", "risk-service"}
        # Who assembled the package does not decide on it.
        platform.call(
            "decideSubjectAccessRequest",
            officer,
            status=403,
            request_id=opened.id,
            body=m.ReviewDecisionCreate(
                outcome=m.ReviewOutcome("release"),
                reasons="Identity checked; referrer redacted.",
                items=review_decisions(platform, assembled),
            ),
            if_match=etag(platform.call("getSubjectAccessRequest", officer, request_id=opened.id)),
        )

    with platform.as_(SECOND_DATA_PROTECTION_OFFICER) as reviewer:
        package = platform.call("getSubjectAccessPackage", reviewer, request_id=opened.id)
        document = platform.call("getSubjectAccessPackageDocument", reviewer, request_id=opened.id)
        assert document.headers["content-type"].startswith("text/html")
        platform.call("getSubjectAccessRelease", reviewer, status=409, request_id=opened.id)
        decided = platform.read(
            "decideSubjectAccessRequest",
            reviewer,
            request_id=opened.id,
            body=m.ReviewDecisionCreate(
                outcome=m.ReviewOutcome("release"),
                reasons="Identity checked; the referrer and their contact details are redacted.",
                items=review_decisions(platform, package.parsed),
            ),
            if_match=etag(package),
        )
        assert decided.status.value == "released"
        assert decided.decision.decided_by == SECOND_DATA_PROTECTION_OFFICER["sub"]
        release = platform.call("getSubjectAccessRelease", reviewer, request_id=opened.id)
        assert release.headers["content-type"].startswith("text/html")

    values = [str(f.value) for item in package.parsed.items for f in item.fields]
    assert any("[redacted: referrer]" in value for value in values)
    for text in ("\n".join(values), document.parsed, release.parsed):
        assert family_name in text
        assert "second phone" in text
        for trace in ("Priya", "Shah", "0114 496 0123", "hillsborough-academy"):
            assert trace not in text, trace


@covers("support")
def test_the_hub_offers_post_abuse_support_and_the_provider_starts_it_sees_the_child_and_ends_it(platform):
    m = platform.models
    referral = refer_child(platform, "Riley", uniquely("Supported"))
    child_id = referral.child_id
    now = datetime.now(LONDON)
    offer = m.SupportOffer(
        kind=m.SupportKind("therapeutic_post_abuse_support"),
        provider=m.SupportProvider(service="post-abuse-support"),
        requested_at=now - timedelta(days=20),
    )
    key = str(uuid.uuid4())
    with platform.as_(HUB_PRACTITIONER) as hub:
        offered = platform.read("offerSupport", hub, child_id=child_id, body=offer, idempotency_key=key)
        retried = platform.read("offerSupport", hub, child_id=child_id, body=offer, idempotency_key=key)
        assert retried.id == offered.id
        assert offered.status.value == "offered"
        assert offered.started_at is None

    with platform.as_(SAFE_SPACE_KEYWORKER) as keyworker:
        started = platform.call(
            "recordSupportStart",
            keyworker,
            support_id=offered.id,
            body=m.SupportStart(started_at=now - timedelta(days=13)),
            if_match=etag(platform.call("getSupport", keyworker, support_id=offered.id)),
        )
        assert started.parsed.status.value == "active"
        assert started.parsed.waiting_days == 7
        # A session with Riley at the secure unit; the setting is a kind of place, never an address.
        contact = m.ContactCreate(
            contacted_on=now.date() - timedelta(days=6),
            setting=m.ContactSetting("secure_unit"),
            engagement=m.Engagement("engaged"),
        )
        contact_key = str(uuid.uuid4())
        recorded = platform.read(
            "recordSupportContact",
            keyworker,
            support_id=offered.id,
            body=contact,
            idempotency_key=contact_key,
        )
        again = platform.read(
            "recordSupportContact",
            keyworker,
            support_id=offered.id,
            body=contact,
            idempotency_key=contact_key,
        )
        assert again.id == recorded.id
        contacts = platform.read("listSupportContacts", keyworker, support_id=offered.id)
        assert [c.id for c in contacts.items] == [recorded.id]
        read = platform.read("getSupportContact", keyworker, support_id=offered.id, contact_id=recorded.id)
        assert read.setting.value == "secure_unit"
        ended = platform.read(
            "recordSupportEnd",
            keyworker,
            support_id=offered.id,
            body=m.SupportEnd(ended_at=now - timedelta(hours=2), reason=m.EndReason("goals_met")),
            if_match=etag(started),
        )
        assert ended.status.value == "ended"
        assert ended.end_reason.value == "goals_met"

    with platform.as_(HUB_PRACTITIONER) as hub:
        of_child = platform.read("listChildSupport", hub, child_id=child_id)
        assert [s.id for s in of_child.items] == [offered.id]
        # (`status` is also the helper's expected HTTP status: the list is filtered by provider.)
        theirs = platform.read(
            "listSupport",
            hub,
            provider_agency="safe-space-sheffield",
            service="post-abuse-support",
            limit=100,
        )
        assert {s.id: s.status.value for s in theirs.items}[offered.id] == "ended"
        assert platform.read("getSupport", hub, support_id=offered.id).ended_at is not None


@covers("disruption")
def test_police_serve_a_child_abduction_warning_notice_on_a_person_of_concern_and_later_withdraw_it(
    platform,
):
    m = platform.models
    referral = refer_child(platform, "Jamie", uniquely("Protected"))
    child_id = referral.child_id
    with platform.as_(POLICE_OFFICER) as police:
        kinds = platform.read("listDisruptionKinds", police)
        (notice_kind,) = [k for k in kinds.kinds if k.slug == "child_abduction_warning_notice"]
        assert {"issued", "withdrawn"} <= {o.value for o in notice_kind.outcomes}
        person = platform.read(
            "createPersonOfConcern",
            police,
            body=m.PersonCreate(alias="Shadz", approximate_age=24, gender=m.Gender("male")),
        )
        platform.read(
            "linkPersonOfConcern", police, person_id=person.id, body=m.LinkCreate(child_id=child_id)
        )
        body = child_abduction_warning_notice(platform, person.id, child_id)
        key = str(uuid.uuid4())
        notice = platform.read("recordDisruptionAction", police, body=body, idempotency_key=key)
        retried = platform.read("recordDisruptionAction", police, body=body, idempotency_key=key)
        assert retried.id == notice.id
        assert notice.outcome.value == "issued"
        assert notice.child_ids == [child_id]
        read = platform.call("getDisruptionAction", police, action_id=notice.id)
        # The person moved away and the notice was withdrawn with the local authority's agreement.
        withdrawn = platform.read(
            "updateDisruptionOutcome",
            police,
            action_id=notice.id,
            body=m.DisruptionOutcomeUpdate(
                outcome=m.DisruptionOutcome("withdrawn"), outcome_date=datetime.now(LONDON).date()
            ),
            if_match=etag(read),
        )
        assert withdrawn.outcome.value == "withdrawn"
        assert withdrawn.version > notice.version
    with platform.as_(HUB_PRACTITIONER) as hub:
        against_him = platform.read("listDisruptionActions", hub, person_of_concern_id=person.id)
        assert [a.id for a in against_him.items] == [notice.id]


# --- every GET operation's 200 answer, read into its model ----------------------------------


@dataclass
class World:
    """One of each record, for the ids in the GET operations' paths."""

    ids: dict[str, Any]
    webhook_endpoints: dict[str, uuid.UUID]
    # Ids whose parameter name two services share, by the path prefix they belong under.
    ids_under: dict[str, dict[str, Any]] = field(default_factory=dict)

    def path_value(self, name: str, path: str) -> Any:
        for prefix, ids in self.ids_under.items():
            if path.startswith(prefix + "/") and name in ids:
                return ids[name]
        if name == "endpoint_id":
            for endpoints, endpoint_id in self.webhook_endpoints.items():
                if path.startswith(endpoints + "/"):
                    return endpoint_id
        assert name in self.ids, f"no record for the path parameter {name} of {path}: add one to `world`"
        return self.ids[name]


def webhook_endpoint_creates() -> list[tuple[str, str]]:
    """(operationId, path) of each service's webhook endpoint registration in the spec,
    whatever the paths are called."""
    return [
        (op_id, path)
        for op_id, (method, path, op) in spec_operations().items()
        if method == "post" and "webhooks" in op.get("tags", []) and path.endswith("/endpoints")
    ]


def event_type_for(path: str) -> str:
    """An event type the service at this path publishes (the first its schema lists)."""
    operation = SPEC["paths"][path]["post"]
    schema = resolved(resolved(operation["requestBody"])["content"]["application/json"]["schema"])
    listed = resolved(schema["properties"]["event_types"].get("items", {})).get("enum")
    if listed:
        return str(listed[0])
    return (
        "risk.assessed"
        if "risk" in path
        else "meeting.action_overdue"
        if "meetings" in path
        else "referral.received"
    )


@pytest.fixture(scope="module")
def world(generated, generated_operations, stack, stack_tokens) -> World:
    """A referred, assessed child with a missing episode, a place and a person of concern,
    third-party information, a MACE meeting that discussed them, a subject access request
    about them released to their parent, a draft risk model waiting for its second
    approver, a legal hold on the person of concern, a partner's webhook endpoint in each
    service, a disposal record (of a child past retention, and whatever else was due),
    post-abuse support the commissioned provider started with a contact recorded, and a
    police child abduction warning notice protecting the child."""
    platform = Platform(generated, stack.config.gateway_url, stack_tokens, generated_operations)
    m = platform.models
    referral = refer_child(platform, "Harper", uniquely("World"))
    child_id = referral.child_id
    screened_child_risk(platform, child_id)
    assessment = assess(platform, child_id, present=1)
    with platform.as_(POLICE_OFFICER) as police:
        episode = platform.read(
            "reportMissing",
            police,
            body=m.EpisodeCreate(
                child_id=child_id, reported_missing_at=datetime.now(LONDON) - timedelta(hours=3)
            ),
        )
        place = platform.read(
            "createPlaceOfConcern",
            police,
            body=m.PlaceCreate(place_type=m.PlaceType("park"), name=uniquely("Park"), ward_code="E05010863"),
        )
        person = platform.read("createPersonOfConcern", police, body=m.PersonCreate(alias="Lee"))
    with platform.as_(YOUTH_PASTOR) as pastor:
        family_name = uniquely("World")
        platform.read(
            "submitThirdPartyInformation",
            pastor,
            body=m.ThirdPartyInformationCreate(
                informant=m.Informant(name="Jo", role="youth pastor"),
                child=m.ChildAsKnown(given_name="Harper", family_name=family_name),
                information="Harper has new clothes and two phones.",
                lawful_basis=m.LawfulBasisForSharing(basis=m.LawfulBasis("consent")),
            ),
        )
    with platform.as_(HUB_PRACTITIONER) as hub:
        received = platform.read("listThirdPartyInformation", hub, limit=100)
        information = next(i for i in received.items if i.child_family_name == family_name)
    series = meeting_series(platform, last_week_at_ten(), rrule="FREQ=WEEKLY;COUNT=2")
    meeting = occurrences_of(platform, series)[0]
    with platform.as_(MACE_COORDINATOR) as coordinator:
        item = platform.read(
            "addAgendaItem",
            coordinator,
            occurrence_id=meeting.id,
            body=m.AgendaItemCreate(
                kind=m.ItemKind("child"), title="Harper", reason="Missing again.", child_ids=[child_id]
            ),
        )
        platform.read("recordDecision", coordinator, item_id=item.id, body=m.DecisionCreate(text="Review."))
        feed = platform.read(
            "createCalendarFeed", coordinator, body=m.CalendarFeedCreate(label="MACE", series_ids=[series.id])
        )
    shipped = published_model(platform)
    with platform.as_(COUNCIL_MODEL_OWNER) as owner:
        draft = platform.read("startRiskModelVersion", owner, model_id=shipped.id)
        platform.call(
            "requestRiskModelApproval",
            owner,
            model_id=draft.id,
            if_match=etag(platform.call("getRiskModel", owner, model_id=draft.id)),
        )
    long_closed = migrate_long_closed_referral(platform, "Wynne")
    with platform.as_(COUNCIL_AUDITOR) as officer:
        disposed = platform.read("runDisposal", officer, body=m.DisposalRunCreate(dry_run=False))
        assert long_closed.child_id in {r.subject_id for r in disposed.records}
        hold = platform.read(
            "placeLegalHold",
            officer,
            body=m.LegalHoldCreate(
                subject_type=m.HoldSubject("person_of_concern"),
                subject_id=person.id,
                reason="Police operation into county lines in the city centre needs the record kept.",
                reference=uniquely("SYP Operation Lantern"),
            ),
        )
        request = platform.read(
            "openSubjectAccessRequest",
            officer,
            body=m.SubjectAccessRequestCreate(
                subject_type=m.SubjectType("child"),
                subject_id=child_id,
                requester_relationship=m.RequesterRelationship("parent_or_carer"),
                identity_verified=True,
            ),
        )
        package = platform.call("assembleSubjectAccessPackage", officer, request_id=request.id)
    with platform.as_(SECOND_DATA_PROTECTION_OFFICER) as reviewer:
        platform.read(
            "decideSubjectAccessRequest",
            reviewer,
            request_id=request.id,
            body=m.ReviewDecisionCreate(
                outcome=m.ReviewOutcome("release"),
                reasons="Identity checked; the referrer is redacted.",
                items=review_decisions(platform, package.parsed),
            ),
            if_match=etag(package),
        )
    now = datetime.now(LONDON)
    support = post_abuse_support(platform, child_id, requested_at=now - timedelta(days=10))
    with platform.as_(SAFE_SPACE_KEYWORKER) as keyworker:
        platform.call(
            "recordSupportStart",
            keyworker,
            support_id=support.id,
            body=m.SupportStart(started_at=now - timedelta(days=8)),
            if_match=etag(platform.call("getSupport", keyworker, support_id=support.id)),
        )
        contact = platform.read(
            "recordSupportContact",
            keyworker,
            support_id=support.id,
            body=m.ContactCreate(
                contacted_on=now.date() - timedelta(days=2),
                setting=m.ContactSetting("community_venue"),
                engagement=m.Engagement("partly_engaged"),
            ),
        )
    with platform.as_(POLICE_OFFICER) as police:
        platform.read(
            "linkPersonOfConcern", police, person_id=person.id, body=m.LinkCreate(child_id=child_id)
        )
        notice = platform.read(
            "recordDisruptionAction",
            police,
            body=child_abduction_warning_notice(platform, person.id, child_id),
        )
    endpoints = {}
    with platform.as_(LEEDS_POLICE_INTEGRATOR) as integrator:
        for operation_id, path in webhook_endpoint_creates():
            body = platform.webhook_endpoint(operation_id, event_type_for(path))
            created = platform.read(operation_id, integrator, body=body)
            endpoints[path] = created.id
    return World(
        ids={
            "child_id": child_id,
            "referral_id": referral.id,
            "assessment_id": assessment.id,
            "episode_id": episode.id,
            "place_id": place.id,
            "person_id": person.id,
            "information_id": information.id,
            "series_id": series.id,
            "occurrence_id": meeting.id,
            "item_id": item.id,
            "model_id": draft.id,
            "hold_id": hold.id,
            "request_id": request.id,
            "token": feed.url.rsplit("/", 1)[-1].removesuffix(".ics"),
            "support_id": support.id,
            "contact_id": contact.id,
        },
        webhook_endpoints=endpoints,
        # `action_id` is also a meeting action's (PATCH only, so far).
        ids_under={"/api/v1/disruption": {"action_id": notice.id}},
    )


# Required query parameters, as an integrator would fill them.
REQUIRED_QUERY: dict[str, Callable[[Any], dict[str, Any]]] = {
    "getReferralFigures": lambda m: {"group_by": [m.GroupBy("financial_quarter"), m.GroupBy("gender")]},
    "getSupportFigures": lambda m: {
        "measure": m.SupportMeasure("started"),
        "group_by": [m.SupportGroupBy("kind"), m.SupportGroupBy("provider")],
    },
    "getSupportContactFigures": lambda m: {"group_by": [m.ContactGroupBy("engagement")]},
}


def get_operations() -> list[str]:
    return sorted(op_id for op_id, (method, _, _) in spec_operations().items() if method == "get")


@pytest.mark.parametrize("operation_id", get_operations())
def test_every_get_operation_answers_200_read_into_its_model(platform, world, operation_id):
    """Called by the hub's teams, else the council's business unit, else the webhook
    endpoints' owner: who may call what is the access matrix's business; here, that the
    200 answer is what the generated model reads."""
    _, path, operation = spec_operations()[operation_id]
    m = platform.models
    arguments: dict[str, Any] = {}
    for parameter in map(resolved, operation.get("parameters", [])):
        if parameter["in"] == "path":
            arguments[parameter["name"]] = world.path_value(parameter["name"], path)
        elif parameter.get("required"):
            assert operation_id in REQUIRED_QUERY, (
                f"{operation_id} needs {parameter['name']}: add it to REQUIRED_QUERY"
            )
    arguments.update(REQUIRED_QUERY.get(operation_id, lambda _: {})(m))
    module = platform.operation(operation_id)
    answers = []
    callers = (
        [None] if operation.get("security") == [] else [HUB_READER, COUNCIL_READER, LEEDS_POLICE_INTEGRATOR]
    )
    for caller in callers:
        with platform.as_(caller) if caller else platform.anonymous() as client:
            answer = module.sync_detailed(client=client, **arguments)
        answers.append(f"{caller and caller['agency']}: {answer.status_code} {answer.content[:300]!r}")
        if answer.status_code == 200:
            break
    else:
        pytest.fail(f"{operation_id}: no caller got 200: " + "; ".join(answers))
    media_types = resolved(operation["responses"]["200"])["content"]
    if "application/json" in media_types:
        expected = success_models(module)
        assert isinstance(answer.parsed, expected), (
            f"{operation_id}: read as {answer.parsed!r}, not {expected}"
        )
    else:
        declared = next(iter(media_types))
        assert answer.headers["content-type"].startswith(declared), answer.headers["content-type"]
        assert answer.content
