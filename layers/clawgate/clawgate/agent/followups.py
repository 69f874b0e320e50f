"""Re-engaging a customer with a WhatsApp template: now (the `send_template` tool), or as a follow-up scheduled for
when they stay silent (`schedule_follow_up`), which the `inbox` job sends once it is due. A follow-up is cancelled
when the customer writes first, skipped when they opted out or the tenant's daily budget is spent (like every
scheduled turn). The same job gives `human` conversations back to the agent after `handoff.auto_resume_minutes`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from clawgate.agent.data import follow_ups
from clawgate.agent.data.follow_ups import DueFollowUp
from clawgate.agent.data.usage import spent_today
from clawgate.agent.delivery import Author
from clawgate.agent.outreach import OutreachRefusedError, check, send_template_once
from clawgate.conversations import live
from clawgate.conversations.data import conversations
from clawgate.conversations.data.conversations import Conversation
from clawgate.conversations.templates import Template, find
from clawgate.core.channels import DeliveryError
from clawgate.db import tenant_tx
from clawgate.observability import logger
from clawgate.tenancy.tenants import cached_tenant


class FollowUpError(Exception):
    pass


def _prepare(tenant: str, conversation_id: int, name: str, language: str,
             parameters: list[str]) -> tuple[Conversation, Template]:  # fmt: skip
    with tenant_tx(tenant, "ro") as conn:
        conversation = conversations.get(conn, conversation_id)
    if conversation is None:
        raise FollowUpError(f"no conversation {conversation_id}")
    if conversation.opted_out_at is not None:
        raise FollowUpError("the customer opted out: nothing but the confirmation goes to them")
    template = find(tenant, name, language)
    if template is None:
        raise FollowUpError(f"no approved template {name!r} in {language!r}")
    try:
        check(conversation, template, parameters)
    except OutreachRefusedError as error:
        raise FollowUpError(str(error)) from None
    return conversation, template


def send_now(tenant: str, conversation_id: int, name: str, language: str, parameters: list[str], key: str) -> int:
    conversation, template = _prepare(tenant, conversation_id, name, language, parameters)
    try:
        return send_template_once(tenant, conversation, template, parameters, key, Author("agent"))
    except DeliveryError as error:
        raise FollowUpError(f"WhatsApp refused the template: {error}") from None


def schedule(tenant: str, conversation_id: int, name: str, language: str, parameters: list[str],
             silent_minutes: int, created_by: str) -> tuple[int, datetime]:  # fmt: skip
    """Due `silent_minutes` after the customer's last message (or from now, if that is later)."""
    conversation, _ = _prepare(tenant, conversation_id, name, language, parameters)
    start = max(conversation.last_customer_at or datetime.now(UTC), datetime.now(UTC))
    due = start + timedelta(minutes=silent_minutes)
    with tenant_tx(tenant) as conn:
        follow_up_id = follow_ups.schedule(conn, conversation_id, name, language, parameters, silent_minutes, due,
                                           created_by)  # fmt: skip
    return follow_up_id, due


def run_inbox_job(tenant_slug: str, params: dict[str, Any]) -> dict[str, Any]:
    """The `inbox` job: auto-resume, then due follow-ups. Returns what it did."""
    resumed = _auto_resume(tenant_slug)
    outcomes: dict[str, int] = {}
    for outcome in _send_due(tenant_slug):
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return {"resumed": resumed, "follow_ups": outcomes}


def _auto_resume(tenant_slug: str) -> int:
    minutes = cached_tenant(tenant_slug).handoff.auto_resume_minutes
    if minutes is None:
        return 0
    resumed = 0
    with tenant_tx(tenant_slug) as conn:
        for conversation_id in conversations.due_for_resume(conn, minutes):
            if conversations.set_mode(
                conn, conversation_id, "bot", "timeout", f"no operator message for {minutes} minutes"
            ):
                live.updated(conn, tenant_slug, conversation_id)
                resumed += 1
    return resumed


def _send_due(tenant_slug: str) -> list[str]:
    tenant = cached_tenant(tenant_slug)
    with tenant_tx(tenant_slug) as conn:
        due = follow_ups.due(conn)
        over_budget = bool(due) and spent_today(conn, tenant.timezone) >= tenant.budget.daily_usd
    outcomes = []
    for follow_up in due:
        detail: str | None
        if follow_up.answered:
            outcome, detail = "cancelled", "the customer wrote before it was due"
        elif over_budget:
            outcome, detail = "skipped", "the daily budget is spent"
        else:
            outcome, detail = _send_one(tenant_slug, follow_up)
        with tenant_tx(tenant_slug) as conn:
            follow_ups.finish(conn, follow_up.id, outcome, detail)
        outcomes.append(outcome)
    return outcomes


def _send_one(tenant: str, follow_up: DueFollowUp) -> tuple[str, str | None]:
    follow_up_id, parameters = follow_up.id, list(follow_up.parameters)
    try:
        conversation, template = _prepare(tenant, follow_up.conversation_id, follow_up.template_name,
                                          follow_up.language, parameters)  # fmt: skip
        send_template_once(tenant, conversation, template, parameters, f"followup:{follow_up_id}", Author("system"))
    except (FollowUpError, OutreachRefusedError) as error:
        return ("skipped" if "opted out" in str(error) else "failed"), str(error)[:500]
    except DeliveryError as error:
        logger.warning("follow-up refused by WhatsApp", extra={"follow_up": follow_up_id})
        return "failed", str(error)[:500]
    return "sent", None
