"""Summaries for the control UI and the operator API: ad spend, leads and cost per lead per day (from
`metrics_history`), model usage against the tenant's daily budget, and the tenant's agents."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field

from clawgate.agent.data.usage import spent_today
from clawgate.conversations.data.metrics import InboxMetrics, inbox_metrics
from clawgate.db import Conn, tenant_tx
from clawgate.gateway.data import metrics as ad_metrics
from clawgate.gateway.data import usage as model_usage
from clawgate.gateway.data.usage import ModelUsage, UsageDay
from clawgate.meta.marketing.context import ACCOUNT_CURRENCY
from clawgate.meta.marketing.data.lead_quality import leads_by_day, performance
from clawgate.tenancy.data import config as tenant_config
from clawgate.tenancy.tenants import cached_tenant


class AgentInfo(BaseModel):
    id: str
    name: str
    emoji: str | None
    model: str
    description: str | None


def agents(tenant: str) -> list[AgentInfo]:
    return [AgentInfo(id=a.id, name=a.name, emoji=a.emoji, model=a.model, description=a.description)
            for a in cached_tenant(tenant).agents]  # fmt: skip


class MetricsQuery(BaseModel):
    days: int = Field(default=30, ge=1, le=366)


class MetricsDay(BaseModel):
    date: date
    spend: float
    leads: int
    cost_per_lead: float | None
    impressions: int
    clicks: int


class MetricsSummary(BaseModel):
    currency: str  # the ad account's
    level: str  # the widest level with rows: account, else the sum of campaign rows, else of ad set rows
    days: list[MetricsDay]
    spend: float
    leads: int  # our own leads (conversations that became leads, form leads), not Meta's counts
    cost_per_lead: float | None
    qualified: int = 0  # leads whose dialog is interested or scheduled
    cost_per_qualified_lead: float | None = None
    by_direction: list[dict[str, object]] = []
    by_creative: list[dict[str, object]] = []
    by_ad: list[dict[str, object]] = []


def _account_currency(conn: Conn) -> str | None:
    """The ad account's currency as the Marketing API gave it (kept by the ads tools), None until it was asked."""
    stored = tenant_config.get(conn, ACCOUNT_CURRENCY)
    currency = stored.get("currency") if isinstance(stored, dict) else None
    return str(currency) if currency else None


def _cpl(spend: Decimal | float, leads: int) -> float | None:
    return round(float(spend) / leads, 2) if leads else None


def metrics(tenant: str, query: MetricsQuery) -> MetricsSummary:
    with tenant_tx(tenant, "ro") as conn:
        level = ad_metrics.widest_level(conn, query.days) or "account"
        spent = ad_metrics.spend_by_day(conn, level, query.days)
        settings = cached_tenant(tenant)
        until = datetime.now(ZoneInfo(settings.timezone)).date()
        since = until - timedelta(days=query.days - 1)
        counted = leads_by_day(conn, since, until, settings.timezone)
        views = {by: performance(conn, since, until, settings.timezone, by) for by in ("direction", "creative", "ad")}
        currency = _account_currency(conn)
    days = [MetricsDay(date=d.date, spend=round(float(d.spend), 2), leads=counted.get(d.date, (0, 0))[0],
                       cost_per_lead=_cpl(d.spend, counted.get(d.date, (0, 0))[0]), impressions=d.impressions,
                       clicks=d.clicks)
            for d in spent]  # fmt: skip
    spend = round(sum(d.spend for d in days), 2)
    leads, qualified = sum(n for n, _ in counted.values()), sum(q for _, q in counted.values())
    return MetricsSummary(currency=currency or settings.currency, level=level,
                          days=days, spend=spend, leads=leads, cost_per_lead=_cpl(spend, leads),
                          qualified=qualified, cost_per_qualified_lead=_cpl(spend, qualified),
                          by_direction=[r.as_json() for r in views["direction"]],
                          by_creative=[r.as_json() for r in views["creative"]],
                          by_ad=[r.as_json() for r in views["ad"]])  # fmt: skip


class ConversationNumbers(InboxMetrics):
    currency: str
    leads_by: dict[str, list[dict[str, object]]]  # ad, creative, direction: leads and cost per lead (lead_quality)


def conversations(tenant: str, query: MetricsQuery) -> ConversationNumbers:
    """First-response times, resolved without a person, hand-offs per day, and leads with cost per lead by ad,
    creative and direction, over the last `days` days (today included) in the tenant's timezone."""
    settings = cached_tenant(tenant)
    until = datetime.now(ZoneInfo(settings.timezone)).date()
    since = until - timedelta(days=query.days - 1)
    with tenant_tx(tenant, "ro") as conn:
        talks = inbox_metrics(conn, since, until, settings.timezone)
        views = {by: [r.as_json() for r in performance(conn, since, until, settings.timezone, by)]
                 for by in ("ad", "creative", "direction")}  # fmt: skip
        currency = _account_currency(conn)
    return ConversationNumbers(**talks.model_dump(), leads_by=views, currency=currency or settings.currency)


class UsageQuery(BaseModel):
    days: int = Field(default=7, ge=1, le=90)


class UsageSummary(BaseModel):
    timezone: str
    budget_usd: float
    spent_today_usd: float
    remaining_today_usd: float
    today: list[ModelUsage]
    days: list[UsageDay]


def usage(tenant: str, query: UsageQuery) -> UsageSummary:
    """Today is the tenant's day (its timezone), as the budget counts it."""
    settings = cached_tenant(tenant)
    tz = settings.timezone
    with tenant_tx(tenant, "ro") as conn:
        spent = float(spent_today(conn, tz))
        today = model_usage.today_by_model(conn, tz)
        daily = model_usage.by_day(conn, tz, query.days)
    budget = float(settings.budget.daily_usd)
    return UsageSummary(
        timezone=tz,
        budget_usd=budget,
        spent_today_usd=round(spent, 6),
        remaining_today_usd=round(max(budget - spent, 0.0), 6),
        today=today,
        days=daily,
    )
