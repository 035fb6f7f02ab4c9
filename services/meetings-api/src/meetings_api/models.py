"""Every table of the meetings service, imported so the metadata is complete."""

from meetings_api.database import Base
from meetings_api.series.models import MeetingSeries

__all__ = ["Base", "MeetingSeries"]
