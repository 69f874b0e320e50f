"""The heartbeat (opt-in: `ads.heartbeat: true`): a scheduled turn of the ads agent, only when something changed
since the last one, and never past the daily model budget. "Changed" compares a fingerprint of the tenant's data —
newest lead, last metrics sync, last scoring run, concluded creative tests, pending budget changes, last failed
job — with the one stored at the last heartbeat (config `heartbeat_state`). Unchanged, or budget spent: skipped,
no model call. The agent's reply goes to the report chat unless it is exactly HEARTBEAT_OK."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from clawgate import secrets
from clawgate.db import tenant_tx
from clawgate.jobs import JobSkipped
from clawgate.jobs.data import heartbeats
from clawgate.jobs.turns import budget_left, scheduled_turn
from clawgate.tenancy.tenants import cached_tenant

QUIET_REPLY = "HEARTBEAT_OK"
PROMPT = (
    "Heartbeat. Since the last check: {changes}. Look at what matters now (skills fb-dashboard and fb-optimize help)"
    " and tell the operator in a few lines what needs their attention. Propose, do not apply, budget changes. If"
    " nothing needs attention, answer exactly " + QUIET_REPLY + "."
)


def describe(before: dict[str, Any], now: dict[str, Any]) -> str:
    if not before:
        return "this is the first heartbeat"
    changes = []
    if now["newest_lead"] != before.get("newest_lead"):
        changes.append("new leads arrived")
    labels = {"metrics_synced_at": "ad metrics were synced", "scoring_run": "ad sets were scored",
              "concluded_tests": "a creative test concluded", "failed_job": "a scheduled job failed",
              "pending_budget_changes": "the pending budget changes are different"}  # fmt: skip
    changes += [label for key, label in labels.items() if now[key] != before.get(key)]
    return "; ".join(changes)


def _targets(slug: str) -> list[tuple[str, int]]:
    from clawgate.channels.operator import operator_targets
    from clawgate.jobs.reports import report_targets
    from clawgate.meta.marketing.context import AdsNotConfigured, load_context

    try:
        return report_targets(load_context(slug))
    except AdsNotConfigured:
        return operator_targets(cached_tenant(slug))


def run(slug: str, params: dict[str, Any]) -> dict[str, Any]:
    from clawgate.channels.telegram_api import call

    tenant = cached_tenant(slug)
    if not tenant.ads.heartbeat:
        raise JobSkipped("the heartbeat is off (ads.heartbeat)")
    with tenant_tx(slug, "ro") as conn:
        now, before = heartbeats.fingerprint(conn), heartbeats.last_state(conn)
    now = json.loads(json.dumps(now, default=str))  # as stored
    if now == before:
        raise JobSkipped("nothing changed since the last heartbeat")
    if not budget_left(slug):
        raise JobSkipped("the daily model budget is spent")
    digest = hashlib.sha256(json.dumps(now, sort_keys=True, default=str).encode()).hexdigest()[:16]
    agent = tenant.ads_agent
    prompt = PROMPT.format(changes=describe(before, now))
    outcome = scheduled_turn(slug, agent, "heartbeat", prompt, f"heartbeat:{digest}")
    with tenant_tx(slug) as conn:
        heartbeats.remember(conn, now)
    reply = (outcome.reply or "").strip()
    sent = []
    if outcome.status == "succeeded" and reply and reply != QUIET_REPLY:
        for token_ref, chat_id in _targets(slug):
            call(secrets.resolve(token_ref), "sendMessage", {"chat_id": chat_id, "text": reply[:4096]})
            sent.append(chat_id)
    return {"turn_id": outcome.turn_id, "status": outcome.status, "sent_to": sent}
