"""Assembling a subject access package: everything held about the subject, item by item
and marked with the service it came from, with what identifies other people redacted
(:mod:`.redaction`) and what needs a person's judgement flagged.

A child's package holds their own record (names, date of birth, identifiers: their own
data), every referral about them with its history and decisions, third-party information,
missing episodes and return-home interviews, the support offered to them (its kind, provider,
dates, end reason, risk levels, and each contact's day, kind of place, engagement and recording
agency), who read their record (by agency and role),
their risk assessments and level over time (risk service), and the agenda items, decisions
and actions about them (meetings service). Referrers and information givers are redacted,
their agencies kept (an organisation is not a third party in the ICO's guidance; its
people are), except that a third-party information giver's agency is redacted too, since
in the voluntary and faith sector the organisation identifies the person. Staff appear
by agency only. Persons and places of concern linked to the child, and disruption actions
that name the child as one they protect, are police intelligence: the package says one is
linked and which agency recorded it, for the reviewer to consult, and never holds or releases
their content (nor counts reads of it among the disclosures of the child's record).

A person of concern's package holds their record with the recording agency, their
intelligence note (flagged), and their links with every child's id redacted."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import or_, select, true
from sqlalchemy.orm import Session, selectinload

from referral_api.children.models import Child
from referral_api.concerns.models import ConcernLink, PersonOfConcern, PlaceOfConcern
from referral_api.database import AUDIT
from referral_api.disruption.models import DisruptionAction, DisruptionActionChild
from referral_api.missing_episodes.models import MissingEpisode
from referral_api.referrals.models import Referral, ReferralEvent
from referral_api.subject_access.redaction import (
    KnownPerson,
    PersonName,
    RedactionReason,
    Redactor,
    build_redactor,
    children_named_in,
    mark,
)
from referral_api.subject_access.schemas import (
    FlagKind,
    ItemFlag,
    PackageField,
    PackageItem,
    PackageItemKind,
    SourceService,
)
from referral_api.subject_access.upstream import MeetingsExtract, Recipient, RiskExtract
from referral_api.support.models import Support, SupportContact
from referral_api.support.rules import waiting_days
from referral_api.third_party.models import ThirdPartyInformation
from safeguarding_kit.audit.recipients import AccessRecipient, recipients_of_child, recipients_of_record
from safeguarding_kit.partnership.agreement import Agreement
from safeguarding_kit.working_days import LONDON

REFERRAL, RISK, MEETINGS = (
    SourceService.referral_service,
    SourceService.risk_service,
    SourceService.meetings_service,
)

SERIOUS_HARM_INFORMATION = (
    "Given in confidence by a third party: decide whether disclosing it could cause serious harm to the "
    "child or anyone else (social work exemption), and whether its account identifies the giver."
)
SERIOUS_HARM_INTERVIEW = (
    "The child's account at the return-home interview: decide whether disclosing it could cause serious "
    "harm to the child or anyone else (social work exemption)."
)
INTELLIGENCE_LINK = (
    "A {what} recorded by {agency} is linked to the child. Police intelligence is not released from this "
    "platform: the recording agency decides under the crime exemption (DPA 2018 Sch. 2 para. 2)."
)
DISRUPTION_LINK = (
    "A disruption action recorded by {agency} names the child as one it protects. Police intelligence is "
    "not released from this platform: the recording agency decides under the crime exemption (DPA 2018 "
    "Sch. 2 para. 2)."
)
INTELLIGENCE_NOTE = (
    "The intelligence note about this person: consult {agency}, which decides under the crime exemption "
    "(DPA 2018 Sch. 2 para. 2)."
)
OTHER_CHILDREN = (
    "Other children's names were found and redacted; the rest of the text may still identify them."
)
FREE_TEXT = "Written by a person: it may name people the platform cannot recognise. Read it before release."
DECIDED_FLAGS = {FlagKind.serious_harm, FlagKind.other_people_named, FlagKind.police_intelligence}


@dataclass(frozen=True)
class Value:
    label: str
    value: str | None


@dataclass(frozen=True)
class Removed:
    """A value that identifies someone else, taken out whole."""

    label: str
    reason: RedactionReason


@dataclass(frozen=True)
class FreeText:
    """Text a person wrote: redacted when the package is finished, and flagged."""

    label: str
    text: str | None


DraftField = Value | Removed | FreeText


@dataclass
class Draft:
    """An item before its free text is redacted."""

    id: str
    source: SourceService
    kind: PackageItemKind
    title: str
    recorded_at: datetime | None
    fields: list[DraftField]
    flags: list[ItemFlag] = field(default_factory=list)
    releasable: bool = True

    def free_texts(self) -> list[str]:
        return [f.text for f in self.fields if isinstance(f, FreeText) and f.text]


AgencyName = Callable[[str | None], str | None]


def agency_names(agreement: Agreement) -> AgencyName:
    """An agency's name in the partnership agreement (its slug when it is one of a family,
    such as a school, or unknown)."""

    def name(slug: str | None) -> str | None:
        if slug is None:
            return None
        entry = agreement.agency(slug)
        return entry.name if entry is not None and entry.slug == slug else slug

    return name


def when(moment: datetime | None) -> str | None:
    """A time as a reader in England reads it: ``24 November 2026, 09:15``."""
    if moment is None:
        return None
    local = moment.astimezone(LONDON)
    return f"{local.day} {local:%B %Y, %H:%M}"


def day(value: date | None) -> str | None:
    return None if value is None else f"{value.day} {value:%B %Y}"


def words(value: StrEnum | str | None) -> str | None:
    return None if value is None else str(value).replace("_", " ")


def yes_no(value: bool) -> str:
    return "yes" if value else "no"


def _flag(kind: FlagKind, note: str) -> ItemFlag:
    return ItemFlag(kind=kind, note=note)


# The child's own records, in the referral service.


def child_family(session: Session, child: Child) -> list[Child]:
    """The child's record first, then every duplicate merged into it (their history is theirs)."""
    family = [child]
    seen = {child.id}
    frontier = [child.id]
    while frontier:
        merged = list(
            session.scalars(
                select(Child).where(Child.merged_into_id.in_(frontier)).order_by(Child.created_at, Child.id)
            )
        )
        frontier = [c.id for c in merged if c.id not in seen]
        seen.update(frontier)
        family += [c for c in merged if c.id in frontier]
    return family


