"""The held changes aggregate (`budget_changes`): a budget change or a resume waiting for an operator's decision,
and what became of it (`applied`, `cancelled`, `expired`, `stale`). Budgets in the account currency's minor units;
the object is an ad set, a campaign or an ad (`adset_id` and `adset_name` name any of them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from psycopg.rows import class_row, scalar_row

from clawgate.db import Conn

ChangeKind = Literal["budget", "status"]
ObjectKind = Literal["campaign", "adset", "ad"]


@dataclass(frozen=True)
class HeldChange:
    """What a held change asks for: an object's daily budget from old to new, or its resume (`status`: new_budget
    is what it starts spending a day), and why it needs a decision."""

    kind: ChangeKind
    object_kind: ObjectKind
    object_id: str
    name: str | None
    old_budget: int
    new_budget: int
    needs: list[str]


@dataclass(frozen=True)
class PendingChange(HeldChange):
    id: int
    currency: str
    reason: str
    requested_by: str
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class ChangeToDecide(HeldChange):
    status: str
    requested_turn_id: int | None
    expired: bool


def insert(
    conn: Conn, change: HeldChange, currency: str, reason: str, requested_by: str, requested_turn_id: int | None
) -> int:
    """A new pending change; its id. A resume is stored with the status it sets (ACTIVE)."""
    change_id = (
        conn.cursor(row_factory=scalar_row)
        .execute(
            "INSERT INTO budget_changes (adset_id, adset_name, old_budget, new_budget, currency, needs, reason,"
            " requested_by, requested_turn_id, kind, object_kind, new_status)"
            " VALUES (%s, %s, %s, %s, %s, to_jsonb(%s::text[]), %s, %s, %s, %s, %s, %s) RETURNING id",
            (change.object_id, change.name, change.old_budget, change.new_budget, currency, change.needs, reason,
             requested_by, requested_turn_id, change.kind, change.object_kind,
             "ACTIVE" if change.kind == "status" else None),
        )
        .fetchone()
    )  # fmt: skip
    assert change_id is not None
    return int(change_id)


def pending(conn: Conn) -> list[PendingChange]:
    """The changes still waiting for a decision (not expired), oldest first."""
    return (
        conn.cursor(row_factory=class_row(PendingChange))
        .execute(
            "SELECT id, kind, object_kind, adset_id AS object_id, adset_name AS name, old_budget, new_budget,"
            " currency, needs, reason, requested_by, created_at, expires_at FROM budget_changes"
            " WHERE status = 'pending' AND expires_at > now() ORDER BY id"
        )
        .fetchall()
    )


def lock(conn: Conn, change_id: int) -> ChangeToDecide | None:
    """The change, locked until the transaction ends (two decisions on it wait for each other)."""
    return (
        conn.cursor(row_factory=class_row(ChangeToDecide))
        .execute(
            "SELECT kind, object_kind, adset_id AS object_id, adset_name AS name, old_budget, new_budget, needs,"
            " status, requested_turn_id, expires_at < now() AS expired FROM budget_changes WHERE id = %s FOR UPDATE",
            (change_id,),
        )
        .fetchone()
    )


def lock_status(conn: Conn, change_id: int) -> str | None:
    """The change's status, locked until the transaction ends; None when there is no such change."""
    status: str | None = (
        conn.cursor(row_factory=scalar_row)
        .execute("SELECT status FROM budget_changes WHERE id = %s FOR UPDATE", (change_id,))
        .fetchone()
    )
    return status


def decide(conn: Conn, change_id: int, status: str, decided_by: str, decided_turn_id: int | None) -> None:
    conn.execute(
        "UPDATE budget_changes SET status = %s, decided_turn_id = %s, decided_by = %s, decided_at = now()"
        " WHERE id = %s",
        (status, decided_turn_id, decided_by, change_id),
    )
