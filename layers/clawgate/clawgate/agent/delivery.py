"""Deliver: send the turn's reply on its channel exactly once (an outbound row per chunk, keyed by turn), and
finish the turn. A provider refusal that retrying cannot fix is recorded and surfaced to the operator; a
retryable one is raised as `DeliveryRetryable` for the state machine's Retry."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from clawgate.agent.data import outbound
from clawgate.agent.data.turns import finish_turn, load_turn
from clawgate.conversations import live
from clawgate.conversations.data import conversations
from clawgate.core import events
from clawgate.core.channels import DeliveryError, get_adapter
from clawgate.core.notify import notify_operator
from clawgate.core.turns import StepInput, Turn
from clawgate.db import registry_tx, tenant_tx
from clawgate.observability import bind, count, logger
from clawgate.tenancy.data import registry
from clawgate.tenancy.data.registry import account_config

SILENT_CHANNELS = frozenset({"api", "schedule"})  # the caller reads the reply from the turn


class DeliveryRetryable(Exception):
    pass


@dataclass(frozen=True)
class Author:
    """Who a sent message is from: the agent, an operator (by name), or the system (a notice, a template job)."""

    kind: Literal["agent", "operator", "system"]
    name: str | None = None

    def item(self, outbound_id: int, text: str) -> dict[str, Any]:
        """The message as the inbox shows it (`conversation.message`)."""
        return {"id": f"out:{outbound_id}", "direction": "out", "author": self.kind, "author_name": self.name,
                "text": text, "at": datetime.now(UTC).isoformat(), "status": "sent"}  # fmt: skip


def deliver(step: StepInput) -> dict[str, Any]:
    bind(tenant=step.tenant, turn=step.turn_id)
    with tenant_tx(step.tenant, pipeline=True) as conn:
        turn = load_turn(conn, step.turn_id)
        final = "budget_exceeded" if turn.status == "budget_exceeded" else "succeeded"
        if turn.status not in ("running", "budget_exceeded"):
            return {"delivered": 0}  # finished already: a redelivered step
        if turn.channel in SILENT_CHANNELS or not turn.reply_text:
            finish_turn(conn, turn.id, final)
            return {"delivered": 0}
    delivered = 0
    try:
        delivered = send_reply(step.tenant, turn, turn.reply_text, key=f"turn:{turn.id}")
    except DeliveryError as error:
        if error.retryable:
            raise DeliveryRetryable(str(error)) from error
        _record_refusal(step.tenant, turn, error)
        final = "failed"
    with tenant_tx(step.tenant) as conn:
        finish_turn(conn, turn.id, final, error=None if final != "failed" else "delivery refused by the channel")
    return {"delivered": delivered}


def send_reply(tenant: str, turn: Turn, text: str, key: str) -> int:
    if turn.channel in SILENT_CHANNELS:
        return 0
    reply_to = turn.context.get("reply_to") if turn.context.get("is_group") else None  # quote only in groups
    return send_to_peer(tenant, turn.channel, turn.account_id, turn.peer_id, text, key, turn, reply_to)


def send_to_peer(
    tenant: str, channel: str, account_id: str | None, peer_id: str, text: str, key: str,
    turn: Turn | None = None, reply_to: str | None = None, author: Author = Author("agent"),
) -> int:  # fmt: skip
    """Send `text` once per `key`, chunk by chunk: each chunk is recorded as it goes out, with its author and in
    its conversation (`ReplySent` and `conversation.message` published in that transaction), so a retried or
    replayed Deliver sends only the chunks not gone out yet."""
    adapter = get_adapter(channel)
    pieces = adapter.chunk(text)
    with tenant_tx(tenant) as conn:
        done = outbound.sent_chunks(conn, key, len(pieces))
    account = account_for(tenant, channel, account_id)
    sent = 0
    for index, piece in enumerate(pieces):
        if index in done:
            continue
        for message in adapter.send_text(account, peer_id, piece, reply_to if index == 0 else None, turn=turn):
            turn_id = turn.id if turn else None
            with tenant_tx(tenant) as conn:
                chunk = message.model_copy(update={"chunk_index": index})
                recorded = outbound.record_sent(conn, turn_id, channel, account_id, peer_id, key, chunk, author.kind,
                                                author.name)  # fmt: skip
                events.publish(conn, events.ReplySent(tenant, channel, account_id, peer_id, turn_id, index))
                if recorded and recorded[1] is not None:
                    conversations.record_outbound(conn, recorded[1], author.kind)
                    live.message(conn, tenant, recorded[1], author.item(recorded[0], chunk.text))
            sent += 1
    count("OutboundMessages", sent)
    if done:
        logger.info("reply partly or wholly sent before", extra={"key": key, "skipped_chunks": sorted(done)})
    return sent


def account_for(tenant: str, channel: str, account_id: str | None) -> dict[str, Any]:
    """The channel account's config as the adapter takes it, checked to be this tenant's."""
    with registry_tx() as conn:
        account = registry.find_channel_account(conn, channel, account_id or "")
    if account is None or account.tenant != tenant:
        raise DeliveryError(f"no {channel} account {account_id} for tenant {tenant}", retryable=False)
    return account_config(account)


def _record_refusal(tenant: str, turn: Turn, error: DeliveryError) -> None:
    with tenant_tx(tenant) as conn:
        outbound.record_refusal(
            conn, turn.id, turn.channel, turn.account_id, turn.peer_id, turn.reply_text, error.code, str(error)
        )
    notify_operator(tenant, f"Could not deliver a reply to {turn.channel} {turn.peer_id}: {error}")
