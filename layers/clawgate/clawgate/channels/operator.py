"""Telling the tenant's operator something (a message outside the 24-hour window, a pairing request, a failure):
a Telegram message to the operator chats — the `allow_from` ids of the tenant's `operator: true` bots, and
`meta.operator_chat_id` — sent by the operator bot. Best effort: logged, never raises.

This is the default implementation of the `core.notify` port, and the subscriber that turns events meant for the
operator (`BudgetSpent`) into notices once their transaction has committed."""

from __future__ import annotations

from clawgate import secrets
from clawgate.core import events, notify
from clawgate.observability import logger
from clawgate.tenancy.model import TenantFile

PREFIX = "⚠️ Clawgate"


def operator_targets(tenant: TenantFile) -> list[tuple[str, int]]:
    """(bot token reference, chat id) pairs, each chat once."""
    bots = tenant.channels.telegram
    operators = [bot for bot in bots if bot.operator]
    targets = [(bot.bot_token, chat) for bot in operators for chat in bot.allow_from]
    chat_id = tenant.meta.operator_chat_id if tenant.meta else None
    senders = operators or bots
    if chat_id is not None and senders:
        targets.append((senders[0].bot_token, chat_id))
    unique: dict[int, str] = {}
    for token, chat in targets:
        unique.setdefault(chat, token)
    return [(token, chat) for chat, token in unique.items()]


def notify_operator(tenant_slug: str, text: str, buttons: notify.Buttons | None = None) -> bool:
    """True when at least one operator chat got the message; `buttons` become an inline keyboard (one row)."""
    from clawgate.channels.telegram_api import call
    from clawgate.tenancy.tenants import load_tenant

    try:
        tenant = load_tenant(tenant_slug)
        targets = operator_targets(tenant) if tenant else []
    except Exception:
        logger.exception("operator notification: tenant not readable", extra={"tenant": tenant_slug})
        return False
    if not targets:
        logger.warning("operator notification: no operator chat configured", extra={"tenant": tenant_slug})
        return False
    body = f"{PREFIX} ({tenant_slug}): {text}"[:4096]
    delivered = 0
    for token_ref, chat_id in targets:
        try:
            params: dict[str, object] = {"chat_id": chat_id, "text": body}
            if buttons:
                keyboard = [[{"text": label, "callback_data": data} for label, data in buttons]]
                params["reply_markup"] = {"inline_keyboard": keyboard}
            call(secrets.resolve(token_ref), "sendMessage", params)
            delivered += 1
        except Exception as error:
            logger.warning("operator notification failed", extra={"tenant": tenant_slug, "error": str(error)[:200]})
    logger.info("operator notified", extra={"tenant": tenant_slug, "chats": delivered, "of": len(targets)})
    return delivered > 0


@events.subscribe(events.BudgetSpent)
def budget_notice(event: events.BudgetSpent) -> None:
    text = f"{event.tenant_name}: today's model budget is spent (${event.spent_usd:.2f} of ${event.budget_usd:.2f});"
    notify.notify_operator(event.tenant, text + " customers get a fixed reply until tomorrow.")  # the port
