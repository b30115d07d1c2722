"""Why a poll failed, in words an operator can act on (they end up in `feeds list`'s last_error)."""

from __future__ import annotations

from datetime import timedelta


class FeedError(Exception):
    """A poll that produced nothing to store. `status` is the HTTP status when there was one."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class FetchError(FeedError):
    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        retry_after: timedelta | None = None,
        gone: bool = False,
    ) -> None:
        super().__init__(message, status=status)
        self.retry_after = retry_after
        self.gone = gone


class ShuttingDown(Exception):
    """The service is stopping: a feed still waiting for its turn is not started."""


class RefusedAddressError(FetchError):
    """The URL points at a loopback/private/reserved address and the operator has not allowed it."""


class NotAFeedError(FeedError):
    """The body arrived but is no RSS/Atom/RDF feed (an HTML page, an empty body, garbage)."""
