"""Who may do what: a person's role (from their token) **and** their agency's capacity
(from the partnership agreement), written once as a table.

Services ask :func:`allows` (or depend on :func:`requires`) and never compare agency
types or re-derive a rule. A permission with no capacity is open to the role in any
agency of the agreement; what such a caller then sees is bounded by the record's own
rules (the children linked to their agency, their own agency's records).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

from fastapi import Depends

from safeguarding_kit.auth.dependencies import CurrentPrincipal
from safeguarding_kit.auth.principal import CASE_ROLES, Principal, Role
from safeguarding_kit.partnership.capacities import Capacity
from safeguarding_kit.problems import Forbidden, NotFound


class Permission(StrEnum):
    submit_referral = "submit_referral"
    read_sent_referrals = "read_sent_referrals"
    work_linked_cases = "work_linked_cases"
    read_all_cases = "read_all_cases"
    screen_referrals = "screen_referrals"
    decide_referrals = "decide_referrals"
    merge_children = "merge_children"
    send_third_party_information = "send_third_party_information"
    read_third_party_information = "read_third_party_information"
    work_intelligence = "work_intelligence"
    assess_risk = "assess_risk"
    override_risk_level = "override_risk_level"
    read_risk_models = "read_risk_models"
    govern_risk_models = "govern_risk_models"
    run_impact_analysis = "run_impact_analysis"
    list_children_moving_level = "list_children_moving_level"
    read_figures = "read_figures"
    read_exact_figures = "read_exact_figures"
    audit_own_agency = "audit_own_agency"
    audit_all_agencies = "audit_all_agencies"
    break_glass = "break_glass"
    run_meetings = "run_meetings"
    read_all_meetings = "read_all_meetings"
    read_invited_meetings = "read_invited_meetings"
    manage_agency_webhooks = "manage_agency_webhooks"
    manage_agency_calendar_feeds = "manage_agency_calendar_feeds"
    migrate_historic_records = "migrate_historic_records"
    govern_retention = "govern_retention"
    handle_subject_access = "handle_subject_access"
    arrange_support = "arrange_support"
    deliver_support = "deliver_support"


@dataclass(frozen=True, slots=True)
class Rule:
    roles: frozenset[Role]
    capacity: Capacity | None
    summary: str

    def describe(self) -> str:
        """The rule as an operation's description says it."""
        roles = ", ".join(f"`{r.value}`" for r in sorted(self.roles))
        who = f"one of the roles {roles}" if len(self.roles) > 1 else f"the role {roles}"
        where = (
            f" at an agency the partnership agreement grants `{self.capacity.value}`"
            if self.capacity is not None
            else " at any agency of the partnership agreement"
        )
        return f"Needs {who}{where}: {self.summary}"


def _rule(roles: frozenset[Role] | set[Role], capacity: Capacity | None, summary: str) -> Rule:
    return Rule(frozenset(roles), capacity, summary)


ANY_READER = frozenset({Role.referrer, *CASE_ROLES})

