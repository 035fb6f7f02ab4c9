"""What a service publishes to partners' webhooks: its label (which names its webhook
paths and operations) and the typed data of each event type a partner may hear of."""

from __future__ import annotations

from dataclasses import dataclass

from safeguarding_kit.cloudevents import EventData
from safeguarding_kit.service_label import ServiceLabel


@dataclass(frozen=True)
class PartnerEvents:
    """``events``: the :class:`EventData` model of each event type partners may subscribe to."""

    service: ServiceLabel
    events: tuple[type[EventData], ...]

    def __post_init__(self) -> None:
        if not self.events:
            raise ValueError("a service publishing to partners publishes at least one event type")
        if len(set(self.types)) != len(self.events):
            raise ValueError(f"an event type is published twice: {self.types}")

    @property
    def types(self) -> list[str]:
        """The event types, in the order the service lists them."""
        return [event.event_type for event in self.events]
