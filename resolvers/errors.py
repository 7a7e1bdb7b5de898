"""Expected failures: a code, a human message and (when one input field is at fault) its name."""

from __future__ import annotations

UNAUTHENTICATED = "UNAUTHENTICATED"
FORBIDDEN = "FORBIDDEN"
NOT_FOUND = "NOT_FOUND"
INVALID = "INVALID"
CONFLICT = "CONFLICT"
LIMIT_REACHED = "LIMIT_REACHED"
RATE_LIMITED = "RATE_LIMITED"
BEFORE_SINCE = "BEFORE_SINCE"

CODES = (
    UNAUTHENTICATED,
    FORBIDDEN,
    NOT_FOUND,
    INVALID,
    CONFLICT,
    LIMIT_REACHED,
    RATE_LIMITED,
    BEFORE_SINCE,
)


class DomainError(Exception):
    """Raised by resolvers for refusals; interfaces turn it into a typed error or a 4xx."""

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        assert code in CODES, code
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field


def invalid(message: str, field: str | None = None) -> DomainError:
    return DomainError(INVALID, message, field)


def not_found(what: str, field: str | None = None) -> DomainError:
    return DomainError(NOT_FOUND, f"{what} not found", field)


def conflict(message: str, field: str | None = None) -> DomainError:
    return DomainError(CONFLICT, message, field)
