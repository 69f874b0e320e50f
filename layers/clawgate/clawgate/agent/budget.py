"""The tenant's daily model budget. When it is spent: customer turns get a polite fixed reply and no model call,
operator turns are told why, scheduled turns do not run, and the operator is told once a day (`BudgetSpent`)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from clawgate.agent.data import turns
from clawgate.agent.data.turns import finish_turn
from clawgate.agent.data.usage import first_budget_notice
from clawgate.core import events
from clawgate.core.events import BudgetSpent
from clawgate.core.turns import TurnRef
from clawgate.db import Conn
from clawgate.observability import logger
from clawgate.tenancy.model import TenantFile

CUSTOMER_REPLY = "Thank you for your message! We will get back to you shortly."
OPERATOR_REPLY = (
    "Today's model budget (${budget:.2f}) is spent, so I cannot answer until tomorrow or until it is raised."
)


def gate(conn: Conn, tenant: TenantFile, ref: TurnRef, trigger: str, operator: bool, spent: Decimal) -> TurnRef:
    """`operator`: the turn is an operator's (the control UI, the API, an operator bot) and is told why. `spent`:
    today's spending, read in the turn's transaction (`usage.select_spent_today`, sent with the statement that opens
    the turn, so the check costs no round trip of its own)."""
    if spent < tenant.budget.daily_usd:
        return ref
    logger.info("daily budget spent", extra={"spent_usd": float(spent), "budget_usd": tenant.budget.daily_usd})
    _tell_operator_once(conn, tenant, float(spent))
    if trigger == "schedule":
        finish_turn(conn, ref.turn_id, "budget_exceeded", error="daily budget spent; scheduled turn skipped")
        return TurnRef(tenant=ref.tenant, turn_id=ref.turn_id, next="done")
    reply = OPERATOR_REPLY.format(budget=tenant.budget.daily_usd) if operator else CUSTOMER_REPLY
    turns.mark_budget_exceeded(conn, ref.turn_id, reply)
    return TurnRef(tenant=ref.tenant, turn_id=ref.turn_id, next="deliver")


def _tell_operator_once(conn: Conn, tenant: TenantFile, spent: float) -> None:
    today = datetime.now(ZoneInfo(tenant.timezone)).date().isoformat()
    if first_budget_notice(
        conn, today
    ):  # the notice goes out once this transaction commits (channels.operator subscribes)
        events.publish(conn, BudgetSpent(tenant.slug, tenant.name, spent, tenant.budget.daily_usd))
