"""Changes held for an operator's decision: a budget change beyond the step limit or a cap, any change a scheduled
run asks for, and every resume (ACTIVE is spending). A held change is a `budget_changes` row, audited, and the
operators are told at once with Approve / Deny buttons (Telegram) — the same decision the control UI and the
`ads_confirm_budget_change` tool make (approvals.py applies it)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from clawgate.core import notify
from clawgate.db import Conn, tenant_tx
from clawgate.meta.marketing.audit import Actor, record
from clawgate.meta.marketing.context import AdsContext
from clawgate.meta.marketing.data import budget_changes
from clawgate.meta.marketing.data.budget_changes import HeldChange
from clawgate.meta.marketing.money import display, to_major

CALLBACK_PREFIX = "cg:change"  # Telegram callback data: cg:change:<id>:approve | cg:change:<id>:deny


def describe(change: HeldChange, currency: str) -> str:
    label = f"{change.object_kind.replace('adset', 'ad set')} {change.name or change.object_id}"
    new = display(to_major(change.new_budget, currency), currency)
    if change.kind == "status":
        return f"resume {label} (starts spending {new} a day)"
    return f"{label}: daily budget {display(to_major(change.old_budget, currency), currency)} → {new}"


def hold(ctx: AdsContext, actor: Actor, change: HeldChange, reason: str) -> str:
    """Record the change as pending, tell the operators with buttons; the text the tool answers with."""
    with tenant_tx(ctx.slug) as conn:
        change_id = budget_changes.insert(conn, change, ctx.currency, reason, actor.label, actor.turn_id)
        details: dict[str, Any] = {"change_id": change_id, "old_budget": change.old_budget, "needs": change.needs,
                                   "new_budget": change.new_budget, "currency": ctx.currency}  # fmt: skip
        record(conn, actor, f"{change.object_kind}.{change.kind}.requested", change.object_id, reason, details)
    what = describe(change, ctx.currency)
    buttons = [
        ("✅ Approve", f"{CALLBACK_PREFIX}:{change_id}:approve"),
        ("✖ Deny", f"{CALLBACK_PREFIX}:{change_id}:deny"),
    ]
    notify.notify_operator(ctx.slug, f"change {change_id} waits for you: {what}. Why: {reason}", buttons)
    return (
        f"needs confirmation: {'; '.join(change.needs)}. Pending change {change_id}: {what}. The operators got"
        f" Approve/Deny buttons; or, only after they explicitly confirm in a later message, call"
        f" ads_confirm_budget_change with change_id {change_id}."
    )


def pending_changes(slug: str) -> list[dict[str, Any]]:
    with tenant_tx(slug, "ro") as conn:
        changes = budget_changes.pending(conn)
    return [{**asdict(change), "text": describe(change, change.currency)} for change in changes]


def decide_row(conn: Conn, change_id: int, status: str, actor: Actor) -> None:
    budget_changes.decide(conn, change_id, status, actor.label, actor.turn_id)


def still_pending(conn: Conn, change_id: int) -> bool:
    """Whether the change still waits for a decision; it stays locked until the transaction ends."""
    return budget_changes.lock_status(conn, change_id) == "pending"