def _child_record(child: Child, name: AgencyName, *, merged: bool) -> Draft:
    return Draft(
        id=f"child_record:{child.id}",
        source=REFERRAL,
        kind=PackageItemKind.child_record,
        title="An earlier record of the child, merged into this one" if merged else "The child's record",
        recorded_at=child.created_at,
        fields=[
            Value("Given name", child.given_name),
            Value("Family name", child.family_name),
            Value("Date of birth", day(child.date_of_birth)),
            Value("Gender", words(child.gender)),
            Value("Ethnicity", words(child.ethnicity)),
            Value("Looked after", yes_no(child.looked_after)),
            Value("Special educational needs or disability", yes_no(child.sen_or_disability)),
            Value("School", child.school),
            Value("Home ward", child.home_ward_code),
            Value("NHS number", child.nhs_number),
            Value("Police reference", child.police_reference),
            Value("Local authority reference", child.local_authority_reference),
            Value("Record made by", name(child.created_by_agency)),
            Value("Record made on", when(child.created_at)),
        ],
    )


def _referral(referral: Referral, name: AgencyName, signposted: AgencyName) -> Draft:
    fields: list[DraftField] = [
        Value("Received", when(referral.received_at)),
        Value("Referring agency", name(referral.agency)),
        Value("Type of agency", words(referral.agency_type)),
        Removed("Referrer", RedactionReason.referrer),
        Removed("Referrer's role", RedactionReason.referrer),
    ]
    if referral.referrer_phone:
        fields.append(Removed("Referrer's phone", RedactionReason.referrer))
    if referral.referrer_email:
        fields.append(Removed("Referrer's email", RedactionReason.referrer))
    fields += [
        Value("Referring agency's reference", referral.source_reference),
        Value("Concerns", ", ".join(words(c) or "" for c in referral.concern_types)),
        Value("Urgency", words(referral.urgency)),
        FreeText("What was seen or heard", referral.summary),
        Value("Lawful basis for sharing", words(referral.lawful_basis)),
        FreeText("Why it was shared without consent", referral.lawful_basis_reason),
        Value("Status", words(referral.status)),
        Value("Decision due", when(referral.decision_due_at)),
        Value("Decided", when(referral.decided_at)),
        Value("First contact", when(referral.first_contact_at)),
        Value("Allocated to team", referral.allocated_team),
    ]
    if referral.allocated_worker:
        fields.append(Removed("Allocated worker", RedactionReason.staff))
    fields += [
        Value("Allocated to agency", name(referral.allocated_agency)),
        Value("Signposted to", signposted(referral.signposted_to)),
    ]
    return Draft(
        id=f"referral:{referral.id}",
        source=REFERRAL,
        kind=PackageItemKind.referral,
        title=f"Referral from {name(referral.agency)}",
        recorded_at=referral.received_at,
        fields=fields,
    )


