"""The inbox jobs: `inbox` (scheduled follow-ups that are due, and `human` conversations given back to the agent
after `handoff.auto_resume_minutes`) and `templates_sync` (the WhatsApp templates cache, from Graph)."""

from __future__ import annotations

from typing import Any

from clawgate.agent.followups import run_inbox_job
from clawgate.channels.whatsapp_templates import sync
from clawgate.jobs import JobSkipped
from clawgate.tenancy.tenants import cached_tenant


def run(tenant: str, params: dict[str, Any]) -> dict[str, Any]:
    return run_inbox_job(tenant, params)


def run_templates_sync(tenant: str, params: dict[str, Any]) -> dict[str, Any]:
    settings = cached_tenant(tenant)
    if not settings.channels.whatsapp:
        raise JobSkipped("no WhatsApp number")
    return {"templates": sync(settings)}
