"""The callers each meetings endpoint accepts, each checked by the one policy
(:mod:`safeguarding_kit.partnership.policy`), so each operation's spec says who may call."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from meetings_api.settings import MeetingsSettings
from safeguarding_kit.auth.principal import Principal
from safeguarding_kit.partnership.policy import Permission, requires


async def meetings_settings(request: Request) -> MeetingsSettings:
    settings = request.app.state.settings
    assert isinstance(settings, MeetingsSettings)
    return settings


# Case workers of the agencies that chair meetings: every series, meeting and action (403 for others).
AllMeetingsReader = Annotated[Principal, Depends(requires(Permission.read_all_meetings))]
# Meeting coordinators of those agencies: schedule, build agendas, minute, record actions.
Coordinator = Annotated[Principal, Depends(requires(Permission.run_meetings))]
# Case workers of any agency (403 for a token without a case role); whether they may read
# *this* meeting is decided with the record (meetings_api.occurrences.service.
# readable_occurrence), so that a meeting their agency is not invited to is a 404, like
# one that does not exist, and the refusal is audited.
MeetingCaller = Annotated[
    Principal, Depends(requires(Permission.read_all_meetings, Permission.read_invited_meetings))
]
# Whoever may hold calendar feeds (case workers: their own) or manage their agency's (admins).
# A case worker whose agency no longer chairs meetings may still list and revoke their feeds.
CalendarFeedManager = Annotated[
    Principal,
    Depends(
        requires(
            Permission.read_all_meetings,
            Permission.read_invited_meetings,
            Permission.manage_agency_calendar_feeds,
        )
    ),
]
# Information governance handling a subject access request (auditor at an agency granted audits).
SubjectAccessHandler = Annotated[Principal, Depends(requires(Permission.handle_subject_access))]
Settings = Annotated[MeetingsSettings, Depends(meetings_settings)]
