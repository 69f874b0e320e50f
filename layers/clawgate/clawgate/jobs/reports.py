"""Morning and weekly reports: text from the synced metrics and the latest scores, plus a PNG chart of spend, leads
and cost per lead, sent to the tenant's report chat (`report_chat_id`, else the operator chats) by the operator bot
with Telegram `sendMessage` and `sendPhoto`. The chart is also kept in the blob store."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from clawgate import secrets
from clawgate.conversations.data.metrics import InboxMetrics, inbox_metrics
from clawgate.db import Conn, tenant_tx
from clawgate.jobs.charts import Day, conversations_chart, report_chart
from clawgate.jobs.data.reports import ad_totals, spend_by_day
from clawgate.jobs.data.scoring import latest_alerts, latest_scores
from clawgate.meta.marketing.context import AdsContext, load_context
from clawgate.meta.marketing.data.lead_quality import By, leads_by_day, performance
from clawgate.meta.marketing.money import convert, display
from clawgate.observability import logger

CAPTION_CHARS = 1024


@dataclass(frozen=True)
class Totals:
    """A window's numbers: spend, impressions and clicks from the insights, leads and qualified leads our own."""

    spend: Decimal
    leads: int
    impressions: int
    clicks: int
    qualified: int = 0

    @property
    def cpql(self) -> Decimal | None:
        return (self.spend / self.qualified).quantize(Decimal("0.01")) if self.qualified else None

    @property
    def cpl(self) -> Decimal | None:
        return (self.spend / self.leads).quantize(Decimal("0.01")) if self.leads else None

    @property
    def ctr(self) -> float | None:
        return round(100 * self.clicks / self.impressions, 2) if self.impressions else None


def totals(conn: Conn, since: date, until: date, tz: str) -> Totals:
    ads, counted = ad_totals(conn, since, until), leads_by_day(conn, since, until, tz).values()
    return Totals(ads.spend, sum(n for n, _ in counted), ads.impressions, ads.clicks, sum(q for _, q in counted))


def daily_series(conn: Conn, since: date, until: date, tz: str) -> list[Day]:
    """One point per day (days without rows are zero): spend from insights, leads from our own rows."""
    spent, leads = spend_by_day(conn, since, until), leads_by_day(conn, since, until, tz)
    days = [since + timedelta(days=offset) for offset in range((until - since).days + 1)]
    return [Day(day, float(spent.get(day, 0)), leads.get(day, (0, 0))[0]) for day in days]


def change(now: Decimal | int | None, before: Decimal | int | None) -> str:
    if now is None or before is None or not before:
        return ""
    percent = (Decimal(now) - Decimal(before)) * 100 / Decimal(before)
    return f" ({'+' if percent >= 0 else ''}{percent:.0f}%)"


@dataclass(frozen=True)
class Report:
    kind: str
    text: str
    chart: bytes
    chart_days: int
    conversations_chart: bytes | None = None  # weekly: hand-offs per day and cost per lead by direction


def report_targets(ctx: AdsContext) -> list[tuple[str, int]]:
    """(bot token reference, chat id) pairs: the report chat if set, else the operator chats."""
    from clawgate.channels.operator import operator_targets

    if ctx.report_chat_id is None:
        return operator_targets(ctx.tenant)
    bots = ctx.tenant.channels.telegram
    senders = [bot for bot in bots if bot.operator] or bots
    return [(senders[0].bot_token, ctx.report_chat_id)] if senders else []


def _money(ctx: AdsContext, conn: Any, amount: Decimal | None, on: date) -> str:
    """In the account currency, and in the display currency too when the tenant reads reports in another one."""
    text = display(amount, ctx.currency)
    if amount is None or ctx.display_currency == ctx.currency:
        return text
    shown = convert(conn, amount, ctx.currency, ctx.display_currency, on)
    return f"{text} (≈ {display(shown, ctx.display_currency)})" if shown is not None else text


def _summary(ctx: AdsContext, conn: Any, label: str, now: Totals, before: Totals, until: date) -> list[str]:
    target = f" (target {display(ctx.target_cpl, ctx.currency)})" if ctx.target_cpl else ""
    return [
        f"{label}:",
        f"• Spend: {_money(ctx, conn, now.spend, until)}{change(now.spend, before.spend)}",
        f"• Leads: {now.leads}{change(now.leads, before.leads)}, qualified {now.qualified}"
        f"{change(now.qualified, before.qualified)}",
        f"• Cost per lead: {_money(ctx, conn, now.cpl, until)}{change(now.cpl, before.cpl)}{target}",
        f"• Cost per qualified lead: {_money(ctx, conn, now.cpql, until)}{change(now.cpql, before.cpql)}",
        f"• CTR: {now.ctr if now.ctr is not None else '–'}%, impressions {now.impressions:,}",
    ]


def _breakdown(ctx: AdsContext, conn: Any, since: date, until: date) -> list[str]:
    """Cost per lead and per qualified lead by direction, and the best creatives by cost per qualified lead."""
    lines: list[str] = []
    views: tuple[tuple[By, str, int], ...] = (("direction", "By direction", 6), ("creative", "Best creatives", 3))
    for by, title, limit in views:
        rows = [r for r in performance(conn, since, until, ctx.tenant.timezone, by) if r.key and (r.spend or r.leads)]
        if rows:
            lines += ["", f"{title}:"]
        for row in rows[:limit]:
            lines.append(f"• {row.name or row.key}: {display(row.spend, ctx.currency)}, {row.leads} leads"
                         f" ({display(row.cpl, ctx.currency)} each), {row.qualified} qualified"
                         f" ({display(row.cpql, ctx.currency)} each)")  # fmt: skip
    return lines