def _referral_step(step: ReferralEvent, name: AgencyName) -> Draft:
    return Draft(
        id=f"referral_step:{step.id}",
        source=REFERRAL,
        kind=PackageItemKind.referral_step,
        title=f"Referral {words(step.to_status)}",
        recorded_at=step.occurred_at,
        fields=[
            Value("Referral", str(step.referral_id)),
            Value("From", words(step.from_status)),
            Value("To", words(step.to_status)),
            Value("When", when(step.occurred_at)),
            Value("By agency", name(step.actor_agency)),
            # The first step is the referral being sent: by the referrer.
            Removed("By", RedactionReason.referrer if step.from_status is None else RedactionReason.staff),
            FreeText("Reason", step.reason),
        ],
    )


def _third_party(record: ThirdPartyInformation) -> Draft:
    giver = RedactionReason.information_giver
    fields: list[DraftField] = [
        Value("Received", when(record.received_at)),
        Removed("Information giver", giver),
        Removed("Their role", giver),
    ]
    if record.informant_organisation:
        fields.append(Removed("Their organisation", giver))
    if record.informant_contact:
        fields.append(Removed("Their contact details", giver))
    fields += [
        Removed("Sent by agency", giver),
        Value("Child's given name as given", record.child_given_name),
        Value("Child's family name as given", record.child_family_name),
        Value("Child's date of birth as given", day(record.child_date_of_birth)),
        Value("Child's NHS number as given", record.child_nhs_number),
        FreeText("The child as described", record.child_description),
        FreeText("Information", record.information),
        Value("Concerns", ", ".join(words(c) or "" for c in record.concern_types)),
        Value("Lawful basis for sharing", words(record.lawful_basis)),
        FreeText("Why it was shared without consent", record.lawful_basis_reason),
    ]
    return Draft(
        id=f"third_party_information:{record.id}",
        source=REFERRAL,
        kind=PackageItemKind.third_party_information,
        title="Information from a third party",
        recorded_at=record.received_at,
        fields=fields,
        flags=[_flag(FlagKind.serious_harm, SERIOUS_HARM_INFORMATION)],
    )


def _missing_episode(episode: MissingEpisode, name: AgencyName) -> Draft:
    fields: list[DraftField] = [
        Value("Reported missing", when(episode.reported_missing_at)),
        Value("Reported by agency", name(episode.reported_by_agency)),
        Removed("Reported by", RedactionReason.staff),
        Value("Found", when(episode.found_at)),
        FreeText("Where found", episode.found_location),
        Value("Return-home interview due", when(episode.rhi_due_at)),
        Value("Interview offered", when(episode.rhi_offered_at)),
        Value("Interview held", when(episode.rhi_completed_at)),
        Value("Interview declined", when(episode.rhi_declined_at)),
    ]
    if episode.rhi_recorded_by:
        fields.append(Removed("Interview recorded by", RedactionReason.staff))
    fields.append(FreeText("Interview notes", episode.rhi_notes))
    return Draft(
        id=f"missing_episode:{episode.id}",
        source=REFERRAL,
        kind=PackageItemKind.missing_episode,
        title="Reported missing",
        recorded_at=episode.reported_missing_at,
        fields=fields,
        flags=[_flag(FlagKind.serious_harm, SERIOUS_HARM_INTERVIEW)] if episode.rhi_notes else [],
    )


