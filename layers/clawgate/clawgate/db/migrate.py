"""Ordered SQL migrations, applied per schema and recorded in that schema's `schema_migrations`.

The registry schema `clawgate` and every `tenant_<slug>` schema are owned by `clawgate_owner`; migrations run as that
login. Each tenant has a read-write and a read-only role that see their own schema and nothing else (the app login
may SET ROLE to them), and a query login for the model's SQL (clawgate.db.readonly). Everything here
is idempotent: running it on an up-to-date database changes nothing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from psycopg import errors, sql
from psycopg.rows import scalar_row

from clawgate.db.bootstrap import bootstrap
from clawgate.db.logins import derived_password
from clawgate.db.names import (
    APP_LOGIN,
    GATEWAY_ROLE,
    OWNER_ROLE,
    REGISTRY_SCHEMA,
    query_login,
    search_path,
    tenant_role,
    tenant_schema,
)
from clawgate.db.tx import owner_connection
from clawgate.db.types import Conn
from clawgate.observability import logger

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
Kind = Literal["registry", "tenant"]
ALL_TABLES = sql.SQL("ALL TABLES IN SCHEMA")
QUERY_TIMEOUT = "3s"
QUERY_CONNECTION_LIMIT = 4
# What the app login (through the gateway role) may do in the registry. Provisioning (tenants, channel accounts)
# and minting or revoking gateway tokens belong to the owner login. A new registry table needs its line here.
REGISTRY_GRANTS: dict[str, str] = {
    "tenants": "SELECT",
    "channel_accounts": "SELECT",
    "gateway_tokens": "SELECT (id, tenant_slug, token_sha256, revoked_at), UPDATE (last_used_at)",
    "devices": "SELECT, INSERT, UPDATE",
    "ws_connections": "SELECT, INSERT, UPDATE, DELETE",
    "ws_chunks": "SELECT, INSERT, DELETE",
    "pairing_codes": "SELECT, INSERT, UPDATE, DELETE",
    "auth_failures": "SELECT, INSERT, DELETE",
    "unrouted_events": "INSERT",
    # The single-host runtime's queues (clawgate.local.queue): webhooks send, workers receive and settle.
    "queue_messages": "SELECT, INSERT, UPDATE, DELETE",
    "queue_deduplication": "SELECT, INSERT, UPDATE, DELETE",
    "queue_dead_letters": "SELECT, INSERT",
    "sync_run_results": "SELECT, INSERT, DELETE",
}


class MigrationChangedError(RuntimeError):
    pass


@dataclass(frozen=True)
class Migration:
    version: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def load_migrations(kind: Kind) -> list[Migration]:
    files = sorted((MIGRATIONS_DIR / kind).glob("*.sql"))
    return [Migration(version=f.stem, sql=f.read_text()) for f in files]


def apply_migrations(conn: Conn, schema: str, kind: Kind) -> list[str]:
    """Apply what `schema` lacks in one transaction, serialised per schema; return the versions applied."""
    applied_now: list[str] = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"clawgate:migrate:{schema}",))
        conn.execute("SELECT set_config('role', %s, true), set_config('search_path', %s, true)", (OWNER_ROLE, schema))
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version text PRIMARY KEY, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        applied: dict[str, str] = dict(conn.execute("SELECT version, checksum FROM schema_migrations").fetchall())
        for migration in load_migrations(kind):
            if migration.version in applied:
                if applied[migration.version] != migration.checksum:
                    raise MigrationChangedError(f"{schema}: migration {migration.version} changed after it was applied")
                continue
            conn.execute(migration.sql.encode())
            conn.execute(
                "INSERT INTO schema_migrations (version, checksum) VALUES (%s, %s)",
                (migration.version, migration.checksum),
            )
            applied_now.append(migration.version)
    if applied_now:
        logger.info("migrations applied", extra={"schema": schema, "versions": applied_now})
    return applied_now


def _ensure_role(conn: Conn, role: str, attributes: str = "NOLOGIN") -> None:
    """Create `role` (the owner login administers what it creates)."""
    if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone():
        return
    try:
        conn.execute(sql.SQL("CREATE ROLE {} {}").format(sql.Identifier(role), sql.SQL(attributes)))
    except errors.DuplicateObject:
        return


def _grant_role(conn: Conn, role: str, member: str) -> None:
    """`member` may SET ROLE to `role`, and has none of its privileges until it does."""
    ident = sql.Identifier
    conn.execute(sql.SQL("GRANT {} TO {} WITH INHERIT FALSE, SET TRUE").format(ident(role), ident(member)))


def _ensure_query_login(conn: Conn, slug: str) -> None:
    """The login of the model's SQL: a member of nothing, read-only, timed out, never idle in a transaction."""
    login, ident = query_login(slug), sql.Identifier
    _ensure_role(conn, login, f"LOGIN NOINHERIT CONNECTION LIMIT {QUERY_CONNECTION_LIMIT}")
    settings = {
        "default_transaction_read_only": "on",
        "statement_timeout": QUERY_TIMEOUT,
        "idle_in_transaction_session_timeout": "10s",
        "search_path": search_path(tenant_schema(slug)),
    }
    with conn.transaction():
        conn.execute(
            sql.SQL("ALTER ROLE {} WITH LOGIN NOINHERIT CONNECTION LIMIT {} PASSWORD {}").format(
                ident(login), sql.Literal(QUERY_CONNECTION_LIMIT), sql.Literal(derived_password(login))
            )
        )
        for name, value in settings.items():
            conn.execute(sql.SQL("ALTER ROLE {} SET {} = {}").format(ident(login), ident(name), sql.Literal(value)))


