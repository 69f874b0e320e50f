"""WhatsApp message templates from Graph: `GET /{waba_id}/message_templates` (paged) into the cache
(`conversations.templates`), refreshed by the `templates_sync` job and on demand when the cache is empty, older than
an hour, or an operator asks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from clawgate import secrets
from clawgate.channels.graph_calls import call_meta
from clawgate.channels.whatsapp import delivery_error
from clawgate.conversations import templates
from clawgate.conversations.data.templates import replace_all
from clawgate.conversations.templates import Template
from clawgate.core.channels import DeliveryError
from clawgate.db import tenant_tx
from clawgate.observability import logger
from clawgate.settings import get_settings
from clawgate.tenancy.model import TenantFile

FIELDS = "name,language,status,category,components"
MAX_AGE = timedelta(hours=1)


def fetch(waba_id: str, token: str) -> list[dict[str, Any]]:
    settings = get_settings()
    url: str | None = f"{settings.graph_url.rstrip('/')}/{settings.graph_version}/{waba_id}/message_templates"
    params: dict[str, Any] | None = {"fields": FIELDS, "limit": 100}
    found: list[dict[str, Any]] = []
    while url:
        payload = call_meta("GET", url, token, delivery_error, params=params, service="Graph")
        found += [t for t in payload.get("data") or [] if isinstance(t, dict)]
        url, params = (payload.get("paging") or {}).get("next"), None
    return found


def sync(tenant: TenantFile) -> int:
    """Refresh the cache from Graph for each of the tenant's WhatsApp Business Accounts; how many it now holds."""
    total = 0
    for waba_id, token_ref in {a.waba_id: a.access_token for a in tenant.channels.whatsapp}.items():
        listed = fetch(waba_id, secrets.resolve(token_ref))
        with tenant_tx(tenant.slug) as conn:
            replace_all(conn, waba_id, listed)
        total += len(listed)
    logger.info("whatsapp templates synced", extra={"templates": total})
    return total


def current(tenant: TenantFile, *, refresh: bool = False) -> list[Template]:
    """The approved templates, synced first when asked, or when the cache is empty or older than an hour (a Graph
    failure then falls back to the cache; an explicit refresh reports it)."""
    found = templates.cached(tenant.slug, approved_only=False)
    stale = not found or min(t.synced_at for t in found) < datetime.now(UTC) - MAX_AGE
    if tenant.channels.whatsapp and (refresh or stale):
        try:
            sync(tenant)
        except DeliveryError as error:
            if refresh:
                raise
            logger.warning("templates not refreshed; using the cache", extra={"error": str(error)[:200]})
    return templates.cached(tenant.slug)
