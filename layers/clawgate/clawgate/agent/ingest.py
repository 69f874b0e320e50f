"""Ingest, the first state of a turn: resolve tenant and agent, store every inbound event exactly once, apply the
channel's hooks and the DM policy, check the budget, and start one turn per conversation (a burst of messages is
one turn). Input: the SQS records an EventBridge Pipe delivers, or a request from the run API, a replay, a schedule.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from clawgate.agent import budget, handover
from clawgate.agent.data import inbound, turns, usage
from clawgate.agent.data.sessions import append
from clawgate.agent.data.turns import NewTurn
from clawgate.agent.dm_policy import Admission, admit
from clawgate.agent.routing import resolve_agent
from clawgate.agent.statuses import apply_status
from clawgate.agent.tools import channel_profile
from clawgate.agent.transcription import transcribe
from clawgate.core import actions, events
from clawgate.core.blobs import read_tenant_blob
from clawgate.core.channels import Envelope, InboundMessage, MediaError, get_adapter
from clawgate.core.events import InboundStored
from clawgate.core.placeholders import media_text
from clawgate.core.turns import TurnRef
from clawgate.db import registry_tx, tenant_tx
from clawgate.observability import bind, logger
from clawgate.tenancy.data import registry
from clawgate.tenancy.data.registry import ChannelAccount, account_config
from clawgate.tenancy.tenants import cached_tenant


class RunRequest(BaseModel):
    """A turn asked for directly: the run API, the control UI, `clawgate agent`, a schedule."""

    source: Literal["api", "webchat", "schedule"]
    tenant: str
    agent: str
    text: str
    peer: str = "api"
    request_id: str
    sender_name: str | None = None
    context: dict[str, Any] = {}


class ReplayRequest(BaseModel):
    source: Literal["replay"]
    tenant: str
    turn_id: int


IngestInput = list[str] | RunRequest | ReplayRequest  # queue message bodies (envelopes), or a turn asked for


def ingest(request: IngestInput) -> dict[str, list[dict[str, Any]]]:
    """The state's output: the turns to run (`clawgate.edge.pipes.ingest_input` makes `request` from the event)."""
    if isinstance(request, list):
        refs = ingest_bodies(request)
    elif isinstance(request, ReplayRequest):
        refs = [replay(request)]
    else:
        refs = [r for r in [ingest_request(request)] if r]
    return {"turns": [ref.model_dump() for ref in refs]}


def ingest_bodies(bodies: list[str]) -> list[TurnRef]:
    by_account: dict[tuple[str, str], list[InboundMessage]] = defaultdict(list)
    for body in bodies:
        for message in _parse_record(body):
            by_account[(message.channel, message.account_id)].append(message)
    refs = []
    for (channel, account_id), messages in by_account.items():
        with registry_tx() as conn:
            account = registry.find_channel_account(conn, channel, account_id)
        if account is None:
            _keep_unrouted(channel, account_id, "no tenant owns this account", [m.raw for m in messages])
            continue
        refs += _ingest_account(account, messages)
    return refs


# PostgreSQL's text and jsonb hold no NUL character: a hostile update carrying one (raw, or escaped in its JSON) would
# fail every insert and end in the dead letter. It becomes U+FFFD, the replacement character, before anything else.
_ESCAPED_NUL = re.compile(r"(?<!\\)((?:\\\\)*)\\u0000")


def _without_nul(body: str) -> str:
    return _ESCAPED_NUL.sub(r"\1\\ufffd", body.replace("\x00", "\ufffd"))


def _parse_record(body: str) -> list[InboundMessage]:
    body = _without_nul(body)
    try:
        envelope = Envelope.model_validate_json(body)
    except ValidationError:
        _keep_unrouted("unknown", None, "not an envelope", body)
        return []
    if envelope.kind == "malformed":
        _keep_unrouted(envelope.channel, envelope.account_id, "malformed provider body", envelope.raw or "")
        return []
    try:
        return get_adapter(envelope.channel).parse(envelope)
    except Exception:
        logger.exception("channel parse failed; kept raw", extra={"channel": envelope.channel})
        _keep_unrouted(envelope.channel, envelope.account_id, "parse failed", body)
        return []


