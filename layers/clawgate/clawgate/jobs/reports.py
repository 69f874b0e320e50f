"""Morning and weekly reports: text from the synced metrics and the latest scores, plus a PNG chart of spend, leads
and cost per lead, sent to the tenant's report chat (`report_chat_id`, else the operator chats) by the operator bot
with Telegram `sendMessage` and `sendPhoto`. The chart is also kept in the blob store."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from clawgate import secrets
from clawgate.db import tenant_tx
from clawgate.jobs.charts import report_chart
from clawgate.jobs.report_data import Totals, change, daily_series, latest_scores, totals
from clawgate.meta.marketing.context import AdsContext, load_context
from clawgate.meta.marketing.money import display, to_usd
from clawgate.observability import logger

CAPTION_CHARS = 1024


@dataclass(frozen=True)
class Report:
    kind: str
    text: str
    chart: bytes
    chart_days: int


def report_targets(ctx: AdsContext) -> list[tuple[str, int]]:
    """(bot token reference, chat id) pairs: the report chat if set, else the operator chats."""
    from clawgate.channels.operator import operator_targets

    if ctx.report_chat_id is None:
        return operator_targets(ctx.tenant)
    bots = ctx.tenant.channels.telegram
    senders = [bot for bot in bots if bot.operator] or bots
    return [(senders[0].bot_token, ctx.report_chat_id)] if senders else []


def _summary(ctx: AdsContext, conn: Any, label: str, now: Totals, before: Totals, until: date) -> list[str]:
    usd = to_usd(conn, now.spend, ctx.currency, until)
    usd_text = f" ≈ ${usd:,.2f}" if usd is not None and ctx.currency != "USD" else ""
    target = f" (target {display(ctx.target_cpl, ctx.currency)})" if ctx.target_cpl else ""
    return [
        f"{label}:",
        f"• Spend: {display(now.spend, ctx.currency)}{usd_text}{change(now.spend, before.spend)}",
        f"• Leads: {now.leads}{change(now.leads, before.leads)}",
        f"• Cost per lead: {display(now.cpl, ctx.currency)}{change(now.cpl, before.cpl)}{target}",
        f"• CTR: {now.ctr if now.ctr is not None else '–'}%, impressions {now.impressions:,}",
    ]


def _scores(conn: Any) -> list[str]:
    scores = latest_scores(conn)
    if not scores:
        return []
    worst = [f"{s['adset_id']} {s['score']:.0f} ({s['recommendation']})" for s in scores[:3]]
    best = [f"{s['adset_id']} {s['score']:.0f} ({s['recommendation']})" for s in scores[-3:][::-1]]
    return ["", f"Ad-set scores ({scores[0]['date']}): best {', '.join(best)}; needs attention {', '.join(worst)}"]


def build_report(ctx: AdsContext, kind: str, until: date) -> Report:
    window, chart_days = (1, 14) if kind == "morning" else (7, 28)
    since = until - timedelta(days=window - 1)
    previous_until = since - timedelta(days=1)
    with tenant_tx(ctx.slug, "ro") as conn:
        now = totals(conn, since, until)
        before = totals(conn, previous_until - timedelta(days=window - 1), previous_until)
        label = f"Yesterday, {until:%a %d %b}" if kind == "morning" else f"Week {since:%d %b} – {until:%d %b}"
        lines = [f"📊 {ctx.tenant.name}: {kind} report", "", *_summary(ctx, conn, label, now, before, until)]
        lines += _scores(conn)
        series = daily_series(conn, until - timedelta(days=chart_days - 1), until)
    title = f"{ctx.tenant.name[:40]} - {chart_days} days to {until.isoformat()}"
    target = float(ctx.target_cpl) if ctx.target_cpl else None
    return Report(kind, "\n".join(lines), report_chart(title, series, ctx.currency, target), chart_days)


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
