"""The callers each meetings endpoint accepts."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from meetings_api.access import reads_meetings, runs_meetings
from meetings_api.settings import MeetingsSettings
from safeguarding_kit.auth.dependencies import CurrentPrincipal
from safeguarding_kit.auth.principal import Principal
from safeguarding_kit.problems import Forbidden


async def meeting_reader(principal: CurrentPrincipal) -> Principal:
    if not reads_meetings(principal):
        raise Forbidden("Meeting records are for case workers of social care, police and health.")
    return principal


async def meeting_coordinator(principal: CurrentPrincipal) -> Principal:
    if not runs_meetings(principal):
        raise Forbidden("This needs the meeting_coordinator role in social care, police or health.")
    return principal


def meetings_settings(request: Request) -> MeetingsSettings:
    settings = request.app.state.settings
    assert isinstance(settings, MeetingsSettings)
    return settings


Reader = Annotated[Principal, Depends(meeting_reader)]
Coordinator = Annotated[Principal, Depends(meeting_coordinator)]
Settings = Annotated[MeetingsSettings, Depends(meetings_settings)]


async def any_caller(principal: CurrentPrincipal) -> Principal:
    return principal


Caller = Annotated[Principal, Depends(any_caller)]