def _keep_unrouted(channel: str, account_id: str | None, reason: str, payload: object) -> None:
    logger.warning("inbound update kept unrouted", extra={"channel": channel, "reason": reason})
    text = payload if isinstance(payload, str) else json.dumps(payload, default=str)
    with registry_tx() as conn:
        registry.keep_unrouted(conn, channel, account_id, reason, text)


def _ingest_account(account: ChannelAccount, messages: list[InboundMessage]) -> list[TurnRef]:
    bind(tenant=account.tenant)
    tenant = cached_tenant(account.tenant)
    per_peer: dict[str, list[InboundMessage]] = defaultdict(list)
    routes: dict[str, list[handover.Routed]] = defaultdict(list)
    unfinished: dict[int, TurnRef] = {}
    with tenant_tx(account.tenant) as conn:
        for message in messages:
            stored = inbound.store(conn, message)
            if stored.unfinished_turn is not None:
                unfinished[stored.unfinished_turn] = _redrive(account.tenant, stored)
            if stored.state == "done":
                continue  # a provider retry of something already answered (or stored only)
            if message.kind == "status" and message.status == "system":  # about the user (a changed WhatsApp id)
                events.publish(conn, events.ChannelNotice(account.tenant, account.account_id, message))
            elif message.kind == "status":
                apply_status(conn, account.tenant, message)
            elif message.kind not in inbound.STORE_ONLY_KINDS:
                if stored.state == "new":  # a redelivery after a failed turn start was reported already
                    events.publish(conn, InboundStored(account.tenant, account.config, message))
                    routes[message.peer_id].append(handover.route_inbound(conn, tenant, message))
                per_peer[message.peer_id].append(message)
            elif message.referral and stored.state == "new":  # an ad opened a thread, nothing written: attribute only
                events.publish(conn, InboundStored(account.tenant, account.config, message))
    routed = {r.message.provider_id for peer in routes.values() for r in peer}
    _store_media(account, [m for fresh in per_peer.values() for m in fresh if m.media], routed)
    answered = [ref for peer_id, fresh in per_peer.items() if (ref := _answer(account, fresh, routes.get(peer_id)))]
    return [*unfinished.values(), *answered]


def _redrive(tenant: str, stored: inbound.StoredEvent) -> TurnRef:
    """A message redelivered while the turn it is part of never finished: that turn again, from where it stopped.
    The queue redelivers a message only after the execution that received it ended without deleting it (locally:
    the runtime was killed; in AWS, behind the EventBridge Pipe: the execution failed or timed out without the
    turn reaching Fail), and its FIFO group holds every later message back, so nothing else runs this turn. A
    persisted reply goes to Deliver, which sends only the chunks not sent before; otherwise CallModel runs again
    (tool calls already made are claimed once). A turn that Fail marked `failed` is finished: the replay API runs it
    again, not a redelivery."""
    assert stored.unfinished_turn is not None
    logger.warning("re-driving an unfinished turn", extra={"turn": stored.unfinished_turn})
    return TurnRef(tenant=tenant, turn_id=stored.unfinished_turn, next="deliver" if stored.reply_ready else "model")


def _answer(
    account: ChannelAccount, fresh: list[InboundMessage], routes: list[handover.Routed] | None
) -> TurnRef | None:
    """A peer's new messages: a turn, a fixed notice (DM policy, opt-out confirmation), a button's handler, or held
    for a person."""
    admitted, refused = _admit_each(account, fresh)
    if not admitted:
        message, notice = refused[-1] if refused else (None, None)
        return _notice_turn(account, [message], notice) if message and notice else None
    action = routes[-1].action if routes else "turn"
    if action == "opt_out":
        return _notice_turn(account, admitted, cached_tenant(account.tenant).opt_out.confirmation)
    handler = _button_handler(account, admitted[-1])
    if handler is not None:
        return _button_turn(account, admitted, handler)
    wanted = [m for m in admitted if not m.is_group or m.mentioned]
    if action == "hold" and routes:
        handover.hold(cached_tenant(account.tenant), routes, _user_content(wanted or admitted))
        return None
    return _start_turn(account, admitted[-1].peer_id, wanted) if wanted else None


