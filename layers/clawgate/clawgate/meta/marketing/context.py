"""What the ads tools and jobs need to know about a tenant: its tenant file, and the settings onboarding keeps in the
tenant's `config` table (ad account, page, dataset, pixel, target CPL, report chat), which win over the file.
Guardrails (step limit, caps) come from the tenant file only: no chat can loosen them.

Money. Budgets are in the ad account's currency, which only Graph knows: it is read from the ad account
(`GET act_…?fields=currency`) and kept in `config` as `account_currency`, never taken from a chat or the tenant
file. The tenant file's `currency` is the display currency of reports (e.g. KZT for a USD-billed account)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from clawgate.db import Conn, tenant_tx
from clawgate.meta.marketing.money import to_minor
from clawgate.tenancy.data import config as stored_config
from clawgate.tenancy.model import TenantFile
from clawgate.tenancy.tenants import cached_tenant


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
    "pixel_id": _pattern(r"\d+"),
    "instagram_user_id": _pattern(r"\d+"),
    "target_cpl": _amount,
    "report_chat_id": _chat,
}


@dataclass(frozen=True)
class AdsContext:
    tenant: TenantFile
    ad_account_id: str
    stored_currency: str | None  # the ad account's, as remembered in config (None: ask Graph on first use)
    page_id: str | None
    dataset_id: str | None
    target_cpl: Decimal | None
    report_chat_id: int | None
    pixel_id: str | None = None
    instagram_user_id: str | None = None

    @property
    def currency(self) -> str:
        """The ad account's currency; asked of Graph (and remembered) the first time a context needs money."""
        if self.stored_currency is None:
            object.__setattr__(self, "stored_currency", _ask_account_currency(self.tenant, self.ad_account_id))
        assert self.stored_currency is not None
        return self.stored_currency

    @property
    def display_currency(self) -> str:
        return self.tenant.currency

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
    def account_cap_minor(self) -> int | None:
        """The account-wide cap on the sum of running daily budgets (`ads.account_daily_cap`); None: not set."""
        cap = self.tenant.ads.account_daily_cap
        return None if cap is None else to_minor(cap, self.currency)

    @property
    def agent_id(self) -> str:
        return self.tenant.ads_agent

    def today(self) -> date:
        return datetime.now(ZoneInfo(self.tenant.timezone)).date()

    def yesterday(self) -> date:
        return self.today() - timedelta(days=1)


def read_config(conn: Conn) -> dict[str, Any]:
    return stored_config.read(conn, [*CONFIG_KEYS, ACCOUNT_CURRENCY])


def write_config(conn: Conn, key: str, value: object) -> Any:
    """Validate and store one onboarding setting; returns the stored value. ValueError names the problem."""
    if key not in CONFIG_KEYS:
        raise ValueError(f"{key!r} is not a setting onboarding may change; settings: {sorted(CONFIG_KEYS)}")
    stored = CONFIG_KEYS[key](value)
    stored_config.write(conn, key, stored)
    return stored


ACCOUNT_CURRENCY = "account_currency"


def remember_account_currency(slug: str, account_id: str, currency: str) -> None:
    with tenant_tx(slug) as conn:
        stored_config.write(conn, ACCOUNT_CURRENCY, {"account": account_id, "currency": currency.upper()})


def _remembered_currency(account_id: str, stored: Any) -> str | None:
    if isinstance(stored, dict) and stored.get("account") == account_id and stored.get("currency"):
        return str(stored["currency"])
    return None


def _ask_account_currency(tenant: TenantFile, account_id: str) -> str:
    from facebook_business.adobjects.adaccount import AdAccount

    from clawgate.meta.graph import tenant_api
    from clawgate.meta.marketing.calls import graph_call

    api = tenant_api(tenant)
    with graph_call(api):
        currency = str(AdAccount(account_id, api=api).api_get(fields=["currency"])["currency"]).upper()
    remember_account_currency(tenant.slug, account_id, currency)
    return currency


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
        stored_currency=_remembered_currency(str(account), config.get(ACCOUNT_CURRENCY)),
        page_id=config.get("page_id") or tenant.meta.page_id,
        dataset_id=config.get("dataset_id") or (tenant.capi.dataset_id if tenant.capi else None),
        target_cpl=Decimal(str(target)) if target is not None else None,
        report_chat_id=config.get("report_chat_id") or tenant.ads.report_chat_id,
        pixel_id=config.get("pixel_id"),
        instagram_user_id=config.get("instagram_user_id"),
    )
