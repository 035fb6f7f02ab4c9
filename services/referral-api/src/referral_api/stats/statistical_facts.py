"""Keeping the de-identified facts the referral, support and disruption figures need about
records about to be disposed of, so that the figures of past periods do not change when the
records go.

The disposal job calls these inside its transaction, just before it deletes the records:
the facts and the deletion are committed together or not at all. Call each once per child,
person or place: a fact leads back to no record (by design), so a second call would count
the records twice. A fact holds what the figures read (:mod:`referral_api.stats.sources`) and
nothing else: never a name, date of birth, NHS number or other identifier, free text, an
agency person, or the id of the child or record (see :mod:`referral_api.stats.models`).
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from referral_api.children.models import Child
from referral_api.concerns.models import PlaceOfConcern
from referral_api.disruption.models import DisruptionAction, TargetType
from referral_api.missing_episodes.models import MissingEpisode
from referral_api.referrals.models import Referral, ReferralConcern
from referral_api.stats.dimensions import UNLISTED_SERVICE, ReferralOutcome
from referral_api.stats.models import (
    DisruptionActionFact,
    MissingEpisodeFact,
    PlaceFact,
    ReferralFact,
    ReferralFactConcern,
    SupportContactFact,
    SupportFact,
)
from referral_api.stats.sources import CONTACT_COLUMNS, DISRUPTION_COLUMNS, LIVE_REFERRALS, SUPPORT_COLUMNS
from referral_api.support.models import Support, SupportContact

# The shape of a slug of the partnership agreement's services (agreement.schema.json).
SERVICE_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{1,62}")


def keep_statistical_facts(session: Session, child_id: uuid.UUID) -> None:
    """Copy into the facts tables what the referral figures and timeliness read about every
    referral of the child (with its concern types and the child's gender, ethnicity and
    looked-after status as they are now), what the return-home interview figure reads
    about every missing episode of the child, and what the support figures read about every
    support of the child and its contacts, each fact with a new random id."""
    session.flush()  # what the session holds is what is kept
    _keep_referral_facts(session, child_id)
    _keep_missing_episode_facts(session, child_id)
    _keep_support_facts(session, child_id)


def keep_place_facts(session: Session, place_id: uuid.UUID) -> None:
    """Copy into the facts tables what the places-by-ward figure reads about the place of
    concern (ward, type, when recorded, its key), with a new random id; nothing for an id
    no place has."""
    session.flush()
    places = session.execute(
        select(
            PlaceOfConcern.ward_code,
            PlaceOfConcern.place_type,
            PlaceOfConcern.created_at,
            PlaceOfConcern.stats_key,
        ).where(PlaceOfConcern.id == place_id)
    ).all()
    if places:
        session.execute(insert(PlaceFact), [{"id": uuid.uuid4(), **place._asdict()} for place in places])


def keep_disruption_facts(session: Session, target_type: TargetType, target_id: uuid.UUID) -> None:
    """Copy into the facts tables what the disruption figures read about every action
    against the person (or place) of concern ``target_id``: its kind, day, whether it
    counted as a charge or a conviction, when it was recorded and its key, each with a new
    random id; never its target, children, reference, text or recorder."""
    session.flush()
    target = (
        DisruptionAction.person_of_concern_id
        if target_type is TargetType.person
        else DisruptionAction.place_of_concern_id
    )
    columns = [getattr(DisruptionAction, name) for name in DISRUPTION_COLUMNS]
    actions = session.execute(select(*columns).where(target == target_id)).all()
    if actions:
        session.execute(
            insert(DisruptionActionFact), [{"id": uuid.uuid4(), **action._asdict()} for action in actions]
        )


def _kept_signposted_to(signposted_to: str | None) -> str | None:
    """The service a referral was signposted to as a fact keeps it: a slug as it is, and
    free text recorded before the agreement kept a closed list as ``other`` (how the figure
    shows it), never the text itself."""
    if signposted_to is None or SERVICE_SLUG.fullmatch(signposted_to):
        return signposted_to
    return UNLISTED_SERVICE


def _keep_referral_facts(session: Session, child_id: uuid.UUID) -> None:
    referrals = session.execute(
        select(
            Referral.id,
            Referral.received_at,
            Referral.received_quarter,
            Referral.received_month,
            Referral.received_financial_quarter,
            Referral.age_band_at_referral,
            Referral.agency_type,
            # Worked out by the expression the live figures group by, so a fact counts the same.
            LIVE_REFERRALS.outcome.label("outcome"),
            Referral.signposted_to,
            Child.gender,
            Child.ethnicity,
            Child.looked_after,
            Referral.decision_due_at,
            Referral.decided_at,
            Referral.first_contact_at,
            Referral.migrated,
            Referral.stats_key,
        )
        .join(Child, Child.id == Referral.child_id)
        .where(Referral.child_id == child_id)
    ).all()
    if not referrals:
        return
    fact_ids = {referral.id: uuid.uuid4() for referral in referrals}
    facts: list[dict[str, Any]] = [
        {
            **referral._asdict(),
            "id": fact_ids[referral.id],  # its own, in place of the referral's
            "outcome": ReferralOutcome(referral.outcome),
            "signposted_to": _kept_signposted_to(referral.signposted_to),
        }
        for referral in referrals
    ]
    session.execute(insert(ReferralFact), facts)
    concerns = session.execute(
        select(ReferralConcern.referral_id, ReferralConcern.concern_type).where(
            ReferralConcern.referral_id.in_(list(fact_ids))
        )
    ).all()
    if concerns:
        session.execute(
            insert(ReferralFactConcern),
            [{"referral_fact_id": fact_ids[c.referral_id], "concern_type": c.concern_type} for c in concerns],
        )


def _keep_missing_episode_facts(session: Session, child_id: uuid.UUID) -> None:
    episodes = session.execute(
        select(
            MissingEpisode.found_at,
            MissingEpisode.rhi_due_at,
            MissingEpisode.rhi_offered_at,
            MissingEpisode.rhi_completed_at,
            MissingEpisode.rhi_declined_at,
            MissingEpisode.stats_key,
        ).where(MissingEpisode.child_id == child_id)
    ).all()
    if episodes:
        session.execute(
            insert(MissingEpisodeFact), [{"id": uuid.uuid4(), **episode._asdict()} for episode in episodes]
        )


def _keep_support_facts(session: Session, child_id: uuid.UUID) -> None:
    columns = [getattr(Support, name) for name in SUPPORT_COLUMNS]
    supports = session.execute(select(Support.id, *columns).where(Support.child_id == child_id)).all()
    if not supports:
        return
    fact_ids = {support.id: uuid.uuid4() for support in supports}
    session.execute(
        insert(SupportFact),
        [{**support._asdict(), "id": fact_ids[support.id]} for support in supports],
    )
    contact_columns = [getattr(SupportContact, name) for name in CONTACT_COLUMNS]
    contacts = session.execute(
        select(SupportContact.support_id, *contact_columns).where(
            SupportContact.support_id.in_(list(fact_ids))
        )
    ).all()
    if contacts:
        session.execute(
            insert(SupportContactFact),
            [
                {
                    **{name: getattr(contact, name) for name in CONTACT_COLUMNS},
                    "id": uuid.uuid4(),
                    "support_fact_id": fact_ids[contact.support_id],
                }
                for contact in contacts
            ],
        )