def _intelligence_link(link: ConcernLink, what: str, agency: str | None) -> Draft:
    return Draft(
        id=f"concern_link:{link.id}",
        source=REFERRAL,
        kind=PackageItemKind.concern_link,
        title=f"Linked to a {what}",
        recorded_at=link.linked_at,
        fields=[
            Removed(what.capitalize(), RedactionReason.police_intelligence),
            Value("Recorded by agency", agency),
            Value("Linked on", when(link.linked_at)),
            Removed("Linked by", RedactionReason.staff),
        ],
        flags=[_flag(FlagKind.police_intelligence, INTELLIGENCE_LINK.format(what=what, agency=agency))],
        releasable=False,
    )


def _support(support: Support, name: AgencyName, service_name: AgencyName) -> Draft:
    """A support offered to the child: the child's own data, with the agencies (organisations,
    not people) that offered and provide it."""
    started = support.started_at
    return Draft(
        id=f"support:{support.id}",
        source=REFERRAL,
        kind=PackageItemKind.support,
        title=f"Support offered: {words(support.kind)}",
        recorded_at=support.requested_at,
        fields=[
            Value("Kind of support", words(support.kind)),
            Value("Through the service", service_name(support.provider_service)),
            Value("Provided by agency", name(support.provider_agency)),
            Value("Offered by agency", name(support.offered_by)),
            Value("Requested", when(support.requested_at)),
            Value("Started", when(started)),
            Value(
                "Days waited", None if started is None else str(waiting_days(support.requested_at, started))
            ),
            Value("Ended", when(support.ended_at)),
            Value("Why it ended", words(support.end_reason)),
            Value("Risk level at the start", words(support.risk_level_at_start)),
            Value("Risk level at the end", words(support.risk_level_at_end)),
        ],
    )


def _support_contact(contact: SupportContact, support: Support, name: AgencyName) -> Draft:
    """A contact with the child under a support: a day, a kind of place (never an address),
    how the child engaged, and the agency that recorded it (no person is recorded)."""
    return Draft(
        id=f"support_contact:{contact.id}",
        source=REFERRAL,
        kind=PackageItemKind.support_contact,
        title=f"Contact under support: {words(support.kind)}",
        recorded_at=contact.recorded_at,
        fields=[
            Value("Support", str(contact.support_id)),
            Value("Day", day(contact.contacted_on)),
            Value("Kind of place", words(contact.setting)),
            Value("Engagement", words(contact.engagement)),
            Value("Recorded by agency", name(contact.recorded_by)),
            Value("Recorded on", when(contact.recorded_at)),
        ],
    )


def _disruption_link(link: DisruptionActionChild, action: DisruptionAction, agency: str | None) -> Draft:
    """A disruption action that names the child: police intelligence, shown only as a link
    recorded by an agency; never its kind, target, outcome, reference or text."""
    return Draft(
        id=f"disruption_link:{link.id}",
        source=REFERRAL,
        kind=PackageItemKind.disruption_link,
        title="Named in a disruption action",
        recorded_at=action.recorded_at,
        fields=[
            Removed("Action", RedactionReason.police_intelligence),
            Value("Recorded by agency", agency),
            Value("Recorded on", when(action.recorded_at)),
            Removed("Recorded by", RedactionReason.staff),
        ],
        flags=[_flag(FlagKind.police_intelligence, DISRUPTION_LINK.format(agency=agency))],
        releasable=False,
    )


# What counts as the record being disclosed to someone: reading it, or seeing it listed.
# Writing to it is not (a referrer sending a referral receives nothing), and links to persons
# and places of concern, and disruption actions, are police intelligence.
DISCLOSING_ACTIONS = {"read", "list"}
INTELLIGENCE_RESOURCES = {"person_of_concern", "place_of_concern", "disruption_action"}


