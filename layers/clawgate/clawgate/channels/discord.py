"""The Discord adapter: the `/ask` slash command of an application's interactions endpoint.

The webhook answered the interaction with a deferred reply; the agent's answer completes it by editing
`@original` (`PATCH /webhooks/{application_id}/{token}/messages/@original`), and whatever does not fit Discord's
2,000 characters goes out as follow-up messages on the same interaction. The interaction token lasts 15 minutes:
after that, and for messages no interaction asked for (an operator's reply from the inbox), the bot posts to the
channel with its own token. Discord servers are often public, so every sender gets the customer profile, unless the
account says `operator: true` and lists the sender in `allow_from`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from clawgate import secrets
from clawgate.channels.discord_webhook import peer_of, user_of
from clawgate.channels.text import chunk_text
from clawgate.core import transport
from clawgate.core.channels import (
    ChannelName,
    DeliveryError,
    Envelope,
    InboundMessage,
    MediaError,
    MediaRef,
    SentMessage,
)
from clawgate.settings import get_settings
from clawgate.tenancy.channel_accounts import DiscordAccount

if TYPE_CHECKING:
    import httpx

    from clawgate.core.channels import TextSink
    from clawgate.core.tools import Profile
    from clawgate.core.turns import Turn

MAX_TEXT = 2000
GONE = frozenset({401, 404})  # an expired or unknown interaction token


def question(interaction: dict[str, Any]) -> str:
    options = (interaction.get("data") or {}).get("options") or []
    values = [str(o.get("value", "")) for o in options if isinstance(o, dict) and o.get("name") == "message"]
    return values[0] if values else ""


def parse_envelope(envelope: Envelope) -> list[InboundMessage]:
    interaction = envelope.update
    user = user_of(interaction)
    peer = peer_of(interaction)
    handle = {"application_id": str(interaction.get("application_id", "")), "token": interaction.get("token", ""),
              "channel_id": str(interaction.get("channel_id") or "")}  # fmt: skip
    return [
        InboundMessage(
            channel="discord",
            kind="message" if question(interaction) else "unsupported",
            account_id=envelope.account_id,
            provider_id=envelope.provider_id,
            peer_id=peer,
            conversation_key=f"discord:{envelope.account_id}:{peer}",
            sender_id=str(user.get("id") or "") or None,
            sender_name=str(user.get("global_name") or user.get("username") or "") or None,
            text=question(interaction) or "(an empty /ask)",
            is_group=bool(interaction.get("guild_id")),
            mentioned=True,  # a slash command is always addressed to the app
            turn_context={"reply_handle": handle},  # the interaction the reply completes
            raw={
                "interaction_id": interaction.get("id"),
                "guild_id": interaction.get("guild_id"),
                "reply_handle": handle,
            },
        )
    ]


class DiscordChannel:
    name: ChannelName = "discord"
    max_text: int = MAX_TEXT
    account_model = DiscordAccount  # `channels.discord` of the tenant file

    def parse(self, envelope: Envelope) -> list[InboundMessage]:
        return parse_envelope(envelope)

    def chunk(self, text: str) -> list[str]:
        return chunk_text(text, self.max_text)

    def send_text(
        self, account: dict[str, Any], peer_id: str, text: str, reply_to: str | None = None, *, turn: Turn | None = None
    ) -> list[SentMessage]:
        """The first chunk of a turn's reply (or a turn's failure notice, which has no reply text) edits @original;
        later chunks are follow-ups. Without a live interaction, the bot posts in the channel."""
        handle = (turn.context.get("reply_handle") if turn else None) or {}
        sent: list[SentMessage] = []
        for piece in self.chunk(text):
            first = turn is not None and (not turn.reply_text or self.chunk(turn.reply_text)[:1] == [piece])
            answer = self._answer_interaction(handle, piece, first) if handle.get("token") else None
            if answer is None:
                answer = self._post_in_channel(account, handle.get("channel_id") or peer_id.partition(":")[0], piece)
            sent.append(SentMessage(provider_message_id=str(answer.get("id")), chunk_index=len(sent), text=piece))
        return sent

    def _answer_interaction(self, handle: dict[str, Any], text: str, first: bool) -> dict[str, Any] | None:
        base = f"{_api()}/webhooks/{handle['application_id']}/{handle['token']}"
        method, url = ("PATCH", f"{base}/messages/@original") if first else ("POST", base)
        response = _send(method, url, {"content": text, "allowed_mentions": {"parse": []}})
        if response.status_code in GONE:
            return None  # the 15 minutes are over: the bot says it in the channel instead
        return _result(response, "interaction reply")

    def _post_in_channel(self, account: dict[str, Any], channel_id: str, text: str) -> dict[str, Any]:
        if not channel_id.isdigit():
            raise DeliveryError("Discord: no channel to post in", retryable=False)
        token = secrets.resolve(str(account["bot_token"]))
        headers = {"authorization": f"Bot {token}"}
        body = {"content": text, "allowed_mentions": {"parse": []}}
        return _result(_send("POST", f"{_api()}/channels/{channel_id}/messages", body, headers), "channel message")

    def sender_profile(self, account: dict[str, Any], message: InboundMessage) -> Profile:
        operators = {str(user) for user in account.get("allow_from") or []}
        listed = bool(account.get("operator")) and message.sender_id in operators
        return "operator" if listed else "customer"

    def show_activity(self, account: dict[str, Any], message: InboundMessage) -> None:
        """The deferred reply already shows "thinking…" until @original is edited: nothing to add."""

    def stream(self, turn: Turn) -> TextSink | None:
        return None

    def fetch_media(self, account: dict[str, Any], media: MediaRef, *, tenant: str) -> MediaRef:
        raise MediaError("Discord attachments are not fetched (/ask takes text)")


ASK_COMMAND = {
    "name": "ask",
    "type": 1,  # CHAT_INPUT: a slash command
    "description": "Ask the agent",
    "options": [{"type": 3, "name": "message", "description": "Your question", "required": True, "max_length": 4000}],
}


def register_commands(account: dict[str, Any]) -> list[dict[str, Any]]:
    """Overwrite the application's global commands with `/ask` (`PUT /applications/{id}/commands`, idempotent)."""
    token = secrets.resolve(str(account["bot_token"]))
    url = f"{_api()}/applications/{account['application_id']}/commands"
    answer = _send("PUT", url, [ASK_COMMAND], {"authorization": f"Bot {token}"})
    if answer.status_code >= 300:
        raise DeliveryError(f"Discord refused the commands: {answer.status_code} {answer.text[:200]}", retryable=False)
    registered: list[dict[str, Any]] = answer.json()
    return registered


def _api() -> str:
    return f"{get_settings().discord_api_url.rstrip('/')}/api/v10"


def _send(method: str, url: str, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    import httpx

    try:
        return transport.client().request(method, url, json=body, headers=headers)
    except httpx.TransportError as error:  # the URL carries the interaction token: never quote it
        raise DeliveryError(f"Discord unreachable ({type(error).__name__})", retryable=True) from None


def _result(response: httpx.Response, what: str) -> dict[str, Any]:
    try:
        payload = response.json()
    except ValueError:
        payload = {}
    payload = payload if isinstance(payload, dict) else {}
    if response.status_code < 300:
        return payload
    retry_after = payload.get("retry_after") or response.headers.get("retry-after")
    raise DeliveryError(
        f"Discord {what}: {response.status_code} {str(payload.get('message') or '')[:200]}",
        code=response.status_code,
        retryable=response.status_code == 429 or response.status_code >= 500,
        retry_after_s=float(retry_after) if retry_after is not None else None,
    )


CHANNEL = DiscordChannel()
