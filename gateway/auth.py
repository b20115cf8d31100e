"""Who is calling: bearer tokens from HEDGING_ADMIN_TOKENS with the roles viewer and admin.

Tokens are compared in constant time and never reach a log line or an error message; the token's name
is what the audit trail records as the author of a change."""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass
from typing import Any

from strawberry.permission import BasePermission
from strawberry.types import Info

from server.settings import AdminToken, Settings

log = logging.getLogger(__name__)

VIEWER = "viewer"
ADMIN = "admin"
DEV_PRINCIPAL_NAME = "dev-mode"


@dataclass(frozen=True)
class Principal:
    """An authenticated caller. `name` is recorded as the author of every change it makes."""

    name: str
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN


class Unauthenticated(Exception):
    """The credentials are missing or wrong. The message never contains the presented token."""


def authenticate(header: str | None, settings: Settings) -> Principal:
    """The principal for an ``Authorization: Bearer ...`` value; anonymous callers are admitted only
    in development mode. A presented but unknown token is refused even then."""
    if not header:
        if settings.dev_mode:
            return Principal(DEV_PRINCIPAL_NAME, ADMIN)
        raise Unauthenticated("missing bearer token")
    scheme, _, presented = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not presented.strip():
        raise Unauthenticated("the Authorization header must be 'Bearer <token>'")
    found = match_token(presented.strip(), settings.admin_tokens)
    if found is None:
        raise Unauthenticated("unknown bearer token")
    return Principal(found.name, found.role)


def match_token(presented: str, tokens: tuple[AdminToken, ...]) -> AdminToken | None:
    """The configured token equal to `presented`, comparing every candidate in constant time."""
    given = presented.encode()
    found = None
    for candidate in tokens:
        # No early exit: the time taken does not depend on which token (if any) matched.
        if hmac.compare_digest(given, candidate.token.reveal().encode()):
            found = candidate
    return found


def _principal(info: Info[Any, Any]) -> Principal | None:
    principal = getattr(info.context, "principal", None)
    return principal if isinstance(principal, Principal) else None


class IsViewer(BasePermission):
    """Any authenticated caller (viewer or admin)."""

    message = "authentication required"

    def has_permission(self, source: Any, info: Info[Any, Any], **kwargs: Any) -> bool:
        return _principal(info) is not None


class IsAdmin(BasePermission):
    """Only callers with the admin role; every refusal is logged with the caller's name."""

    message = "the admin role is required"

    def has_permission(self, source: Any, info: Info[Any, Any], **kwargs: Any) -> bool:
        principal = _principal(info)
        if principal is not None and principal.is_admin:
            return True
        log.warning(
            "denied %s to %s (role %s)",
            info.field_name,
            principal.name if principal else "anonymous",
            principal.role if principal else "none",
        )
        return False
