"""The model's SQL, attacked through the public surface: a tenant's gateway token, the run API and a scripted model
calling `db_query`. Whatever the text, nothing outside the tenant is read or written: asserted from a superuser
connection, not from the attacker's."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from clawgate.db import close_pool, pool, tenant_tx
from clawgate.local.fakes import FakeAnthropic
from psycopg.types.json import Jsonb

from tests.e2e.conftest import Client

ClientFor = Callable[..., Client]


@pytest.fixture
def admin(database: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(database, autocommit=True) as conn:
        yield conn


@pytest.fixture
def attacker(client_for: ClientFor) -> Client:
    return client_for()


@pytest.fixture
def victim(client_for: ClientFor, admin: psycopg.Connection[Any]) -> tuple[Client, str]:
    """Another tenant of the same database, with a lead nobody else may read."""
    client = client_for()
    secret = f"VICTIM-{uuid.uuid4().hex}"
    admin.execute(
        f"INSERT INTO tenant_{client.tenant.slug}.leads (source, leadgen_id, name, field_data)"
        " VALUES ('lead_form', %s, %s, %s)",
        (secret, secret, Jsonb({"note": secret})),
    )
    return client, secret


def query(client: Client, model: FakeAnthropic, admin: psycopg.Connection[Any], sql: str) -> tuple[str, str]:
    """One turn of the operator-profile agent whose model calls db_query with `sql`: (status, result or error)."""
    model.script_tool_use([("db_query", {"sql": sql})])
    model.script_text("done")
    answer = client.run("director", "run the query")
    assert answer.status_code == 200, answer.text
    row = admin.execute(
        f"SELECT status, coalesce(result::text, '') || coalesce(error, '') FROM tenant_{client.tenant.slug}.tool_calls"
        " WHERE name = 'db_query' ORDER BY id DESC LIMIT 1"
    ).fetchone()
    assert row is not None
    return str(row[0]), str(row[1])


def test_multi_statement_role_escapes_write_nothing(
    attacker: Client, victim: tuple[Client, str], model: FakeAnthropic, admin: psycopg.Connection[Any]
) -> None:
    other = victim[0].tenant.slug
    tokens_before = admin.execute("SELECT count(*) FROM clawgate.gateway_tokens").fetchone()
    attacks = [
        "SELECT 1; RESET ROLE; INSERT INTO clawgate.gateway_tokens (tenant_slug, token_sha256)"
        f" VALUES ('{other}', repeat('a', 64))",
        "SELECT 1; RESET ROLE; CREATE TABLE public.escaped (a int)",
        f"SELECT 1; SET ROLE tenant_{other}_rw; INSERT INTO tenant_{other}.config (key, value) VALUES ('x', '1')",
        "SELECT 1; SET SESSION AUTHORIZATION DEFAULT; CREATE TABLE public.escaped (a int)",
    ]
    for sql in attacks:
        status, text = query(attacker, model, admin, sql)
        assert status == "error" and "multiple commands" in text, (sql, text)
    assert admin.execute("SELECT count(*) FROM clawgate.gateway_tokens").fetchone() == tokens_before
    assert admin.execute("SELECT to_regclass('public.escaped')").fetchone() == (None,)
    assert admin.execute(f"SELECT count(*) FROM tenant_{other}.config WHERE key = 'x'").fetchone() == (0,)


def test_one_statement_role_escapes_read_nothing(
    attacker: Client, victim: tuple[Client, str], model: FakeAnthropic, admin: psycopg.Connection[Any]
) -> None:
    other, secret = victim[0].tenant.slug, victim[1]
    attacks = [
        "SELECT * FROM (SELECT set_config('role', 'none', true) r) s,"
        f" LATERAL ts_stat('SELECT to_tsvector(name) FROM tenant_{other}.leads' || left(s.r, 0))",
        f"SELECT set_config('role', 'tenant_{other}_ro', false), (SELECT count(*) FROM tenant_{other}.leads)",
        f"SELECT * FROM tenant_{other}.leads",
        "SELECT * FROM clawgate.gateway_tokens",
        f"WITH x AS (INSERT INTO tenant_{other}.config (key, value) VALUES ('y', '1') RETURNING 1) SELECT * FROM x",
        "SELECT 1 FROM leads FOR UPDATE",
    ]
    for sql in attacks:
        status, text = query(attacker, model, admin, sql)
        assert status == "error", (sql, text)
        assert secret not in text
    assert admin.execute(f"SELECT count(*) FROM tenant_{other}.config WHERE key = 'y'").fetchone() == (0,)


def test_server_files_and_programs_are_out_of_reach(
    attacker: Client, model: FakeAnthropic, admin: psycopg.Connection[Any], tmp_path: Path
) -> None:
    marker = tmp_path / "written-by-the-model"
    attacks = [
        "SELECT pg_read_file('/etc/hostname')",
        "SELECT pg_read_binary_file('postgresql.conf')",
        "SELECT * FROM pg_ls_dir('.')",
        f"COPY (SELECT 1) TO PROGRAM 'touch {marker}'",
        f"SELECT 1; COPY (SELECT 1) TO PROGRAM 'touch {marker}'",
        "SELECT lo_import('/etc/hostname')",
    ]
    for sql in attacks:
        status, text = query(attacker, model, admin, sql)
        assert status == "error", (sql, text)
    assert not marker.exists()


def test_the_catalog_names_no_other_tenant(
    attacker: Client, victim: tuple[Client, str], model: FakeAnthropic, admin: psycopg.Connection[Any]
) -> None:
    other = victim[0].tenant.slug
    refused = [
        "SELECT nspname FROM pg_namespace",
        "SELECT relname, relnamespace FROM pg_class",
        "SELECT rolname FROM pg_roles",
        "SELECT usename, query FROM pg_stat_activity",
        "SELECT schemaname, tablename FROM pg_tables",
        "SELECT * FROM pg_stat_get_activity(NULL)",
        "SELECT setrole, setconfig FROM pg_db_role_setting",
    ]
    for sql in refused:
        status, text = query(attacker, model, admin, sql)
        assert status == "error" and "permission denied" in text, (sql, text)
    status, text = query(attacker, model, admin, "SELECT DISTINCT table_schema FROM information_schema.tables")
    assert status == "ok" and f"tenant_{attacker.tenant.slug}" in text and other not in text


def test_the_timeout_cannot_be_lifted(attacker: Client, model: FakeAnthropic, admin: psycopg.Connection[Any]) -> None:
    status, text = query(attacker, model, admin, "SELECT set_config('statement_timeout', '0', false), pg_sleep(6)")
    assert status == "error" and "statement timeout" in text
    status, text = query(attacker, model, admin, "SELECT 1; SET LOCAL statement_timeout = 0; SELECT pg_sleep(6)")
    assert status == "error" and "multiple commands" in text


def test_the_row_cap_is_applied_by_the_server(
    attacker: Client, model: FakeAnthropic, admin: psycopg.Connection[Any]
) -> None:
    # A billion rows: fetched whole, they would outlast the timeout; the cursor hands over the first 101 only.
    status, text = query(attacker, model, admin, "SELECT generate_series(1, 1000000000) AS g")
    assert status == "ok", text
    assert '"truncated": true' in text and '\\"g\\": 100}' in text and '\\"g\\": 101}' not in text


def test_temporary_tables_cannot_shadow_another_tenants_files(
    attacker: Client, victim: tuple[Client, str], model: FakeAnthropic, admin: psycopg.Connection[Any]
) -> None:
    close_pool()  # one pooled connection for everything: what one tenant leaves on it, the next one would meet
    pool._pool = pool.new_pool(max_size=1)
    try:
        other = victim[0]
        for sql in [
            "CREATE TEMP TABLE workspace_files (agent_id text, name text, content text, updated_by text)",
            "SELECT * INTO TEMP workspace_files FROM workspace_files",
            "SELECT 1; CREATE TEMP TABLE workspace_files AS SELECT * FROM workspace_files",
        ]:
            status, text = query(attacker, model, admin, sql)
            assert status == "error", (sql, text)
        with pytest.raises(psycopg.errors.InsufficientPrivilege), tenant_tx(attacker.tenant.slug) as conn:
            conn.execute("CREATE TEMP TABLE workspace_files (agent_id text, name text, content text)")
        with tenant_tx(attacker.tenant.slug) as conn:  # a session-level setting on the pooled connection...
            conn.execute("SET search_path = pg_temp, public")
            conn.execute("SET statement_timeout = 1")
        with tenant_tx(other.tenant.slug, "ro") as conn:  # ...is gone for the next transaction on it
            assert conn.execute("SHOW statement_timeout").fetchone() == ("0",)
            assert conn.execute("SHOW search_path").fetchone() == (f"tenant_{other.tenant.slug}, pg_temp",)
        model.script_text("hello")
        assert other.run("assistant", "hi").status_code == 200
        soul = model.message_requests()[-1]["system"][0]["text"]
        assert "Aliya" in soul
        assert admin.execute("SELECT count(*) FROM pg_class WHERE relpersistence = 't'").fetchone() == (0,)
    finally:
        close_pool()


def test_the_skills_queries_keep_working(
    attacker: Client, model: FakeAnthropic, admin: psycopg.Connection[Any]
) -> None:
    for sql in [
        "SELECT source, count(*) FROM leads GROUP BY source;",
        "SELECT wa_id, qualification, capi_msg_count FROM wa_dialogs ORDER BY id DESC LIMIT 20",
        "SELECT level, object_id, spend FROM metrics_history LIMIT 5",
        "SELECT adset_id, score, recommendation, components FROM scoring_history WHERE execution_id ="
        " (SELECT max(id) FROM scoring_executions WHERE status = 'succeeded') ORDER BY score",
        "SELECT level, event_name, status, error FROM capi_events_log ORDER BY id DESC LIMIT 10",
    ]:
        status, text = query(attacker, model, admin, sql)
        assert status == "ok", (sql, text)