def _admit_each(
    account: ChannelAccount, messages: list[InboundMessage]
) -> tuple[list[InboundMessage], list[tuple[InboundMessage, str]]]:
    """The DM policy decided for every message of a batch by its own sender (a group's batch mixes senders): the
    admitted messages, and the refused ones that have a notice to send back (a pairing code)."""
    admitted: list[InboundMessage] = []
    refused: list[tuple[InboundMessage, str]] = []
    decided: dict[tuple[str | None, str | None, bool], Admission] = {}
    for message in messages:
        who = (message.sender_id, message.wa_id, message.is_group)
        admission = decided.get(who) or decided.setdefault(who, admit(account.tenant, account, message))
        if admission.allowed:
            admitted.append(message)
        elif admission.notice:
            refused.append((message, admission.notice))
    return admitted, refused


def _store_media(account: ChannelAccount, messages: list[InboundMessage], routed: set[str]) -> None:
    """Inbound media into the blob store before the provider's short-lived URL expires (WhatsApp: 5 minutes); each
    stored event gets the blob keys, and a voice note its transcript where the tenant configured transcription.
    Best effort: without them the model reads a placeholder naming the media. A message routed in this batch
    reaches the operators' inbox now, with its keys (`handover.media_stored`)."""
    for message in messages:
        adapter = get_adapter(message.channel)
        fetched = []
        for media in message.media:
            try:
                fetched.append(adapter.fetch_media(account_config(account), media, tenant=account.tenant))
            except MediaError as error:
                logger.warning("inbound media not stored", extra={"channel": message.channel, "error": str(error)})
                fetched.append(media)
        message.media = fetched
        _transcribe_voice(account.tenant, message)
        with tenant_tx(account.tenant) as conn:
            stored = [m.model_dump(mode="json") for m in fetched]
            placed = inbound.add_to_payload(conn, message, {"media": stored, "text": message.text})
            if placed and message.provider_id in routed:
                handover.media_stored(conn, account.tenant, message, *placed)


def _transcribe_voice(tenant_slug: str, message: InboundMessage) -> None:
    config = cached_tenant(tenant_slug).transcription
    voice = next((m for m in message.media if m.kind in ("voice", "audio") and m.blob_key), None)
    if config is None or voice is None or voice.blob_key is None:
        return
    transcript = transcribe(config, read_tenant_blob(tenant_slug, voice.blob_key), voice.mime_type)
    if transcript:
        message.text = media_text(voice.kind, mime_type=voice.mime_type, filename=voice.filename, transcript=transcript)


def _user_content(messages: list[InboundMessage]) -> list[dict[str, Any]]:
    def label(m: InboundMessage) -> str:
        return f"[{m.sender_name or m.sender_id}] " if m.is_group else ""

    return [{"type": "text", "text": label(m) + (m.text or "(empty message)")} for m in messages]


def _start_turn(account: ChannelAccount, peer_id: str, messages: list[InboundMessage]) -> TurnRef:
    tenant = cached_tenant(account.tenant)
    last = messages[-1]
    config = _sender_config(account, last)
    context = {"sender_name": last.sender_name, "is_group": last.is_group, "reply_to": last.provider_id,
               "account_config": config}  # fmt: skip
    context |= last.turn_context  # what the channel's adapter reads back when it answers
    with tenant_tx(account.tenant, pipeline=True) as conn:
        spent_query = usage.select_spent_today(conn, tenant.timezone)  # read with the turn's statement
        agent_id = last.agent_id or resolve_agent(conn, tenant, last.channel, account.account_id, peer_id)
        new = NewTurn(agent_id, last.channel, account.account_id, peer_id, "inbound", context)
        opened = turns.open_turn(conn, tenant.slug, new)
        assert opened is not None
        append(conn, opened.session_id, opened.ref.turn_id, "user", _user_content(messages))
        inbound.attach_to_turn(conn, opened.ref.turn_id, last.conversation_key)
        operator = channel_profile(last.channel, config) == "operator"
        ref = budget.gate(conn, tenant, opened.ref, "inbound", operator, usage.spent_of(spent_query))
    _show_activity(account, last)
    return ref


