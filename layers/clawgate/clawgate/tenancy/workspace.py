"""Workspace files (SOUL.md, AGENTS.md, …) seeded from templates filled with the tenant's data."""

from __future__ import annotations

from pathlib import Path
from string import Template

from clawgate.tenancy.model import Agent, TenantFile

TEMPLATES_DIR = Path(__file__).parent / "templates"
WORKSPACE_FILES = ("SOUL.md", "AGENTS.md", "IDENTITY.md", "USER.md", "TOOLS.md", "MEMORY.md")
SEEDED_BY = "template"


def agent_channels(tenant: TenantFile, agent_id: str) -> list[str]:
    channels = [
        *(f"WhatsApp {a.phone_number_id}" for a in tenant.channels.whatsapp if a.agent == agent_id),
        *("Telegram" for a in tenant.channels.telegram if a.agent == agent_id),
    ]
    return [*channels, "web control UI", "run API"]


def render_workspace(tenant: TenantFile, agent: Agent) -> dict[str, str]:
    values = {
        "agent_name": agent.name,
        "agent_id": agent.id,
        "emoji": agent.emoji or "",
        "emoji_suffix": f" {agent.emoji}" if agent.emoji else "",
        "tenant_name": tenant.name,
        "timezone": tenant.timezone,
        "currency": tenant.currency,
        "channels": ", ".join(agent_channels(tenant, agent.id)),
    }
    return {name: Template((TEMPLATES_DIR / name).read_text()).safe_substitute(values) for name in WORKSPACE_FILES}
