"""Names of schemas, roles and logins, derived from a tenant's slug (checked here, so no caller quotes a bad one)."""

from __future__ import annotations

import re
from typing import Literal

SLUG_PATTERN = re.compile(r"^[a-z0-9_]{1,40}$")
REGISTRY_SCHEMA = "clawgate"
OWNER_ROLE = "clawgate_owner"  # a login: migrations and provisioning
APP_LOGIN = "clawgate_app"  # the handlers' login
GATEWAY_ROLE = "clawgate_gateway"  # no login: the registry privileges the app login acts under

Access = Literal["rw", "ro"]


class InvalidSlugError(ValueError):
    pass


def check_slug(slug: str) -> str:
    if not SLUG_PATTERN.match(slug):
        raise InvalidSlugError(f"tenant slug {slug!r} must match [a-z0-9_]{{1,40}}")
    return slug


def tenant_schema(slug: str) -> str:
    return f"tenant_{check_slug(slug)}"


def tenant_role(slug: str, access: Access = "rw") -> str:
    return f"tenant_{check_slug(slug)}_{access}"


def query_login(slug: str) -> str:
    """The login the model's SQL runs under: member of nothing, SELECT on its own schema."""
    return f"tenant_{check_slug(slug)}_query"


def search_path(schema: str) -> str:
    """pg_temp last, explicitly: otherwise it is searched first, and a temporary table could shadow ours."""
    return f"{schema}, pg_temp"
