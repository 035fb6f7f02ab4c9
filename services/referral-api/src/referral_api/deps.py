"""The callers each referral-service endpoint accepts, each checked by the one policy
(:mod:`safeguarding_kit.partnership.policy`) and named after what it allows."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from referral_api import audit_trail
from safeguarding_kit.auth.dependencies import CurrentPrincipal
from safeguarding_kit.auth.principal import Principal
from safeguarding_kit.db import SessionDep
from safeguarding_kit.partnership.policy import PERMISSIONS_ATTRIBUTE, Permission, allows, requires
from safeguarding_kit.problems import NotFound

# Case workers of any agency: safeguarding_kit.partnership.policy.CaseWorker.
ChildMerger = Annotated[Principal, Depends(requires(Permission.merge_children))]

SentReferralReader = Annotated[Principal, Depends(requires(Permission.read_sent_referrals))]
ReferralSubmitter = Annotated[Principal, Depends(requires(Permission.submit_referral))]
DataAdministrator = Annotated[Principal, Depends(requires(Permission.migrate_historic_records))]
# Which step needs which of the two is the workflow's (referrals.workflow.PERMISSION_FOR).
DecisionTeam = Annotated[
    Principal, Depends(requires(Permission.screen_referrals, Permission.decide_referrals))
]

BreakGlassCaller = Annotated[Principal, Depends(requires(Permission.break_glass))]

ThirdPartySender = Annotated[Principal, Depends(requires(Permission.send_third_party_information))]
ThirdPartyReader = Annotated[Principal, Depends(requires(Permission.read_third_party_information))]

# Creating and listing are refused outright (403); a record by id is need-to-know (404).
IntelligenceWorker = Annotated[Principal, Depends(requires(Permission.work_intelligence))]

# The intelligence record a path names, by its parameter, as the audit trail calls it.
_INTELLIGENCE_RECORDS = {
    "action_id": "disruption_action",
    "person_id": "person_of_concern",
    "place_id": "place_of_concern",
}


def intelligence_reader(request: Request, session: SessionDep, principal: CurrentPrincipal) -> Principal:
    """A caller who may work intelligence. Anyone else asking for a person, a place or a
    disruption action by id gets 404 (not even its existence is theirs to know), and the
    attempt is audited as a refused read or change of that record."""
    if allows(principal, Permission.work_intelligence):
        return principal
    resource_type, resource_id = next(
        (
            (kind, str(request.path_params[key]))
            for key, kind in _INTELLIGENCE_RECORDS.items()
            if key in request.path_params
        ),
        ("intelligence", request.url.path),
    )
    action = "read" if request.method in ("GET", "HEAD") else "update"
    audit_trail.record(session, principal, action, resource_type, resource_id[:64], None, outcome="denied")
    session.commit()
    raise NotFound("There is no such record that you can see.")


setattr(intelligence_reader, PERMISSIONS_ATTRIBUTE, (Permission.work_intelligence,))
IntelligenceReader = Annotated[Principal, Depends(intelligence_reader)]

# A child's support: the hub offers it (arrange_support); the providing agency's case workers,
# or the hub's, record its start, contacts and end (deliver_support, checked per support).
SupportArranger = Annotated[Principal, Depends(requires(Permission.arrange_support))]
SupportWorker = Annotated[Principal, Depends(requires(Permission.deliver_support))]

# Information governance: legal holds and disposal (role auditor, capacity audits).
RetentionGovernor = Annotated[Principal, Depends(requires(Permission.govern_retention))]

# Information governance handling a subject access request (auditor at an agency granted audits).
SubjectAccessHandler = Annotated[Principal, Depends(requires(Permission.handle_subject_access))]