def _access(
    source: SourceService,
    recipients: Iterable[AccessRecipient | Recipient],
    name: AgencyName,
    givers: Collection[str] = (),
) -> Draft:
    """Who the records here were disclosed to, by agency and role (the recipients of UK GDPR
    Art. 15(1)(c)), never by person or by kind of record (which would say what is held). The
    agencies that gave third-party information (``givers``) are redacted: their entry would
    name who gave it."""
    seen: dict[tuple[str, str, str], list[AccessRecipient | Recipient]] = {}
    for r in recipients:
        if r.action in DISCLOSING_ACTIONS and r.resource_type not in INTELLIGENCE_RESOURCES:
            seen.setdefault((r.agency, r.agency_type, r.roles), []).append(r)
    fields: list[DraftField] = []
    for (agency, agency_type, roles), rows in seen.items():
        who = (
            mark(RedactionReason.information_giver)
            if agency in givers
            else f"{name(agency)} ({words(agency_type)})"
        )
        times = sum(r.times for r in rows)
        first, last = min(r.first_at for r in rows), max(r.last_at for r in rows)
        fields.append(
            Value(
                f"{who}, {words(roles)}",
                f"{times} time{'s' if times != 1 else ''}, {when(first)} to {when(last)}",
            )
        )
    return Draft(
        id=f"access_log:{source.value}",
        source=source,
        kind=PackageItemKind.access_log,
        title=f"Who the records were shown to ({source.value})",
        recorded_at=None,
        fields=fields or [Value("Nobody", None)],
    )


# The other services' extracts.


def _risk(extract: RiskExtract, name: AgencyName, givers: Collection[str]) -> list[Draft]:
    drafts: list[Draft] = []
    current = extract.current_risk
    if current is not None:
        history = "; ".join(f"{when(change.at)}: {change.level}" for change in extract.level_history)
        drafts.append(
            Draft(
                id="current_risk",
                source=RISK,
                kind=PackageItemKind.current_risk,
                title="Risk of exploitation now, and over time",
                recorded_at=current.last_assessed_at,
                fields=[
                    Value("Current level", current.current_level),
                    Value("Previous level", current.previous_level),
                    Value("Trend", current.trend),
                    Value("Last assessed", when(current.last_assessed_at)),
                    Value("At this level since", when(current.level_changed_at)),
                    Value("Next review due", when(current.next_review_due)),
                    Value("Screening opened", when(current.screening_opened_at)),
                    Value("First assessment due", when(current.initial_assessment_due)),
                    Value("Level over time", history or None),
                ],
            )
        )
    for assessment in extract.assessments:
        fields: list[DraftField] = [
            Value("Assessed", when(assessment.assessed_at)),
            Removed("Assessed by", RedactionReason.staff),
            Value("Assessing agency", name(assessment.assessed_agency)),
            Value("Risk model", f"{assessment.model_name} (version {assessment.model_version})"),
            Value(
                "Age at assessment",
                None if assessment.age_at_assessment is None else str(assessment.age_at_assessment),
            ),
            Value("Score", str(assessment.score)),
            Value("Points for age", str(assessment.age_points)),
            Value("Level the score gives", assessment.computed_level),
            Value("Level decided", assessment.final_level),
            Value(
                "Indicators that made it high whatever the score", ", ".join(assessment.hard_triggers) or None
            ),
        ]
        if assessment.overridden:
            fields += [
                Removed("Level set by", RedactionReason.staff),
                Value("Level set on", when(assessment.override_at)),
                FreeText("Why the level was set by professional judgement", assessment.override_reason),
            ]
        for answer in assessment.answers:
            label = answer.indicator_wording or answer.indicator_code
            source = f", from {name(answer.source_agency)}" if answer.source_agency else ""
            fields.append(Value(label, f"{words(answer.answer)} ({answer.contribution} points{source})"))
            if answer.evidence:
                fields.append(FreeText(f"Evidence: {label}", answer.evidence))
        drafts.append(
            Draft(
                id=f"risk_assessment:{assessment.id}",
                source=RISK,
                kind=PackageItemKind.risk_assessment,
                title=f"Risk assessment by {name(assessment.assessed_agency)}",
                recorded_at=assessment.assessed_at,
                fields=fields,
            )
        )
    drafts.append(_access(RISK, extract.access, name, givers))
    return drafts


INTELLIGENCE_ITEM_KINDS = {"person_of_concern": "person of concern", "place_of_concern": "place of concern"}


