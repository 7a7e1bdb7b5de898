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


UNAVAILABLE_MESSAGE = "The status data cannot be read right now; try again shortly."


def database_unreachable(exc: BaseException) -> bool:
    """Whether `exc` (or what caused it) says the database cannot be reached right now: a
    refused or cut connection, a server shutting down or refusing connections, a timeout."""
    import errno
    import socket

    import asyncpg.exceptions as pg
    from tortoise.exceptions import DBConnectionError

    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            return False
        if isinstance(seen, OSError) and seen.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH):
            return True
        if isinstance(seen, ConnectionError | socket.gaierror | TimeoutError | DBConnectionError
                      | pg.PostgresConnectionError | pg.InterfaceError
                      | pg.OperatorInterventionError | pg.TooManyConnectionsError
                      | pg.InvalidCatalogNameError):
            return True
        if isinstance(seen, pg.ObjectNotInPrerequisiteStateError) \
                and getattr(seen, "sqlstate", "") == "55000":  # "does not allow connections"
            return True
        seen = seen.__cause__ or seen.__context__
    return False
