"""The `Error` interface and one error type per code; refusals are union members."""

from __future__ import annotations

from typing import TypeAlias

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaskErrors

from resolvers import errors as codes
from resolvers.errors import UNAVAILABLE_MESSAGE, DomainError, database_unreachable


@strawberry.interface(description="An expected failure: a machine-readable code and a message.")
class Error:
    code: str
    message: str
    field: str | None = strawberry.field(
        default=None, description="The input field at fault, when there is exactly one."
    )


@strawberry.type
class UnauthenticatedError(Error):
    pass


@strawberry.type
class ForbiddenError(Error):
    pass


@strawberry.type
class NotFoundError(Error):
    pass


@strawberry.type
class InvalidInputError(Error):
    pass


@strawberry.type
class ConflictError(Error):
    pass


@strawberry.type
class LimitReachedError(Error):
    pass


@strawberry.type
class RateLimitedError(Error):
    pass


@strawberry.type
class BeforeSinceError(Error):
    pass


ERROR_TYPES: dict[str, type[Error]] = {
    codes.UNAUTHENTICATED: UnauthenticatedError,
    codes.FORBIDDEN: ForbiddenError,
    codes.NOT_FOUND: NotFoundError,
    codes.INVALID: InvalidInputError,
    codes.CONFLICT: ConflictError,
    codes.LIMIT_REACHED: LimitReachedError,
    codes.RATE_LIMITED: RateLimitedError,
    codes.BEFORE_SINCE: BeforeSinceError,
}

# Every mutation's result union includes these (a refusal or bad input can happen to any of
# them): `<Name>Result = Annotated[<Name>Payload | CommonErrors | extra errors,
# strawberry.union("<Name>Result")]`, members in that order.
CommonErrors: TypeAlias = (
    UnauthenticatedError | ForbiddenError | NotFoundError | InvalidInputError | ConflictError
)


def error_from(exc: DomainError) -> Error:
    return ERROR_TYPES[exc.code](code=exc.code, message=exc.message, field=exc.field)


class CodedErrors(MaskErrors):
    """Query-side errors: a DomainError raised by a resolver becomes a GraphQL error with
    `extensions.code`; any other exception is masked ("Unexpected error."); validation and
    syntax errors pass through readable."""

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        processed: list[GraphQLError] = []
        for error in errors:
            original = error.original_error
            if isinstance(original, DomainError):
                processed.append(GraphQLError(
                    original.message, nodes=error.nodes, source=error.source,
                    positions=error.positions, path=error.path,
                    extensions={"code": original.code, "field": original.field},
                ))
            elif original is not None and database_unreachable(original):
                processed.append(GraphQLError(
                    UNAVAILABLE_MESSAGE, nodes=error.nodes, source=error.source,
                    positions=error.positions, path=error.path, original_error=original,
                    extensions={"code": "UNAVAILABLE"}))
            elif original is not None and not isinstance(original, GraphQLError):
                masked = self.anonymise_error(error)
                masked.extensions = {"code": "INTERNAL"}
                processed.append(masked)
            else:
                processed.append(error)
        return processed