def _meetings(extract: MeetingsExtract, name: AgencyName, givers: Collection[str]) -> list[Draft]:
    drafts: list[Draft] = []
    for item in extract.agenda_items:
        meeting = f"{item.meeting.meeting_type}: {item.meeting.series_title}, {when(item.meeting.starts_at)}"
        intelligence = INTELLIGENCE_ITEM_KINDS.get(item.kind)
        if intelligence is not None:
            # A CETG or mapping item is about the person or place; the child is one of those linked.
            drafts.append(
                Draft(
                    id=f"agenda_item:{item.id}",
                    source=MEETINGS,
                    kind=PackageItemKind.agenda_item,
                    title=f"Discussed at a meeting about a {intelligence}",
                    recorded_at=item.meeting.starts_at,
                    fields=[
                        Value("Meeting", meeting),
                        Removed("Item", RedactionReason.police_intelligence),
                        Removed("Minutes and decisions", RedactionReason.police_intelligence),
                    ],
                    flags=[
                        _flag(
                            FlagKind.police_intelligence,
                            f"An item about a {intelligence} the child is linked to, at a "
                            f"{item.meeting.meeting_type} meeting. Not released from this platform: the "
                            "agency that chairs the meeting and the police decide under the crime exemption.",
                        )
                    ],
                    releasable=False,
                )
            )
            continue
        meeting_day = day(item.meeting.starts_at.astimezone(LONDON).date())
        fields: list[DraftField] = [
            Value("Meeting", meeting),
            Value("Meeting status", words(item.meeting.status)),
            Value("Item", item.title),
            FreeText("Why it was discussed", "; ".join(r.detail for r in item.reasons) or None),
        ]
        if item.with_other_children:
            fields.append(Value("Discussed with other children", "yes (they are not named here)"))
        fields.append(FreeText("Minutes", item.minutes))
        fields += [FreeText(f"Decision ({when(d.recorded_at)})", d.text) for d in item.decisions]
        drafts.append(
            Draft(
                id=f"agenda_item:{item.id}",
                source=MEETINGS,
                kind=PackageItemKind.agenda_item,
                title=f"Discussed at {item.meeting.meeting_type} ({meeting_day})",
                recorded_at=item.meeting.starts_at,
                fields=fields,
            )
        )
    for action in extract.actions:
        action_fields: list[DraftField] = [
            FreeText("Action", action.description),
            Value("Owned by agency", name(action.owner_agency)),
        ]
        if action.owner_person_recorded:
            action_fields.append(Removed("Owned by", RedactionReason.staff))
        action_fields += [
            Value("Due", day(action.due_date)),
            Value("Status", words(action.status)),
            Value("Done", when(action.completed_at)),
        ]
        drafts.append(
            Draft(
                id=f"meeting_action:{action.id}",
                source=MEETINGS,
                kind=PackageItemKind.meeting_action,
                title="An action agreed at a meeting",
                recorded_at=action.created_at,
                fields=action_fields,
            )
        )
    drafts.append(_access(MEETINGS, extract.access, name, givers))
    return drafts


# Redaction and flags, once every item is drafted.


def _finish(draft: Draft, redactor: Redactor) -> PackageItem:
    fields: list[PackageField] = []
    flags = list(draft.flags)
    named_others = written = False
    for f in draft.fields:
        if isinstance(f, Removed):
            fields.append(PackageField(label=f.label, value=mark(f.reason), redacted=f.reason))
        elif isinstance(f, FreeText):
            if not f.text:
                fields.append(PackageField(label=f.label, value=None, free_text=True))
                continue
            written = True
            redacted = redactor.redact(f.text)
            named_others |= RedactionReason.other_child in redacted.reasons
            fields.append(
                PackageField(
                    label=f.label, value=redacted.text, redactions=list(redacted.reasons), free_text=True
                )
            )
        else:
            fields.append(PackageField(label=f.label, value=f.value))
    if named_others:
        flags.append(_flag(FlagKind.other_people_named, OTHER_CHILDREN))
    if written and draft.releasable:
        flags.append(_flag(FlagKind.free_text, FREE_TEXT))
    return PackageItem(
        id=draft.id,
        source=draft.source,
        kind=draft.kind,
        title=draft.title,
        recorded_at=draft.recorded_at,
        fields=fields,
        flags=flags,
        decision_required=draft.releasable and any(flag.kind in DECIDED_FLAGS for flag in flags),
        releasable=draft.releasable,
    )


