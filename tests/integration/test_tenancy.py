"""Tenant files applied to PostgreSQL: idempotency, updates, refusal of bad files, role isolation, tokens."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
import yaml
from clawgate.cli import main
from clawgate.db import registry_tx, tenant_tx
from clawgate.tenancy.apply import ChannelAccountTakenError, apply_tenant
from clawgate.tenancy.data.registry import find_channel_account
from clawgate.tenancy.model import TenantFile, TenantFileError, load_tenant_file
from clawgate.tenancy.tenants import load_tenant
from clawgate.tenancy.tokens import create_token, verify_token

from tests.conftest import tenant_data

pytestmark = pytest.mark.usefixtures("database")
MakeTenant = Callable[..., TenantFile]


def test_apply_creates_the_tenant_and_routes_its_accounts(make_tenant: MakeTenant) -> None:
    tenant = make_tenant()
    result = apply_tenant(tenant)
    assert "agent assistant" in result.changes and "capi settings" in result.changes
    whatsapp = tenant.channels.whatsapp[0]
    with registry_tx() as conn:
        account = find_channel_account(conn, "whatsapp", whatsapp.phone_number_id)
    assert account is not None and (account.tenant, account.agent_id) == (tenant.slug, "assistant")
    assert load_tenant(tenant.slug) == tenant
    with tenant_tx(tenant.slug) as conn:
        files = conn.execute("SELECT agent_id, name, content FROM workspace_files ORDER BY 1, 2").fetchall()
        capi = conn.execute("SELECT enabled, threshold, event_l2 FROM capi_settings").fetchone()
    assert len(files) == 12
    identity = next(content for agent, name, content in files if (agent, name) == ("assistant", "IDENTITY.md"))
    assert "Aliya" in identity and tenant.name in identity
    assert capi == (True, 3, "QualifiedLead")


def test_reapplying_the_same_file_changes_nothing(make_tenant: MakeTenant) -> None:
    tenant = make_tenant()
    apply_tenant(tenant)
    with tenant_tx(tenant.slug) as conn:
        before = conn.execute("SELECT id, updated_at FROM agents ORDER BY id").fetchall()
    assert apply_tenant(tenant).changes == []
    with tenant_tx(tenant.slug) as conn:
        assert conn.execute("SELECT id, updated_at FROM agents ORDER BY id").fetchall() == before


def test_an_edited_file_updates_only_what_changed(make_tenant: MakeTenant) -> None:
    tenant = make_tenant()
    apply_tenant(tenant)
    with tenant_tx(tenant.slug) as conn:  # the agent wrote its own memory: never overwritten
        conn.execute("UPDATE workspace_files SET content = 'likes tea', updated_by = 'agent' WHERE name = 'MEMORY.md'")
    data = tenant.model_dump(mode="json")
    data["agents"][0]["name"] = "Dana"
    data["channels"]["telegram"] = []
    changes = apply_tenant(TenantFile.model_validate(data)).changes
    assert "agent assistant" in changes
    assert "workspace assistant/IDENTITY.md" in changes
    assert f"channel account telegram {tenant.slug}/director removed" in changes
    assert not any("MEMORY.md" in change for change in changes)
    with tenant_tx(tenant.slug) as conn:
        assert conn.execute("SELECT name FROM agents WHERE id = 'assistant'").fetchone() == ("Dana",)
        memory = conn.execute("SELECT content FROM workspace_files WHERE name = 'MEMORY.md'").fetchall()
    assert ("likes tea",) in memory


def test_a_bad_tenant_file_names_the_field(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tenant_data("bad_one")
    data["timezone"] = "Mars/Olympus"
    data["agents"][0]["model_by_channel"] = {"sms": "x"}
    data["channels"]["telegram"][0]["bot_token"] = "123:plain-token"
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(TenantFileError) as raised:
        load_tenant_file(path)
    fields = dict(raised.value.problems)
    assert "unknown IANA timezone" in fields["timezone"]
    assert "agents.0.model_by_channel.sms.[key]" in fields
    assert "secret:" in fields["channels.telegram.0.bot_token"]
    assert main(["tenants", "apply", str(path)]) == 2
    assert "channels.telegram.0.bot_token" in capsys.readouterr().err


def test_a_channel_account_cannot_belong_to_two_tenants(make_tenant: MakeTenant) -> None:
    first = make_tenant()
    apply_tenant(first)
    taken = tenant_data("second_" + first.slug[:20])
    taken["channels"]["whatsapp"][0]["phone_number_id"] = first.channels.whatsapp[0].phone_number_id
    with pytest.raises(ChannelAccountTakenError, match=first.slug):
        apply_tenant(TenantFile.model_validate(taken))


def test_one_tenants_roles_cannot_read_another_tenants_rows(make_tenant: MakeTenant) -> None:
    a, b = make_tenant(), make_tenant()
    apply_tenant(a)
    apply_tenant(b)
    with tenant_tx(b.slug) as conn:
        conn.execute("INSERT INTO config (key, value) VALUES ('secret_plan', '\"b only\"')")
    for access in ("rw", "ro"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege), tenant_tx(a.slug, access) as conn:  # type: ignore[arg-type]
            conn.execute(f"SELECT * FROM tenant_{b.slug}.config")
    with pytest.raises(psycopg.errors.InsufficientPrivilege), tenant_tx(a.slug) as conn:
        conn.execute(f"INSERT INTO tenant_{b.slug}.leads (source, leadgen_id) VALUES ('lead_form', 'x')")
    with pytest.raises(psycopg.errors.InsufficientPrivilege), tenant_tx(a.slug) as conn:
        conn.execute("SELECT * FROM clawgate.gateway_tokens")
    with tenant_tx(a.slug) as conn:  # its own search_path does not see b's rows either
        assert conn.execute("SELECT count(*) FROM config").fetchone() == (0,)


def test_the_read_only_role_cannot_write(make_tenant: MakeTenant) -> None:
    tenant = make_tenant()
    apply_tenant(tenant)
    with pytest.raises(psycopg.errors.InsufficientPrivilege), tenant_tx(tenant.slug, "ro") as conn:
        conn.execute("INSERT INTO config (key, value) VALUES ('k', '1')")


def test_tokens_are_stored_as_hashes_and_verified(make_tenant: MakeTenant, capsys: pytest.CaptureFixture[str]) -> None:
    tenant, other = make_tenant(), make_tenant()
    apply_tenant(tenant)
    apply_tenant(other)
    assert main(["tokens", "create", tenant.slug]) == 0
    token = capsys.readouterr().out.strip()
    assert token.startswith("cgt_") and "\n" not in token
    assert verify_token(tenant.slug, token)
    assert not verify_token(other.slug, token)
    assert not verify_token(tenant.slug, token + "x")
    with registry_tx() as conn:
        stored = conn.execute("SELECT token_sha256 FROM gateway_tokens WHERE tenant_slug = %s", (tenant.slug,))
        assert token not in str(stored.fetchall())
    with pytest.raises(LookupError):
        create_token("no_such_tenant")
