"""What detectors return. The types live in `storage.pulse_types` (storage persists
them and sits below the bot); the Track Pulse code imports them from here too."""

from storage.pulse_types import KINDS, Priority, PulseHighlight

__all__ = ["KINDS", "Priority", "PulseHighlight"]