def finish(
    session: Session,
    drafts: Sequence[Draft],
    known_people: Sequence[KnownPerson],
    *,
    exclude: Iterable[uuid.UUID],
    subject: PersonName | None,
) -> list[PackageItem]:
    """The package's items: each draft's free text redacted of ``known_people`` and of the
    other children the platform holds (every child but those in ``exclude``, never under
    the ``subject``'s own name), and flagged."""
    corpus = "\n".join(text for draft in drafts for text in draft.free_texts())
    others: list[PersonName] = []
    if corpus:
        excluded = list(exclude)
        rows = session.execute(
            select(Child.given_name, Child.family_name).where(
                Child.id.not_in(excluded) if excluded else true()
            )
        )
        others = children_named_in(corpus, (PersonName(r.given_name, r.family_name) for r in rows), subject)
    redactor = build_redactor(known_people, others)
    return [_finish(draft, redactor) for draft in drafts]


def child_package(
    session: Session,
    child_id: uuid.UUID,
    risk: RiskExtract,
    meetings: MeetingsExtract,
    agreement: Agreement,
) -> list[PackageItem]:
    """Everything held about the child ``child_id`` (the record the request's subject is, or
    was merged into) across the three services, redacted and flagged. A record no longer
    held here (disposed of) leaves what the other services still hold."""
    name = agency_names(agreement)

    def service_name(slug: str | None) -> str | None:
        service = agreement.service(slug) if slug else None
        return service.name if service is not None else slug

    child = session.get(Child, child_id)
    family = child_family(session, child) if child is not None else []
    family_ids = [c.id for c in family] or [child_id]
    drafts = [_child_record(c, name, merged=c.id != child_id) for c in family]
    known: list[KnownPerson] = []

    referrals = list(
        session.scalars(
            select(Referral)
            .where(Referral.child_id.in_(family_ids))
            .options(selectinload(Referral.concerns))
            .order_by(Referral.received_at, Referral.id)
        )
    )
    steps: dict[uuid.UUID, list[ReferralEvent]] = {}
    for step in session.scalars(
        select(ReferralEvent)
        .where(ReferralEvent.referral_id.in_([r.id for r in referrals]))
        .order_by(ReferralEvent.occurred_at, ReferralEvent.id)
    ):
        steps.setdefault(step.referral_id, []).append(step)
    for referral in referrals:
        drafts.append(_referral(referral, name, service_name))
        drafts += [_referral_step(step, name) for step in steps.get(referral.id, [])]
        contacts = tuple(c for c in (referral.referrer_phone, referral.referrer_email) if c)
        known.append(KnownPerson(RedactionReason.referrer, referral.referrer_name, contacts))

    givers: set[str] = set()
    for record in session.scalars(
        select(ThirdPartyInformation)
        .where(ThirdPartyInformation.child_id.in_(family_ids))
        .order_by(ThirdPartyInformation.received_at, ThirdPartyInformation.id)
    ):
        drafts.append(_third_party(record))
        givers.add(record.agency)
        contacts = (record.informant_contact,) if record.informant_contact else ()
        known.append(KnownPerson(RedactionReason.information_giver, record.informant_name, contacts))

    drafts += [
        _missing_episode(episode, name)
        for episode in session.scalars(
            select(MissingEpisode)
            .where(MissingEpisode.child_id.in_(family_ids))
            .order_by(MissingEpisode.reported_missing_at, MissingEpisode.id)
        )
    ]

    supports = list(
        session.scalars(
            select(Support).where(Support.child_id.in_(family_ids)).order_by(Support.requested_at, Support.id)
        )
    )
    support_contacts: dict[uuid.UUID, list[SupportContact]] = {}
    for contact in session.scalars(
        select(SupportContact)
        .where(SupportContact.support_id.in_([s.id for s in supports]))
        .order_by(SupportContact.contacted_on, SupportContact.recorded_at, SupportContact.id)
    ):
        support_contacts.setdefault(contact.support_id, []).append(contact)
    for support in supports:
        drafts.append(_support(support, name, service_name))
        drafts += [_support_contact(c, support, name) for c in support_contacts.get(support.id, [])]

    links = session.scalars(
        select(ConcernLink)
        .where(
            or_(
                ConcernLink.child_id.in_(family_ids),
                ConcernLink.referral_id.in_([r.id for r in referrals]),
            )
        )
        .order_by(ConcernLink.linked_at, ConcernLink.id)
    ).all()
    for link in links:
        if link.person_id is not None:
            person = session.get_one(PersonOfConcern, link.person_id)
            drafts.append(_intelligence_link(link, "person of concern", name(person.recorded_by_agency)))
        elif link.place_id is not None:
            place = session.get_one(PlaceOfConcern, link.place_id)
            drafts.append(_intelligence_link(link, "place of concern", name(place.recorded_by_agency)))
    for action_link, action in session.execute(
        select(DisruptionActionChild, DisruptionAction)
        .join(DisruptionAction, DisruptionAction.id == DisruptionActionChild.action_id)
        .where(DisruptionActionChild.child_id.in_(family_ids))
        .order_by(DisruptionAction.recorded_at, DisruptionActionChild.id)
    ):
        drafts.append(_disruption_link(action_link, action, name(action.recorded_by_agency)))

    drafts.append(_access(REFERRAL, recipients_of_child(session, AUDIT, family_ids), name, givers))
    drafts += _risk(risk, name, givers)
    drafts += _meetings(meetings, name, givers)
    return finish(
        session,
        drafts,
        known,
        exclude=family_ids,
        subject=PersonName(child.given_name, child.family_name) if child is not None else None,
    )


