"""One root exception for the service, with a typed subclass per kind of failure.

Mapping to gRPC status codes and GraphQL error types happens once, at each edge; the domain and the
store raise only these.
"""

from __future__ import annotations


class HedgingError(Exception):
    """Root of every error the service raises on purpose."""


class InvalidArgument(HedgingError):
    """A request field is malformed. Nothing was written and nothing was sent to the venue."""

    def __init__(self, field: str, description: str) -> None:
        super().__init__(f"{field}: {description}")
        self.field = field
        self.description = description


class AlreadyExists(HedgingError):
    """An idempotency key was reused with a different request body."""


class NotFound(HedgingError):
    """The thing asked for does not exist."""


class FailedPrecondition(HedgingError):
    """The service cannot serve the call in its current state."""


class Unavailable(HedgingError):
    """A dependency (database, venue) is unreachable; the call may be retried with the same key."""


class ConfigurationError(HedgingError):
    """A setting read at start is malformed. The message names the variable, never its secret value."""


class TransitionRefused(FailedPrecondition):
    """A hedge (or order) was asked to move to a state its current state does not lead to."""
