"""The decision table of who may do what: every role x every capacity x every operation.

The table below is the specification, written out by hand from the partnership's
information sharing agreement model (issue 13): a permission is a person's **role** and
their agency's **capacity**. The code's table (``policy.RULES``) must say the same, and
``allows`` must decide every combination as the table says: a role alone never suffices
where a capacity is needed, and a capacity alone never suffices without a role.
"""

from __future__ import annotations

import itertools

import pytest

from safeguarding_kit.auth.principal import AgencyType, Principal, Role
from safeguarding_kit.partnership.capacities import Capacity
from safeguarding_kit.partnership.policy import RULES, Permission, allows

R = Role
C = Capacity
CASE = {R.practitioner, R.manager, R.risk_assessor, R.meeting_coordinator}

# operation: (roles that may, capacity the agency needs or None)
SPECIFICATION: dict[Permission, tuple[set[Role], Capacity | None]] = {
    Permission.submit_referral: ({R.referrer, R.practitioner, R.manager}, None),
    Permission.read_sent_referrals: ({R.referrer, *CASE}, None),
    Permission.work_linked_cases: (CASE, None),
    Permission.read_all_cases: (CASE, C.all_cases),
    Permission.screen_referrals: ({R.practitioner, R.manager}, C.decides_referrals),
    Permission.decide_referrals: ({R.manager}, C.decides_referrals),
    Permission.merge_children: ({R.manager}, C.all_cases),
    Permission.send_third_party_information: ({R.referrer, *CASE}, None),
    Permission.read_third_party_information: (CASE, C.all_cases),
    Permission.work_intelligence: (CASE, C.intelligence),
    Permission.assess_risk: ({R.risk_assessor, R.manager}, None),
    Permission.override_risk_level: ({R.manager}, None),
    Permission.read_risk_models: ({*CASE, R.admin, R.analyst}, None),
    Permission.govern_risk_models: ({R.admin}, C.governs_risk_models),
    Permission.run_impact_analysis: ({R.admin, R.manager, R.analyst}, C.governs_risk_models),
    Permission.list_children_moving_level: (CASE, C.all_cases),
    Permission.read_figures: ({R.referrer, *CASE, R.analyst, R.auditor, R.admin}, None),
    Permission.read_exact_figures: ({R.analyst}, C.exact_figures),
    Permission.audit_own_agency: ({R.auditor}, None),
    Permission.audit_all_agencies: ({R.auditor}, C.audits),
    Permission.break_glass: (CASE, None),
    Permission.run_meetings: ({R.meeting_coordinator}, C.chairs_meetings),
    Permission.read_all_meetings: (CASE, C.chairs_meetings),
    Permission.read_invited_meetings: (CASE, None),
    Permission.manage_agency_webhooks: ({R.admin}, None),
    Permission.manage_agency_calendar_feeds: ({R.admin}, None),
    Permission.migrate_historic_records: ({R.admin}, C.migrates_records),
    Permission.govern_retention: ({R.auditor}, C.audits),
    Permission.handle_subject_access: ({R.auditor}, C.audits),
    Permission.arrange_support: ({R.practitioner, R.manager}, C.all_cases),
    Permission.deliver_support: ({R.practitioner, R.manager}, None),
}


def caller(roles: set[Role], capacities: set[Capacity], agency_type: AgencyType) -> Principal:
    return Principal(
        sub="someone",
        agency="some-agency",
        agency_type=agency_type,
        roles=frozenset(roles),
        capacities=frozenset(capacities),
    )


def test_every_operation_has_a_row_in_the_specification_and_the_code_says_the_same():
    assert set(SPECIFICATION) == set(Permission)
    for permission, (roles, capacity) in SPECIFICATION.items():
        assert set(RULES[permission].roles) == roles, permission
        assert RULES[permission].capacity is capacity, permission


@pytest.mark.parametrize("permission", list(Permission))
@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("capacity", [None, *Capacity])
def test_one_role_at_an_agency_with_one_capacity(permission, role, capacity):
    roles, needed = SPECIFICATION[permission]
    expected = role in roles and (needed is None or needed is capacity)
    granted = {capacity} if capacity is not None else set()
    assert allows(caller({role}, granted, AgencyType.social_care), permission) is expected


@pytest.mark.parametrize("permission", list(Permission))
@pytest.mark.parametrize("agency_type", list(AgencyType))
def test_the_agency_type_never_decides(permission, agency_type):
    """Every role and no capacity: the same answer whatever the agency's type, and never
    more than the role-only operations."""
    everyone = caller(set(Role), set(), agency_type)
    _, needed = SPECIFICATION[permission]
    assert allows(everyone, permission) is (needed is None)


@pytest.mark.parametrize("permission", list(Permission))
def test_every_capacity_without_any_role_allows_nothing(permission):
    assert not allows(caller(set(), set(Capacity), AgencyType.police), permission)


def test_a_person_with_several_roles_gets_what_any_of_them_allows_with_the_capacity_held():
    for permission, (roles, needed) in SPECIFICATION.items():
        for pair in itertools.combinations(Role, 2):
            held = {needed} if needed is not None else set()
            expected = bool(roles & set(pair))
            assert allows(caller(set(pair), held, AgencyType.voluntary), permission) is expected