def person_package(session: Session, person: PersonOfConcern, agreement: Agreement) -> list[PackageItem]:
    """Everything held about a person of concern: their record with the recording agency,
    their intelligence note (flagged), and their links, every child's id redacted."""
    name = agency_names(agreement)
    recording_agency = name(person.recorded_by_agency)
    drafts = [
        Draft(
            id=f"person_record:{person.id}",
            source=REFERRAL,
            kind=PackageItemKind.person_record,
            title="The person's record",
            recorded_at=person.created_at,
            fields=[
                Value("Name", person.name),
                Value("Also known as", person.alias),
                Value(
                    "Approximate age", None if person.approximate_age is None else str(person.approximate_age)
                ),
                Value("Gender", words(person.gender)),
                Value("Ethnicity", words(person.ethnicity)),
                Value("Recorded by agency", recording_agency),
                Value("Recorded on", when(person.created_at)),
            ],
        )
    ]
    if person.description:
        drafts.append(
            Draft(
                id=f"intelligence_note:{person.id}",
                source=REFERRAL,
                kind=PackageItemKind.intelligence_note,
                title="Intelligence note",
                recorded_at=person.created_at,
                fields=[FreeText("Note", person.description)],
                flags=[
                    _flag(FlagKind.police_intelligence, INTELLIGENCE_NOTE.format(agency=recording_agency))
                ],
            )
        )
    links = session.scalars(
        select(ConcernLink)
        .where(or_(ConcernLink.person_id == person.id, ConcernLink.linked_person_id == person.id))
        .order_by(ConcernLink.linked_at, ConcernLink.id)
    ).all()
    for link in links:
        if link.place_id is not None:
            place = session.get_one(PlaceOfConcern, link.place_id)
            linked: DraftField = Value("Place", f"{place.name} ({words(place.place_type)})")
            title = "Linked to a place of concern"
        else:
            linked = Removed("Child", RedactionReason.child)
            title = "Linked to a child"
        drafts.append(
            Draft(
                id=f"person_link:{link.id}",
                source=REFERRAL,
                kind=PackageItemKind.person_link,
                title=title,
                recorded_at=link.linked_at,
                fields=[
                    linked,
                    Value("Linked on", when(link.linked_at)),
                    Removed("Linked by", RedactionReason.staff),
                ],
                flags=[
                    _flag(FlagKind.police_intelligence, INTELLIGENCE_NOTE.format(agency=recording_agency))
                ],
            )
        )
    drafts.append(
        _access(REFERRAL, recipients_of_record(session, AUDIT, "person_of_concern", person.id), name)
    )
    return finish(session, drafts, [], exclude=[], subject=None)
