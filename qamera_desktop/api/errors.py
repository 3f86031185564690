"""One error hierarchy for everything the Qamera client can raise.

`str(error)` is a sentence a designer can read. No error ever carries the API key.
"""

from __future__ import annotations


class ApiError(Exception):
    """Base of every client error.

    `status` is the HTTP status (None when no response arrived), `server_message` the text of the
    server's `{"error": ...}` body when there was one, `correlation_id` the response's
    `X-Correlation-Id` header when it carried one.
    """

    default_message = "The Qamera service reported an error."

    def __init__(
        self,
        message: str | None = None,
        *,
        status: int | None = None,
        server_message: str | None = None,
        correlation_id: str | None = None,
    ) -> None:
        self.status = status
        self.server_message = server_message
        self.correlation_id = correlation_id
        self.message = message or server_message or self.default_message
        super().__init__(self.message)

    def __str__(self) -> str:
        text = self.message
        if self.correlation_id:
            text = f"{text} (reference {self.correlation_id})"
        return text

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status!r}, message={self.message!r}, "
            f"correlation_id={self.correlation_id!r})"
        )


class ValidationError(ApiError):
    """400, or a request the client refused to send because it is invalid."""

    default_message = "The request is not valid."


class AuthError(ApiError):
    """401: the key is missing, invalid, expired or revoked."""

    default_message = "The API key was not accepted. Check it in Settings."


class InsufficientCreditsError(ApiError):
    """402: not enough credits for the shoot."""

    default_message = "Not enough credits for this shoot."


class ForbiddenError(ApiError):
    """403: the key lacks a scope (register-ideas needs `content.register`)."""

    default_message = "This API key is not allowed to do that."


class NotFoundError(ApiError):
    """404: the resource is missing or belongs to another account."""

    default_message = "Not found."


class RateLimitedError(ApiError):
    """429: more than 60 requests a minute."""

    default_message = "Too many requests. Please retry after a short delay."


class ServerError(ApiError):
    """5xx."""

    default_message = "The Qamera service had an internal error. Try again in a moment."


class NetworkError(ApiError):
    """No usable response: connect failure, timeout, reset.

    `request_sent` is True when the request may have reached the server (a read timeout after the
    body was sent): for a POST that means the job may exist.
    """

    default_message = "Could not reach the Qamera service. Check your connection."

    def __init__(self, message: str | None = None, *, request_sent: bool = False) -> None:
        super().__init__(message)
        self.request_sent = request_sent


class ProtocolError(ApiError):
    """A response that is not the documented shape (wrong type, not JSON, too large)."""

    default_message = "The Qamera service sent an answer this app does not understand."


STATUS_ERRORS: dict[int, type[ApiError]] = {
    400: ValidationError,
    401: AuthError,
    402: InsufficientCreditsError,
    403: ForbiddenError,
    404: NotFoundError,
    429: RateLimitedError,
}


def error_for_status(
    status: int, server_message: str | None, correlation_id: str | None
) -> ApiError:
    """The error instance for an HTTP error status."""
    cls = STATUS_ERRORS.get(status)
    if cls is None:
        cls = ServerError if status >= 500 else ApiError
    message = server_message or (
        cls.default_message if cls is not ApiError else f"Unexpected HTTP status {status}."
    )
    return cls(message, status=status, server_message=server_message, correlation_id=correlation_id)