def _scores(conn: Conn) -> list[str]:
    """The latest scoring run's alerts (frequency, Meta's issues, disapproved ads) and its best and worst ad sets."""
    alerts = [f"{a.get('name') or a.get('adset_id') or a.get('ad_id')}: {a['text']}"
              for a in latest_alerts(conn) if a.get("text")]  # fmt: skip
    lines = ["", "⚠️ Alerts:", *(f"• {alert}" for alert in alerts)] if alerts else []
    scores = latest_scores(conn)
    if not scores:
        return lines
    worst = [f"{s.name} {s.score:.0f} ({s.recommendation})" for s in scores[:3]]
    best = [f"{s.name} {s.score:.0f} ({s.recommendation})" for s in scores[-3:][::-1]]
    return [*lines, "", f"Ad-set scores ({scores[0].date}): best {', '.join(best)}; needs attention {', '.join(worst)}"]


def build_report(ctx: AdsContext, kind: str, until: date) -> Report:
    window, chart_days = (1, 14) if kind == "morning" else (7, 28)
    since = until - timedelta(days=window - 1)
    previous_until = since - timedelta(days=1)
    with tenant_tx(ctx.slug, "ro") as conn:
        tz = ctx.tenant.timezone
        now = totals(conn, since, until, tz)
        before = totals(conn, previous_until - timedelta(days=window - 1), previous_until, tz)
        label = f"Yesterday, {until:%a %d %b}" if kind == "morning" else f"Week {since:%d %b} – {until:%d %b}"
        lines = [f"📊 {ctx.tenant.name}: {kind} report", "", *_summary(ctx, conn, label, now, before, until)]
        lines += _breakdown(ctx, conn, since, until) + _scores(conn)
        series = daily_series(conn, until - timedelta(days=chart_days - 1), until, tz)
        talks = inbox_metrics(conn, since, until, tz) if kind == "weekly" else None
        directions = [r for r in performance(conn, since, until, tz, "direction") if r.key] if talks else []
    title = f"{ctx.tenant.name[:40]} - {chart_days} days to {until.isoformat()}"
    target = float(ctx.target_cpl) if ctx.target_cpl else None
    chart = report_chart(title, series, ctx.currency, target)
    if talks is None:
        return Report(kind, "\n".join(lines), chart, chart_days)
    lines += _conversations(talks)
    groups = [(r.name or str(r.key), float(r.cpl) if r.cpl is not None else None, r.leads) for r in directions[:8]]
    handoffs = [(d.date, d.count) for d in talks.handoffs_per_day]
    days = [since + timedelta(days=n) for n in range(window)]
    counts = dict(handoffs)
    second = conversations_chart(f"{ctx.tenant.name[:40]} - conversations, week to {until.isoformat()}",
                                 [(d, counts.get(d, 0)) for d in days], groups, ctx.currency)  # fmt: skip
    return Report(kind, "\n".join(lines), chart, chart_days, second)


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    if seconds < 90:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min" if seconds < 5400 else f"{seconds / 3600:.1f} h"


def _conversations(talks: InboxMetrics) -> list[str]:
    share = f"{talks.resolved_share:.0%}" if talks.resolved_share is not None else "–"
    lines = [
        "",
        "Conversations:",
        f"• {talks.conversations} conversations, {share} resolved without a person",
        f"• First response: agent {_duration(talks.first_response_bot.median_seconds)} (median), person"
        f" {_duration(talks.first_response_human.median_seconds)} after a hand-off",
        f"• Hand-offs: {sum(d.count for d in talks.handoffs_per_day)}",
    ]
    return lines


def send_report(ctx: AdsContext, report: Report, until: date) -> dict[str, Any]:
    from clawgate.channels.telegram_api import call
    from clawgate.core.blobs import blob_store

    key = blob_store().put(f"{ctx.slug}/reports/{report.kind}/{until.isoformat()}.png", report.chart, "image/png")
    caption = f"Spend, leads and cost per lead, last {report.chart_days} days"[:CAPTION_CHARS]
    sent: list[int] = []
    for token_ref, chat_id in report_targets(ctx):
        token = secrets.resolve(token_ref)
        call(token, "sendMessage", {"chat_id": chat_id, "text": report.text[:4096]})
        call(token, "sendPhoto", {"chat_id": chat_id, "caption": caption},
             files={"photo": (f"{report.kind}-{until.isoformat()}.png", report.chart, "image/png")})  # fmt: skip
        if report.conversations_chart:
            photo = (f"conversations-{until.isoformat()}.png", report.conversations_chart, "image/png")
            call(token, "sendPhoto", {"chat_id": chat_id, "caption": "Hand-offs per day, cost per lead by direction"},
                 files={"photo": photo})  # fmt: skip
        sent.append(chat_id)
    if not sent:
        logger.warning("report not sent: no report or operator chat", extra={"tenant": ctx.slug})
    return {"text": report.text, "chart_key": key, "chart_bytes": len(report.chart), "sent_to": sent}


def _run(slug: str, params: dict[str, Any], kind: str) -> dict[str, Any]:
    ctx = load_context(slug)
    until = date.fromisoformat(params["until"]) if params.get("until") else ctx.yesterday()
    return send_report(ctx, build_report(ctx, kind, until), until)


def run_morning(slug: str, params: dict[str, Any]) -> dict[str, Any]:
    return _run(slug, params, "morning")


def run_weekly(slug: str, params: dict[str, Any]) -> dict[str, Any]:
    return _run(slug, params, "weekly")
