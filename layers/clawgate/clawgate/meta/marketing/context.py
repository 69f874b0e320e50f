"""What the ads tools and jobs need to know about a tenant: its tenant file, and the settings onboarding keeps in the
tenant's `config` table (ad account, page, dataset, currency, target CPL, report chat), which win over the file.
Guardrails (step limit, daily cap) come from the tenant file only: no chat can loosen them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from psycopg.types.json import Jsonb

from clawgate.db import tenant_tx
from clawgate.meta.marketing.money import Conn, to_minor
from clawgate.tenancy.model import TenantFile
from clawgate.tenancy.registry import cached_tenant


class AdsNotConfigured(LookupError):
    """The tenant has no Meta access token or ad account yet (fb-onboarding sets them up)."""


def _pattern(regex: str) -> Any:
    def check(value: object) -> str:
        text = str(value).strip()
        if not re.fullmatch(regex, text):
            raise ValueError(f"{text!r} does not look right (expected {regex})")
        return text

    return check


def _amount(value: object) -> str:
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a number") from None
    if amount <= 0:
        raise ValueError("must be positive")
    return str(amount)


def _chat(value: object) -> int:
    text = str(value).strip()
    if not re.fullmatch(r"-?\d{1,20}", text):
        raise ValueError(f"{text!r} is not a Telegram chat id")
    return int(text)


# Settings onboarding may write (config key -> validator); guardrails are deliberately absent.
CONFIG_KEYS: dict[str, Any] = {
    "ad_account_id": _pattern(r"act_\d+"),
    "page_id": _pattern(r"\d+"),
    "dataset_id": _pattern(r"\d+"),
    "currency": lambda v: _pattern(r"[A-Z]{3}")(str(v).upper()),
    "target_cpl": _amount,
    "report_chat_id": _chat,
}


@dataclass(frozen=True)
class AdsContext:
    tenant: TenantFile
    ad_account_id: str
    currency: str
    page_id: str | None
    dataset_id: str | None
    target_cpl: Decimal | None
    report_chat_id: int | None

    @property
    def slug(self) -> str:
        return self.tenant.slug

    @property
    def step_limit(self) -> Decimal:
        return Decimal(str(self.tenant.ads.budget_step_limit))

    @property
    def daily_cap_minor(self) -> int | None:
        cap = self.tenant.ads.daily_budget_cap
        return None if cap is None else to_minor(cap, self.currency)

    @property
    def agent_id(self) -> str:
        return self.tenant.ads.agent or self.tenant.agents[0].id

    def today(self) -> date:
        return datetime.now(ZoneInfo(self.tenant.timezone)).date()

    def yesterday(self) -> date:
        return self.today() - timedelta(days=1)


def read_config(conn: Conn) -> dict[str, Any]:
    keys = list(CONFIG_KEYS)
    return dict(conn.execute("SELECT key, value FROM config WHERE key = ANY(%s)", (keys,)).fetchall())


def write_config(conn: Conn, key: str, value: object) -> Any:
    """Validate and store one onboarding setting; returns the stored value. ValueError names the problem."""
    if key not in CONFIG_KEYS:
        raise ValueError(f"{key!r} is not a setting onboarding may change; settings: {sorted(CONFIG_KEYS)}")
    stored = CONFIG_KEYS[key](value)
    conn.execute(
        "INSERT INTO config (key, value) VALUES (%s, %s)"
        " ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()",
        (key, Jsonb(stored)),
    )
    return stored


def load_context(slug: str) -> AdsContext:
    tenant = cached_tenant(slug)
    with tenant_tx(slug, "ro") as conn:
        config = read_config(conn)
    account = config.get("ad_account_id") or (tenant.meta.ad_account_id if tenant.meta else None)
    if tenant.meta is None or not account:
        raise AdsNotConfigured(f"tenant {slug} has no Meta access token and ad account (see the fb-onboarding skill)")
    target = config.get("target_cpl")
    return AdsContext(
        tenant=tenant,
        ad_account_id=str(account),
        currency=str(config.get("currency") or tenant.currency),
        page_id=config.get("page_id") or tenant.meta.page_id,
        dataset_id=config.get("dataset_id") or (tenant.capi.dataset_id if tenant.capi else None),
        target_cpl=Decimal(str(target)) if target is not None else None,
        report_chat_id=config.get("report_chat_id") or tenant.ads.report_chat_id,
    )