RULES: dict[Permission, Rule] = {
    Permission.submit_referral: _rule(
        {Role.referrer, Role.practitioner, Role.manager}, None, "send a referral about a child."
    ),
    Permission.read_sent_referrals: _rule(ANY_READER, None, "read back the referrals one's own agency sent."),
    Permission.work_linked_cases: _rule(
        CASE_ROLES, None, "work the cases of children linked to one's agency."
    ),
    Permission.read_all_cases: _rule(
        CASE_ROLES, Capacity.all_cases, "work every child's case (the hub's own teams)."
    ),
    Permission.screen_referrals: _rule(
        {Role.practitioner, Role.manager}, Capacity.decides_referrals, "screen a received referral."
    ),
    Permission.decide_referrals: _rule(
        {Role.manager},
        Capacity.decides_referrals,
        "allocate, signpost, close or take no further action on a referral.",
    ),
    Permission.merge_children: _rule(
        {Role.manager}, Capacity.all_cases, "merge duplicate records of a child."
    ),
    Permission.send_third_party_information: _rule(
        ANY_READER, None, "pass information about a child to the hub (a receipt, nothing more)."
    ),
    Permission.read_third_party_information: _rule(
        CASE_ROLES, Capacity.all_cases, "read third-party information the hub received."
    ),
    Permission.work_intelligence: _rule(
        CASE_ROLES, Capacity.intelligence, "read and record persons and places of concern."
    ),
    Permission.assess_risk: _rule(
        {Role.risk_assessor, Role.manager}, None, "assess the risk of a child one may see."
    ),
    Permission.override_risk_level: _rule(
        {Role.manager}, None, "override the level of an assessment of a child one may see, with a reason."
    ),
    Permission.read_risk_models: _rule(
        {*CASE_ROLES, Role.admin, Role.analyst}, None, "read the risk models and their indicators."
    ),
    Permission.govern_risk_models: _rule(
        {Role.admin},
        Capacity.governs_risk_models,
        "draft, approve and publish risk models (publishing takes a second person).",
    ),
    Permission.run_impact_analysis: _rule(
        {Role.admin, Role.manager, Role.analyst},
        Capacity.governs_risk_models,
        "see how many children a draft model would move between levels.",
    ),
    Permission.list_children_moving_level: _rule(
        CASE_ROLES, Capacity.all_cases, "list the children a draft model would move (each child audited)."
    ),
    Permission.read_figures: _rule(
        {*ANY_READER, Role.analyst, Role.auditor, Role.admin},
        None,
        "read figures for dashboards, with small counts protected.",
    ),
    Permission.read_exact_figures: _rule(
        {Role.analyst}, Capacity.exact_figures, "read figures without disclosure control."
    ),
    Permission.audit_own_agency: _rule(
        {Role.auditor}, None, "read the access records of one's own agency's people."
    ),
    Permission.audit_all_agencies: _rule(
        {Role.auditor},
        Capacity.audits,
        "read every access record, verify the audit chain and review break-glass access.",
    ),
    Permission.break_glass: _rule(
        CASE_ROLES,
        None,
        "open an unlinked child's record in an emergency, for a bounded time, with a reason.",
    ),
    Permission.run_meetings: _rule(
        {Role.meeting_coordinator},
        Capacity.chairs_meetings,
        "schedule meetings, build agendas, minute and record actions.",
    ),
    Permission.read_all_meetings: _rule(
        CASE_ROLES, Capacity.chairs_meetings, "read every meeting, its agenda, attendance and minutes."
    ),
    Permission.read_invited_meetings: _rule(
        CASE_ROLES, None, "read the meetings one's agency is invited to."
    ),
    Permission.manage_agency_webhooks: _rule(
        {Role.admin}, None, "register and remove one's own agency's webhook endpoints."
    ),
    Permission.manage_agency_calendar_feeds: _rule(
        {Role.admin}, None, "list and revoke the calendar feeds of one's own agency's people."
    ),
    Permission.migrate_historic_records: _rule(
        {Role.admin}, Capacity.migrates_records, "load historic referrals from an earlier system."
    ),
    Permission.govern_retention: _rule(
        {Role.auditor},
        Capacity.audits,
        "place and release legal holds, preview disposal and read the disposal records.",
    ),
    Permission.handle_subject_access: _rule(
        {Role.auditor},
        Capacity.audits,
        "open a subject access request, review its package and decide what is released.",
    ),
    Permission.arrange_support: _rule(
        {Role.practitioner, Role.manager},
        Capacity.all_cases,
        "offer a child support from a service or agency of the partnership, and record any support's "
        "progress.",
    ),
    Permission.deliver_support: _rule(
        {Role.practitioner, Role.manager},
        None,
        "record the start, contacts and end of the support one's agency provides to a child.",
    ),
}


def allows(principal: Principal, permission: Permission) -> bool:
    """True when the caller holds one of the permission's roles and their agency holds
    its capacity (if it needs one)."""
    rule = RULES[permission]
    if not principal.has_role(*rule.roles):
        return False
    return rule.capacity is None or principal.has_capacity(rule.capacity)


def allows_any(principal: Principal, *permissions: Permission) -> bool:
    return any(allows(principal, p) for p in permissions)


PERMISSIONS_ATTRIBUTE = "__required_permissions__"


def requires(
    *permissions: Permission, refuse_as_not_found: bool = False
) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """A dependency passing callers allowed any of ``permissions`` and refusing others
    with 403 problem+json (or 404 where even the existence of records is need-to-know);
    the operation's spec says which (see :mod:`safeguarding_kit.openapi`)."""
    wording = " or ".join(RULES[p].describe().removeprefix("Needs ").split(":")[0] for p in permissions)

    async def check(principal: CurrentPrincipal) -> Principal:
        if not allows_any(principal, *permissions):
            if refuse_as_not_found:
                raise NotFound("There is no such record that you can see.")
            raise Forbidden(f"This operation needs {wording}.")
        return principal

    setattr(check, PERMISSIONS_ATTRIBUTE, permissions)
    return check


CaseWorker = Annotated[Principal, Depends(requires(Permission.work_linked_cases))]
"""A case worker of any agency; which children's records they see is decided with each
record (the service's access rules), so a child they may not see is a 404."""

FigureReader = Annotated[Principal, Depends(requires(Permission.read_figures, Permission.read_exact_figures))]
"""A caller of the figure endpoints: exact figures only where ``read_exact_figures`` allows."""

GovernanceAuditor = Annotated[Principal, Depends(requires(Permission.audit_all_agencies))]
"""An auditor of an agency the agreement grants ``audits``: every agency's records."""
