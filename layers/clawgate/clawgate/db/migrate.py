"""Ordered SQL migrations, applied per schema and recorded in that schema's `schema_migrations`.

The registry schema `clawgate` and every `tenant_<slug>` schema are owned by `clawgate_owner`; migrations run as that
role. Each tenant has a read-write and a read-only role that see their own schema and nothing else. Everything here
is idempotent: running it on an up-to-date database changes nothing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from psycopg import Connection, errors, sql
from psycopg.rows import TupleRow

from clawgate.db.pool import get_pool
from clawgate.db.tx import GATEWAY_ROLE, OWNER_ROLE, REGISTRY_SCHEMA, tenant_role, tenant_schema
from clawgate.observability import logger

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
Kind = Literal["registry", "tenant"]
Conn = Connection[TupleRow]


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


def _ensure_role(conn: Conn, role: str) -> None:
    if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone():
        return
    try:
        conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(role)))
    except errors.DuplicateObject:
        return
    is_superuser = conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()
    if not (is_superuser and is_superuser[0]):
        conn.execute(sql.SQL("GRANT {} TO CURRENT_USER").format(sql.Identifier(role)))


def _ensure_schema(conn: Conn, schema: str) -> None:
    conn.execute(
        sql.SQL("CREATE SCHEMA IF NOT EXISTS {} AUTHORIZATION {}").format(
            sql.Identifier(schema), sql.Identifier(OWNER_ROLE)
        )
    )


def _grant_tables(conn: Conn, schema: str, rw_role: str, ro_role: str | None) -> None:
    ident = sql.Identifier
    statements = [
        sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(ident(schema), ident(rw_role)),
        sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {} TO {}").format(
            ident(schema), ident(rw_role)
        ),
        sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {} TO {}").format(ident(schema), ident(rw_role)),
        sql.SQL("REVOKE INSERT, UPDATE, DELETE ON {}.schema_migrations FROM {}").format(ident(schema), ident(rw_role)),
    ]
    if ro_role:
        statements += [
            sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(ident(schema), ident(ro_role)),
            sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(ident(schema), ident(ro_role)),
        ]
    with conn.transaction():
        for statement in statements:
            conn.execute(statement)


def ensure_platform() -> list[str]:
    """Roles and the registry schema, then its migrations. Safe to run on every start."""
    with get_pool().connection() as conn:
        for role in (OWNER_ROLE, GATEWAY_ROLE):
            _ensure_role(conn, role)
        database = conn.execute("SELECT current_database()").fetchone()
        assert database is not None
        conn.execute(
            sql.SQL("GRANT CREATE ON DATABASE {} TO {}").format(sql.Identifier(database[0]), sql.Identifier(OWNER_ROLE))
        )
        _ensure_schema(conn, REGISTRY_SCHEMA)
        applied = apply_migrations(conn, REGISTRY_SCHEMA, "registry")
        _grant_tables(conn, REGISTRY_SCHEMA, GATEWAY_ROLE, None)
        return applied


def provision_tenant(slug: str) -> list[str]:
    """The tenant's roles and schema, then its migrations; returns the versions applied now."""
    schema, rw_role, ro_role = tenant_schema(slug), tenant_role(slug, "rw"), tenant_role(slug, "ro")
    with get_pool().connection() as conn:
        for role in (rw_role, ro_role):
            _ensure_role(conn, role)
        _ensure_schema(conn, schema)
        applied = apply_migrations(conn, schema, "tenant")
        _grant_tables(conn, schema, rw_role, ro_role)
        return applied


def tenant_slugs() -> list[str]:
    with get_pool().connection() as conn:
        rows = conn.execute(
            "SELECT substr(nspname, 8) FROM pg_namespace WHERE nspname LIKE 'tenant\\_%%' ORDER BY 1"
        ).fetchall()
    return [row[0] for row in rows]


def upgrade_all() -> dict[str, list[str]]:
    """`clawgate db upgrade`: the registry, then every tenant schema, brought up to date."""
    result = {REGISTRY_SCHEMA: ensure_platform()}
    for slug in tenant_slugs():
        result[tenant_schema(slug)] = provision_tenant(slug)
    return result
