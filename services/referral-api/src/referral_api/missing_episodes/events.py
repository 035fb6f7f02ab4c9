"""The events of a missing episode, as partners' webhooks receive them: ids only."""

from __future__ import annotations

import uuid
from typing import ClassVar

from pydantic import ConfigDict, Field
from pydantic.config import JsonDict

from referral_api.missing_episodes.schemas import InterviewOutcome
from safeguarding_kit.cloudevents import EventData

_EXAMPLE: JsonDict = {
    "missing_episode_id": "c4d5e6f7-8091-4a2b-9c3d-4e5f60718293",
    "child_id": "7f1f4c8e-0f7e-4c38-9a0e-0b9f1f7f3a11",
}


class MissingEpisodeReported(EventData):
    """A child was reported missing.

    A partner hears of it when its agency may see the child."""

    event_type: ClassVar[str] = "missing_episode.reported"
    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})

    missing_episode_id: uuid.UUID = Field(description="The episode (`getMissingEpisode`).")
    child_id: uuid.UUID = Field(description="The child's opaque id.")

    def subject(self) -> str:
        return str(self.child_id)


class MissingEpisodeFound(EventData):
    """A missing child was found: the return-home interview is due within 72 hours.

    A partner hears of it when its agency may see the child."""

    event_type: ClassVar[str] = "missing_episode.found"
    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})

    missing_episode_id: uuid.UUID = Field(description="The episode (`getMissingEpisode`).")
    child_id: uuid.UUID = Field(description="The child's opaque id.")

    def subject(self) -> str:
        return str(self.child_id)


class MissingEpisodeInterviewRecorded(EventData):
    """A return-home interview was offered, completed or declined (what was said stays in
    the episode). Announced to the platform itself (a child's chronology), not to partners."""

    event_type: ClassVar[str] = "missing_episode.interview_recorded"
    model_config = ConfigDict(json_schema_extra={"examples": [{**_EXAMPLE, "outcome": "completed"}]})

    missing_episode_id: uuid.UUID = Field(description="The episode (`getMissingEpisode`).")
    child_id: uuid.UUID = Field(description="The child's opaque id.")
    outcome: InterviewOutcome = Field(description="Offered, completed or declined.")

    def subject(self) -> str:
        return str(self.child_id)