def _ensure_schema(conn: Conn, schema: str) -> None:
    conn.execute(
        sql.SQL("CREATE SCHEMA IF NOT EXISTS {} AUTHORIZATION {}").format(
            sql.Identifier(schema), sql.Identifier(OWNER_ROLE)
        )
    )


def _grant_tenant_tables(conn: Conn, schema: str, rw_role: str, ro_role: str, query: str) -> None:
    on_schema, rw, readers = sql.Identifier(schema), sql.Identifier(rw_role), [ro_role, query]
    grant = "GRANT {privileges} ON {what} {schema} TO {to}"
    statements = [
        sql.SQL(grant).format(
            privileges=sql.SQL("USAGE"), what=sql.SQL("SCHEMA"), schema=on_schema, to=_roles(rw_role, *readers)
        ),
        sql.SQL(grant).format(
            privileges=sql.SQL("SELECT, INSERT, UPDATE, DELETE"), what=ALL_TABLES, schema=on_schema, to=rw
        ),
        sql.SQL(grant).format(
            privileges=sql.SQL("USAGE, SELECT"), what=sql.SQL("ALL SEQUENCES IN SCHEMA"), schema=on_schema, to=rw
        ),
        sql.SQL("REVOKE INSERT, UPDATE, DELETE ON {}.schema_migrations FROM {}").format(on_schema, rw),
        sql.SQL(grant).format(privileges=sql.SQL("SELECT"), what=ALL_TABLES, schema=on_schema, to=_roles(*readers)),
    ]
    with conn.transaction():
        for statement in statements:
            conn.execute(statement)


def _roles(*names: str) -> sql.Composed:
    return sql.SQL(", ").join(sql.Identifier(name) for name in names)


def _grant_registry(conn: Conn) -> None:
    """The gateway role gets what the handlers' paths need, table by table; a table not listed gets nothing."""
    schema, gateway = sql.Identifier(REGISTRY_SCHEMA), sql.Identifier(GATEWAY_ROLE)
    rows = conn.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = %s AND tablename <> 'schema_migrations'",
        (REGISTRY_SCHEMA,),
    ).fetchall()
    with conn.transaction():
        conn.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(schema, gateway))
        conn.execute(sql.SQL("GRANT USAGE ON ALL SEQUENCES IN SCHEMA {} TO {}").format(schema, gateway))
        for (table,) in rows:
            target = sql.SQL("{}.{}").format(schema, sql.Identifier(table))
            conn.execute(sql.SQL("REVOKE ALL ON {} FROM {}").format(target, gateway))
            if table not in REGISTRY_GRANTS:
                logger.warning("registry table without grants for the app", extra={"table": table})
                continue
            privileges = sql.SQL(REGISTRY_GRANTS[table])  # constants of this module, never input
            conn.execute(sql.SQL("GRANT {} ON {} TO {}").format(privileges, target, gateway))


def ensure_platform() -> list[str]:
    """The logins (where the admin login is known), the gateway role and the registry schema, then its migrations.
    Safe to run on every start."""
    bootstrap()
    with owner_connection() as conn:
        _ensure_role(conn, GATEWAY_ROLE)
        _grant_role(conn, GATEWAY_ROLE, APP_LOGIN)
        _ensure_schema(conn, REGISTRY_SCHEMA)
        applied = apply_migrations(conn, REGISTRY_SCHEMA, "registry")
        _grant_registry(conn)
        return applied


def provision_tenant(slug: str) -> list[str]:
    """The tenant's roles, query login and schema, then its migrations; returns the versions applied now."""
    schema, rw_role, ro_role = tenant_schema(slug), tenant_role(slug, "rw"), tenant_role(slug, "ro")
    with owner_connection() as conn:
        for role in (rw_role, ro_role):
            _ensure_role(conn, role)
            _grant_role(conn, role, APP_LOGIN)
        _ensure_query_login(conn, slug)
        _ensure_schema(conn, schema)
        applied = apply_migrations(conn, schema, "tenant")
        _grant_tenant_tables(conn, schema, rw_role, ro_role, query_login(slug))
        return applied


def tenant_slugs() -> list[str]:
    with owner_connection() as conn, conn.cursor(row_factory=scalar_row) as cursor:
        return cursor.execute(
            "SELECT substr(nspname, 8) FROM pg_namespace WHERE nspname LIKE 'tenant\\_%%' ORDER BY 1"
        ).fetchall()


def upgrade_all() -> dict[str, list[str]]:
    """`clawgate db upgrade`: the registry, then every tenant schema, brought up to date."""
    result = {REGISTRY_SCHEMA: ensure_platform()}
    for slug in tenant_slugs():
        result[tenant_schema(slug)] = provision_tenant(slug)
    return result
