"""The service's errors as GraphQL types. `as_error` is the one place a `HedgingError` becomes one;
mutations return these in their result unions, queries raise `query_error`."""

from __future__ import annotations

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaskErrors

from server.errors import (
    AlreadyExists,
    FailedPrecondition,
    HedgingError,
    InvalidArgument,
    NotFound,
    Unavailable,
)


@strawberry.interface(description="An error a caller can act on; nothing was changed.")
class UserError:
    message: str


@strawberry.type(description="An input is malformed or out of range; `field` names it.")
class InvalidInputError(UserError):
    field: str


@strawberry.type(description="The thing named does not exist.")
class NotFoundError(UserError):
    pass


@strawberry.type(description="It exists already.")
class AlreadyExistsError(UserError):
    pass


@strawberry.type(description="The request is valid but the current state does not allow it.")
class FailedPreconditionError(UserError):
    pass


@strawberry.type(description="A dependency (the venue, the database) did not answer; retry later.")
class UnavailableError(UserError):
    pass


AnyError = InvalidInputError | NotFoundError | AlreadyExistsError | FailedPreconditionError | UnavailableError


_CODES: dict[type, str] = {
    InvalidInputError: "INVALID_ARGUMENT",
    NotFoundError: "NOT_FOUND",
    AlreadyExistsError: "ALREADY_EXISTS",
    FailedPreconditionError: "FAILED_PRECONDITION",
    UnavailableError: "UNAVAILABLE",
}


def camel_case(field: str) -> str:
    """A field as the GraphQL schema names it (the shared store names fields in snake_case)."""
    head, *rest = field.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def as_error(exc: HedgingError) -> AnyError:
    """The GraphQL error type for a service error (the message is safe to show: it never holds a secret)."""
    if isinstance(exc, InvalidArgument):
        return InvalidInputError(message=exc.description, field=camel_case(exc.field))
    if isinstance(exc, NotFound):
        return NotFoundError(message=str(exc))
    if isinstance(exc, AlreadyExists):
        return AlreadyExistsError(message=str(exc))
    if isinstance(exc, FailedPrecondition):
        return FailedPreconditionError(message=str(exc))
    if isinstance(exc, Unavailable):
        return UnavailableError(message=str(exc))
    return FailedPreconditionError(message=str(exc))


def query_error(exc: HedgingError) -> GraphQLError:
    """A query's failure as a GraphQL error with a machine-readable code."""
    error = as_error(exc)
    extensions: dict[str, object] = {"code": _CODES[type(error)]}
    if isinstance(error, InvalidInputError):
        extensions["field"] = error.field
    return GraphQLError(error.message, extensions=extensions)


class TypedErrors(MaskErrors):
    """Strawberry's `MaskErrors`, except that a service error escaping a resolver (a read that has no
    error union, when the database goes away under it) becomes its typed error, as `query_error`
    makes it, not "Unexpected error.". Errors raised by bugs are still masked."""

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        original = error.original_error
        if not isinstance(original, HedgingError):
            return super().anonymise_error(error)
        typed = query_error(original)
        return GraphQLError(
            typed.message,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions=typed.extensions,
        )
