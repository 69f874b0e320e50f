"""The Slack adapter (Events API over HTTP, one Slack app per tenant).

A mention of the app in a channel (`app_mention`) or a direct message starts a turn; the answer goes to the same
thread through `chat.postMessage`, in Slack's mrkdwn converted from the model's Markdown, split past MAX_TEXT.
Messages from bots (ours included) and edits, deletions and other subtypes are stored and never answered; a plain
channel message that does not mention the app is stored only (its mention arrives as its own `app_mention`).

Who is writing decides the tools (`sender_profile`): a member of the tenant's own workspace gets the operator
profile (the workspace is the agency's), or only those in the account's `allow_from` when it is set; guests,
Slack Connect users from other workspaces and anyone Slack cannot vouch for get the customer profile.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from clawgate import secrets
from clawgate.channels.slack_api import SlackApiError, call
from clawgate.channels.slack_webhook import conversation
from clawgate.channels.text import chunk_text
from clawgate.core.channels import (
    ChannelName,
    Envelope,
    InboundKind,
    InboundMessage,
    MediaError,
    MediaRef,
    SentMessage,
)
from clawgate.observability import logger
from clawgate.tenancy.channel_accounts import SlackAccount

if TYPE_CHECKING:
    from clawgate.core.channels import TextSink
    from clawgate.core.tools import Profile
    from clawgate.core.turns import Turn

MAX_TEXT = 3000  # Slack truncates a message past 40,000 characters and advises staying under 4,000
ANSWERED_SUBTYPES = frozenset({"file_share", "thread_broadcast"})  # a person's message all the same
_LEADING_MENTION = re.compile(r"^\s*<@[UW][A-Z0-9]+>[\s,:]*")


def message_kind(event: dict[str, Any]) -> InboundKind:
    """message (answered), edited, or event (stored only): bots, our own echoes, joins, deletions…"""
    subtype = event.get("subtype")
    if event.get("bot_id") or subtype == "bot_message" or event.get("type") not in ("app_mention", "message"):
        return "event"
    if subtype == "message_changed":
        return "edited"
    if subtype and subtype not in ANSWERED_SUBTYPES:
        return "event"
    return "message" if event.get("user") else "event"


def parse_envelope(envelope: Envelope) -> list[InboundMessage]:
    payload = envelope.update
    event = payload.get("event") if isinstance(payload.get("event"), dict) else {}
    assert isinstance(event, dict)
    peer = conversation(event)
    direct = event.get("channel_type") == "im" or str(event.get("channel", "")).startswith("D")
    user = str(event.get("user") or "")
    ts = event.get("ts")
    return [
        InboundMessage(
            channel="slack",
            kind=message_kind(event),
            account_id=envelope.account_id,
            provider_id=envelope.provider_id,
            peer_id=peer,
            conversation_key=f"slack:{envelope.account_id}:{peer}",
            sender_id=user or None,
            sender_identity={"team": str(event.get("user_team") or event.get("team") or payload.get("team_id") or "")},
            text=_LEADING_MENTION.sub("", str(event.get("text") or "")).strip(),
            is_group=not direct,
            mentioned=direct or event.get("type") == "app_mention",
            sent_at=datetime.fromtimestamp(float(str(ts)), UTC) if _is_number(ts) else None,
            raw=payload,
        )
    ]


def _is_number(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


# Markdown → mrkdwn. Slack reads &, < and > as control characters (`<!channel>` notifies everyone): whatever the
# model wrote is escaped first, so only the links the converter makes are links. A `>` opening a line stays a quote.
_QUOTE = re.compile(r"^&gt;(?= )", re.MULTILINE)


def mrkdwn(text: str) -> str:
    from markdown_to_mrkdwn import SlackMarkdownConverter

    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return str(SlackMarkdownConverter().convert(_QUOTE.sub(">", escaped)))


def _target(peer_id: str) -> tuple[str, str | None]:
    channel, _, thread = peer_id.partition(":")
    return channel, thread or None


class SlackChannel:
    name: ChannelName = "slack"
    max_text: int = MAX_TEXT
    account_model = SlackAccount  # `channels.slack` of the tenant file

    def parse(self, envelope: Envelope) -> list[InboundMessage]:
        return parse_envelope(envelope)

    def chunk(self, text: str) -> list[str]:
        return chunk_text(text, self.max_text)

    def send_text(
        self, account: dict[str, Any], peer_id: str, text: str, reply_to: str | None = None, *, turn: Turn | None = None
    ) -> list[SentMessage]:
        token = secrets.resolve(str(account["bot_token"]))
        channel, thread = _target(peer_id)
        sent = []
        for index, piece in enumerate(self.chunk(text)):
            params: dict[str, Any] = {"channel": channel, "text": mrkdwn(piece), "mrkdwn": True, "unfurl_links": False}
            if thread:
                params["thread_ts"] = thread
            try:
                answer = call(token, "chat.postMessage", params)
            except SlackApiError as error:
                raise error.as_delivery_error() from None
            sent.append(SentMessage(provider_message_id=str(answer.get("ts")), chunk_index=index, text=piece))
        return sent

    def sender_profile(self, account: dict[str, Any], message: InboundMessage) -> Profile:
        """operator for a full member of the tenant's workspace (in `allow_from`, when set); else customer."""
        user = message.sender_id or ""
        allowed = account.get("allow_from") or []
        home = str(account.get("team_id") or "")
        if not user or (allowed and user not in allowed) or message.sender_identity.get("team", home) != home:
            return "customer"
        try:
            info = call(secrets.resolve(str(account["bot_token"])), "users.info", {"user": user}).get("user") or {}
        except Exception as error:  # Slack cannot vouch for them: least privilege
            logger.warning("slack users.info failed; customer profile", extra={"error": str(error)[:200]})
            return "customer"
        outsider = any(info.get(flag) for flag in ("is_restricted", "is_ultra_restricted", "is_stranger", "deleted"))
        return "customer" if outsider or info.get("team_id", home) != home else "operator"

    def show_activity(self, account: dict[str, Any], message: InboundMessage) -> None:
        """Slack's Web API has no typing indicator for an app's bot user outside assistant threads: nothing."""

    def stream(self, turn: Turn) -> TextSink | None:
        return None

    def fetch_media(self, account: dict[str, Any], media: MediaRef, *, tenant: str) -> MediaRef:
        raise MediaError("Slack files are not fetched (the agent reads the message text)")


CHANNEL = SlackChannel()
