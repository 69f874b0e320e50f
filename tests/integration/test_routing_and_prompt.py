"""Bindings precedence (peer > account > channel > default), and the prompt's caps and truncation marker."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from clawgate.agent.prompt import FILE_CAP, TOTAL_CAP, ChannelContext, system_blocks, workspace_section
from clawgate.agent.routing import resolve_agent
from clawgate.db import tenant_tx
from clawgate.tenancy.apply import apply_tenant
from clawgate.tenancy.model import TenantFile

pytestmark = pytest.mark.usefixtures("database")


def test_the_most_specific_binding_wins(make_tenant: Callable[..., TenantFile]) -> None:
    tenant = make_tenant(channels={}, agents=[{"id": a, "name": a.title()} for a in ("zed", "ann", "bob", "cat")])
    apply_tenant(tenant)
    with tenant_tx(tenant.slug) as conn:
        assert resolve_agent(conn, tenant, "telegram", "acct", "peer") == "zed"  # no binding: the first agent
        conn.execute(
            "INSERT INTO bindings (agent_id, channel, account_id, peer_id) VALUES"
            " ('ann', NULL, NULL, NULL), ('bob', 'telegram', NULL, NULL), ('cat', 'telegram', 'acct', NULL),"
            " ('zed', 'telegram', 'acct', 'vip')"
        )
        assert resolve_agent(conn, tenant, "whatsapp", "x", "y") == "ann"
        assert resolve_agent(conn, tenant, "telegram", "other", "y") == "bob"
        assert resolve_agent(conn, tenant, "telegram", "acct", "y") == "cat"
        assert resolve_agent(conn, tenant, "telegram", "acct", "vip") == "zed"


def test_workspace_files_are_capped_with_a_visible_marker() -> None:
    files = {"SOUL.md": "s" * (FILE_CAP + 500), "AGENTS.md": "a" * 100, "MEMORY.md": "m" * (TOTAL_CAP * 2)}
    section = workspace_section(files)
    assert "[truncated: 500 more characters of SOUL.md]" in section
    assert "a" * 100 in section
    assert "more characters of MEMORY.md]" in section
    assert len(section) < TOTAL_CAP + 1_000


def test_the_prompt_puts_the_stable_part_first_and_marks_it_for_caching(
    make_tenant: Callable[..., TenantFile],
) -> None:
    tenant = make_tenant()
    agent = tenant.agent("assistant")
    blocks = system_blocks(tenant, agent, {"SOUL.md": "Be kind."}, ChannelContext("whatsapp", "customer", "u1", "Ann"))
    stable, volatile = blocks
    assert stable["cache_control"] == {"type": "ephemeral"} and "cache_control" not in volatile
    assert "Be kind." in stable["text"] and "wa-qualify" in stable["text"]
    assert "Ann" in volatile["text"] and "Asia/Almaty" in volatile["text"] and "customer" in volatile["text"]
    operator = system_blocks(tenant, agent, {}, ChannelContext("webchat", "operator", "dev"))
    assert "wa-qualify" not in operator[0]["text"]  # a WhatsApp-only skill is not listed elsewhere
