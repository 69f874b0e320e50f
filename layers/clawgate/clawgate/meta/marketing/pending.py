"""Changes held for an operator's decision: a budget change beyond the step limit or a cap, any change a scheduled
run asks for, and every resume (ACTIVE is spending). A held change is a `budget_changes` row, audited, and the
operators are told at once with Approve / Deny buttons (Telegram) — the same decision the control UI and the
`ads_confirm_budget_change` tool make (approvals.py applies it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from clawgate.core import notify
from clawgate.db import tenant_tx
from clawgate.meta.marketing.audit import Actor, record
from clawgate.meta.marketing.context import AdsContext
from clawgate.meta.marketing.money import Conn, display, to_major

ChangeKind = Literal["budget", "status"]
ObjectKind = Literal["campaign", "adset", "ad"]
CALLBACK_PREFIX = "cg:change"  # Telegram callback data: cg:change:<id>:approve | cg:change:<id>:deny


@dataclass(frozen=True)
class Held:
    kind: ChangeKind
    object_kind: ObjectKind
    object_id: str
    name: str | None
    old_budget: int
    new_budget: int
    needs: list[str]

    def describe(self, currency: str) -> str:
        label = f"{self.object_kind.replace('adset', 'ad set')} {self.name or self.object_id}"
        new = display(to_major(self.new_budget, currency), currency)
        if self.kind == "status":
            return f"resume {label} (starts spending {new} a day)"
        return f"{label}: daily budget {display(to_major(self.old_budget, currency), currency)} → {new}"


def hold(ctx: AdsContext, actor: Actor, change: Held, reason: str) -> str:
    """Record the change as pending, tell the operators with buttons; the text the tool answers with."""
    with tenant_tx(ctx.slug) as conn:
        row = conn.execute(
            "INSERT INTO budget_changes (adset_id, adset_name, old_budget, new_budget, currency, needs, reason,"
            " requested_by, requested_turn_id, kind, object_kind, new_status)"
            " VALUES (%s, %s, %s, %s, %s, to_jsonb(%s::text[]), %s, %s, %s, %s, %s, %s) RETURNING id",
            (change.object_id, change.name, change.old_budget, change.new_budget, ctx.currency, change.needs, reason,
             actor.label, actor.turn_id, change.kind, change.object_kind,
             "ACTIVE" if change.kind == "status" else None),
        ).fetchone()  # fmt: skip
        assert row is not None
        change_id = int(row[0])
        details: dict[str, Any] = {"change_id": change_id, "old_budget": change.old_budget, "needs": change.needs,
                                   "new_budget": change.new_budget, "currency": ctx.currency}  # fmt: skip
        record(conn, actor, f"{change.object_kind}.{change.kind}.requested", change.object_id, reason, details)
    what = change.describe(ctx.currency)
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
        rows = conn.execute(
            "SELECT id, kind, object_kind, adset_id, adset_name, old_budget, new_budget, currency, needs, reason,"
            " requested_by, created_at, expires_at FROM budget_changes WHERE status = 'pending' AND expires_at > now()"
            " ORDER BY id"
        ).fetchall()
    keys = ("id", "kind", "object_kind", "object_id", "name", "old_budget", "new_budget", "currency", "needs", "reason",
            "requested_by", "created_at", "expires_at")  # fmt: skip
    items = [dict(zip(keys, row, strict=True)) for row in rows]
    for item in items:
        held = Held(item["kind"], item["object_kind"], item["object_id"], item["name"], item["old_budget"],
                    item["new_budget"], item["needs"])  # fmt: skip
        item["text"] = held.describe(item["currency"])
    return items


def decide_row(conn: Conn, change_id: int, status: str, actor: Actor) -> None:
    conn.execute(
        "UPDATE budget_changes SET status = %s, decided_turn_id = %s, decided_by = %s, decided_at = now()"
        " WHERE id = %s",
        (status, actor.turn_id, actor.label, change_id),
    )


def still_pending(conn: Conn, change_id: int) -> bool:
    row = conn.execute("SELECT status FROM budget_changes WHERE id = %s FOR UPDATE", (change_id,)).fetchone()
    return row is not None and row[0] == "pending"
