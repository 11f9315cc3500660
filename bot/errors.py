"""Error types. `UserError` is the only one whose message reaches chat."""

from __future__ import annotations


class UserError(Exception):
    """A short, clear, user-facing failure ("No race matches 'monzza'. Did you mean Monza?").

    Handlers raise it; the dispatcher turns it into an (ephemeral) reply and a
    log line. Any other exception becomes a generic apology in chat and a full
    traceback in the log, never in chat.
    """

    def __init__(self, message: str, *, suggestions: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.suggestions = suggestions or []


class PermissionDenied(UserError):
    """The user lacks the privilege a command requires."""


class RateLimitedUser(UserError):
    """A user or channel exceeded the configured question rate."""


class DeliveryError(Exception):
    """Posting to a channel failed permanently (channel gone, bot removed, bad request)."""


class RateLimited(Exception):
    """The platform throttled us; try again after `retry_after` seconds."""

    def __init__(self, retry_after: float, message: str = "rate limited") -> None:
        super().__init__(message)
        self.retry_after = retry_after