def _button_handler(account: ChannelAccount, message: InboundMessage) -> actions.Handler | None:
    """An operator's button press that a domain answers in code (core.actions), or None."""
    if message.kind != "callback" or channel_profile(message.channel, account.config) != "operator":
        return None
    return actions.handler_for(message.text or "")


def _button_turn(account: ChannelAccount, messages: list[InboundMessage], handler: actions.Handler) -> TurnRef:
    """The handler's answer as a turn with no model; the press is marked processed, so a retry changes nothing."""
    last = messages[-1]
    _show_activity(account, last)  # stops the button's spinner
    try:
        reply = handler(account.tenant, last.peer_id, last.text or "")
    except Exception:
        logger.exception("button handler failed", extra={"tenant": account.tenant})
        reply = "That did not work; nothing was changed. Try again or ask in a message."
    ref = _notice_turn(account, messages, reply)
    with tenant_tx(account.tenant) as conn:
        inbound.attach_events(conn, ref.turn_id, last.channel, [m.provider_id for m in messages])
    return ref


def _sender_config(account: ChannelAccount, message: InboundMessage) -> dict[str, Any]:
    """The account's config as this turn sees it. Where the adapter decides the profile per sender
    (`sender_profile`: Slack members vs guests, Discord's operator allowlist), its decision is the turn's
    `operator`; anywhere else the account's config stands as it is."""
    decide = getattr(get_adapter(message.channel), "sender_profile", None)
    if decide is None:
        return account.config
    return {**account.config, "operator": decide(account_config(account), message) == "operator"}


def _notice_turn(account: ChannelAccount, messages: list[InboundMessage], notice: str) -> TurnRef:
    """A turn with a fixed reply and no model (a pairing code, a policy notice)."""
    last = messages[-1]
    tenant = cached_tenant(account.tenant)
    with tenant_tx(account.tenant) as conn:
        agent_id = resolve_agent(conn, tenant, last.channel, account.account_id, last.peer_id)
        new = NewTurn(
            agent_id, last.channel, account.account_id, last.peer_id, "policy", {"account_config": account.config}
        )
        opened = turns.open_turn(conn, tenant.slug, new)
        assert opened is not None
        turns.set_reply(conn, opened.ref.turn_id, notice)
    return TurnRef(tenant=tenant.slug, turn_id=opened.ref.turn_id, next="deliver")


def _show_activity(account: ChannelAccount, message: InboundMessage) -> None:
    try:
        get_adapter(message.channel).show_activity(account_config(account), message)
    except Exception:  # best effort: a missing typing indicator must not fail the turn
        logger.warning("show_activity failed", exc_info=True)


def ingest_request(request: RunRequest) -> TurnRef | None:
    tenant = cached_tenant(request.tenant)
    tenant.agent(request.agent)  # raises StopIteration → unknown agent, checked by the caller first
    with tenant_tx(tenant.slug, pipeline=True) as conn:
        spent_query = usage.select_spent_today(conn, tenant.timezone)  # read with the turn's statement
        context = {"sender_name": request.sender_name, **request.context}
        new = NewTurn(request.agent, request.source, None, request.peer, request.source, context, request.request_id)
        opened = turns.open_turn(conn, tenant.slug, new)
        if opened is None:
            return None  # the same request again: its turn exists, nothing new to run
        append(conn, opened.session_id, opened.ref.turn_id, "user", [{"type": "text", "text": request.text}])
        operator = request.source != "schedule"
        return budget.gate(conn, tenant, opened.ref, request.source, operator, usage.spent_of(spent_query))


def replay(request: ReplayRequest) -> TurnRef:
    """A failed turn re-driven: a new turn on the same session; the user's message is already in the transcript."""
    with tenant_tx(request.tenant) as conn:
        opened = turns.open_turn(conn, request.tenant, turns.replay_source(conn, request.turn_id))
        assert opened is not None
        return opened.ref
