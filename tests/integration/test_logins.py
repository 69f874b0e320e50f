"""The logins the runtime uses, from their own side: the pool is the app login, which can create no role, owns no
privilege of its own, and reaches the registry only as far as the handlers' paths need."""

from __future__ import annotations

from collections.abc import Callable

import psycopg
import pytest
from clawgate.db import get_pool, registry_tx
from clawgate.db.readonly import run_query
from clawgate.tenancy.apply import apply_tenant
from clawgate.tenancy.model import TenantFile

pytestmark = pytest.mark.usefixtures("database")


def test_the_pool_is_the_app_login_and_not_a_superuser() -> None:
    with get_pool().connection() as conn:
        row = conn.execute(
            "SELECT session_user, rolsuper, rolcreaterole, rolinherit FROM pg_roles WHERE rolname = session_user"
        ).fetchone()
    assert row == ("clawgate_app", False, False, False)


@pytest.mark.parametrize(
    "statement",
    [
        "CREATE ROLE intruder LOGIN",
        "SELECT * FROM clawgate.tenants",  # nothing of its own: only through SET ROLE
        "CREATE TEMP TABLE t (a int)",
        "CREATE TABLE public.t (a int)",
    ],
)
def test_the_app_login_by_itself_can_do_nothing(statement: str) -> None:
    with pytest.raises(psycopg.errors.InsufficientPrivilege), get_pool().connection() as conn:
        conn.execute(statement)


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO gateway_tokens (tenant_slug, token_sha256) VALUES ('x', repeat('a', 64))",
        "UPDATE gateway_tokens SET revoked_at = NULL",
        "SELECT label FROM gateway_tokens",
        "INSERT INTO tenants (slug, name) VALUES ('x', 'x')",
        "UPDATE channel_accounts SET tenant_slug = 'x'",
        "SELECT * FROM unrouted_events",
        "DELETE FROM schema_migrations",
    ],
)
def test_the_registry_gives_the_app_what_its_paths_need_and_no_more(statement: str) -> None:
    with pytest.raises(psycopg.errors.InsufficientPrivilege), registry_tx() as conn:
        conn.execute(statement)


def test_the_query_login_is_a_member_of_nothing(make_tenant: Callable[..., TenantFile], database: str) -> None:
    tenant = make_tenant()
    apply_tenant(tenant)
    result = run_query(tenant.slug, "SELECT session_user, current_setting('default_transaction_read_only')")
    assert result.rows == [(f"tenant_{tenant.slug}_query", "on")]
    with psycopg.connect(database) as admin:
        memberships = admin.execute(
            "SELECT count(*) FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = %s",
            (f"tenant_{tenant.slug}_query",),
        ).fetchone()
    assert memberships == (0,)
