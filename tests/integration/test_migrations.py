"""Migrations on an empty database, then again on a migrated one: the second run changes nothing."""

from __future__ import annotations

import psycopg
import pytest
from clawgate.db import get_pool
from clawgate.db.migrate import MigrationChangedError, load_migrations, provision_tenant, upgrade_all


def catalog_snapshot() -> list[tuple[str, str, str]]:
    with get_pool().connection() as conn:
        rows = conn.execute(
            "SELECT n.nspname, c.relname, c.relkind::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = 'clawgate' OR n.nspname LIKE 'tenant\\_%%' ORDER BY 1, 2"
        ).fetchall()
    return [(r[0], r[1], r[2]) for r in rows]


def test_migrations_apply_on_empty_database_and_then_change_nothing(fresh_database: str) -> None:
    first = upgrade_all()
    assert first == {"clawgate": [m.version for m in load_migrations("registry")]}
    assert provision_tenant("empty_one") == [m.version for m in load_migrations("tenant")]
    before = catalog_snapshot()
    tables = {name for schema, name, kind in before if schema == "tenant_empty_one" and kind == "r"}
    assert {"wa_dialogs", "leads", "capi_events_log", "sessions", "inbound_events", "schema_migrations"} <= tables
    assert len(tables) >= 25

    second = upgrade_all()
    assert second == {"clawgate": [], "tenant_empty_one": []}
    assert catalog_snapshot() == before


def test_a_changed_migration_is_refused(fresh_database: str) -> None:
    upgrade_all()
    with psycopg.connect(fresh_database, autocommit=True) as conn:
        conn.execute("UPDATE clawgate.schema_migrations SET checksum = 'tampered'")
    with pytest.raises(MigrationChangedError, match="0001_registry"):
        upgrade_all()
