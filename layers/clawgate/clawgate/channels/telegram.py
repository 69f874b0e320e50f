"""The Telegram adapter: one bot per agent. Parses Updates (messages in private chats and groups with mention gating,
callback queries, edited messages marked "edited" so Ingest ignores them, photos/documents/voice as media), sends
replies with sendMessage (Markdown when it is safe, else plain text) and shows `typing`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

from clawgate import secrets
from clawgate.channels.media import fetch_media
from clawgate.channels.telegram_api import TelegramApiError, call
from clawgate.channels.telegram_webhook import chat_of, conversation_key, update_kind
from clawgate.channels.text import chunk_text, telegram_markdown, utf16_length
from clawgate.core.channels import (
    ChannelName,
    Envelope,
    InboundKind,
    InboundMessage,
    MediaRef,
    SentMessage,
)
from clawgate.core.placeholders import location_text, media_text, unsupported_text
from clawgate.tenancy.channel_accounts import TelegramAccount

if TYPE_CHECKING:
    from clawgate.core.channels import TextSink
    from clawgate.core.turns import Turn
from clawgate.observability import logger

MAX_TEXT = 4096
GROUP_TYPES = frozenset({"group", "supergroup"})
_MEDIA_FIELDS = {"photo": "image", "document": "document", "voice": "voice", "audio": "audio", "video": "video",
                 "video_note": "video", "sticker": "sticker", "animation": "video"}  # fmt: skip


def _utf16_slice(text: str, offset: int, length: int) -> str:
    """Entity offsets count UTF-16 code units."""
    return text.encode("utf-16-le")[offset * 2 : (offset + length) * 2].decode("utf-16-le", "replace")


def is_mentioned(message: dict[str, Any], bot_username: str | None) -> bool:
    """Groups: the bot is addressed by @username, a text mention, a command, or a reply to one of its messages.
    Without the bot's username (a webhook registered by hand) any mention of a bot counts."""
    if (message.get("chat") or {}).get("type") not in GROUP_TYPES:
        return True
    me = (bot_username or "").lstrip("@").lower()
    text = message.get("text") or message.get("caption") or ""
    for entity in message.get("entities") or message.get("caption_entities") or []:
        piece = _utf16_slice(text, int(entity.get("offset", 0)), int(entity.get("length", 0)))
        if entity.get("type") == "mention" and (not me or piece.lstrip("@").lower() == me):
            return True
        user = entity.get("user") or {}
        if (
            entity.get("type") == "text_mention"
            and user.get("is_bot")
            and (not me or user.get("username", "").lower() == me)
        ):
            return True
        if entity.get("type") == "bot_command" and entity.get("offset") == 0:
            target = piece.partition("@")[2].lower()
            if not target or not me or target == me:
                return True
    author = (message.get("reply_to_message") or {}).get("from") or {}
    return bool(author.get("is_bot")) and (not me or str(author.get("username", "")).lower() == me)


def _media(message: dict[str, Any]) -> tuple[list[MediaRef], str | None]:
    for field, kind in _MEDIA_FIELDS.items():
        body = message.get(field)
        if not body:
            continue
        if isinstance(body, list):  # photo: sizes, the largest last
            body = max(
                body, key=lambda size: (size.get("file_size") or 0, size.get("width", 0) * size.get("height", 0))
            )
        ref = MediaRef.model_validate({"kind": kind, "provider_media_id": str(body.get("file_id", "")),
                                       "mime_type": body.get("mime_type"), "filename": body.get("file_name"),
                                       "size_bytes": body.get("file_size")})  # fmt: skip
        text = media_text(kind, mime_type=ref.mime_type, filename=ref.filename, caption=message.get("caption"),
                          duration_s=body.get("duration"))  # fmt: skip
        return [ref], text
    return [], None


def _message_text(message: dict[str, Any]) -> tuple[str, list[MediaRef]]:
    media, text = _media(message)
    if text is not None:
        return text, media
    if message.get("text"):
        return str(message["text"]), []
    if location := message.get("location"):
        return location_text(location.get("latitude"), location.get("longitude")), []
    if contact := message.get("contact"):
        return f"[Shared contact: {contact.get('first_name', '')} {contact.get('phone_number', '')}]".strip(), []
    return unsupported_text("Telegram"), []


def _sender(user: dict[str, Any]) -> tuple[str | None, str | None]:
    if not user:
        return None, None
    name = " ".join(part for part in (user.get("first_name"), user.get("last_name")) if part) or user.get("username")
    return str(user.get("id")), name


def parse_envelope(envelope: Envelope) -> list[InboundMessage]:
    update = envelope.update
    chat = chat_of(update)
    base: dict[str, Any] = {"channel": "telegram", "account_id": envelope.account_id,
                            "provider_id": envelope.provider_id, "peer_id": chat,
                            "conversation_key": conversation_key(envelope.account_id, chat), "raw": update}  # fmt: skip
    if envelope.kind == "malformed":
        base["raw"] = {"body": envelope.raw or ""}
        return [InboundMessage(**base, kind="malformed", text=unsupported_text("Telegram", "malformed update"))]
    field, kind = update_kind(update)
    found = update.get(field)
    body: dict[str, Any] = found if isinstance(found, dict) else {}
    if field == "callback_query":
        sender_id, sender_name = _sender(body.get("from") or {})
        message = body.get("message") or {}
        return [InboundMessage(**base, kind="callback", sender_id=sender_id, sender_name=sender_name,
                               text=str(body.get("data") or body.get("game_short_name") or ""),
                               reply_to_provider_id=str(message["message_id"]) if "message_id" in message else None,
                               is_group=(message.get("chat") or {}).get("type") in GROUP_TYPES)]  # fmt: skip
    if kind == "unsupported":  # an update that is not a message (my_chat_member, poll, …): stored, never a turn
        return [InboundMessage(**base, kind="event", text=unsupported_text("Telegram", field))]
    sender_id, sender_name = _sender(body.get("from") or {})
    text, media = _message_text(body)
    reply_to = body.get("reply_to_message") or {}
    date = body.get("date")
    return [
        InboundMessage(
            **base,
            kind=cast(InboundKind, kind),
            sender_id=sender_id,
            sender_name=sender_name,
            text=text,
            media=media,
            reply_to_provider_id=str(reply_to["message_id"]) if "message_id" in reply_to else None,
            is_group=(body.get("chat") or {}).get("type") in GROUP_TYPES,
            mentioned=is_mentioned(body, envelope.context.get("bot_username")),
            sent_at=datetime.fromtimestamp(int(date), UTC) if isinstance(date, int) else None,
        )
    ]


def _chat_id(peer_id: str) -> int | str:
    return int(peer_id) if peer_id.lstrip("-").isdigit() else peer_id


class TelegramChannel:
    name: ChannelName = "telegram"
    max_text: int = MAX_TEXT
    account_model = TelegramAccount  # `channels.telegram` of the tenant file

    def parse(self, envelope: Envelope) -> list[InboundMessage]:
        return parse_envelope(envelope)

    def chunk(self, text: str) -> list[str]:
        """The pieces `send_text` sends (each ≤ 4,096 UTF-16 code units, Telegram's measure)."""
        return chunk_text(text, self.max_text, utf16_length)

    def send_text(
        self, account: dict[str, Any], peer_id: str, text: str, reply_to: str | None = None, *, turn: Turn | None = None
    ) -> list[SentMessage]:
        token = secrets.resolve(str(account["bot_token"]))
        sent: list[SentMessage] = []
        for index, chunk in enumerate(self.chunk(text)):
            params: dict[str, Any] = {"chat_id": _chat_id(peer_id), "text": chunk}
            if reply_to and reply_to.isdigit() and index == 0:
                params["reply_parameters"] = {"message_id": int(reply_to), "allow_sending_without_reply": True}
            result = self._send_chunk(token, params)
            sent.append(SentMessage(provider_message_id=str(result.get("message_id")), chunk_index=index, text=chunk))
        return sent

    @staticmethod
    def _send_chunk(token: str, params: dict[str, Any]) -> dict[str, Any]:
        markdown = telegram_markdown(params["text"])
        try:
            if markdown is not None and utf16_length(markdown) <= MAX_TEXT:
                try:
                    result: dict[str, Any] = call(token, "sendMessage", {**params, "text": markdown,
                                                                         "parse_mode": "Markdown"})  # fmt: skip
                    return result
                except TelegramApiError as error:
                    if error.code != 400:
                        raise
                    logger.info("telegram refused the Markdown; sending plain text", extra={"error": error.description})
            plain: dict[str, Any] = call(token, "sendMessage", params)
            return plain
        except TelegramApiError as error:
            raise error.as_delivery_error() from None

    def show_activity(self, account: dict[str, Any], message: InboundMessage) -> None:
        """`typing` for 5 s (and the callback spinner stopped for a button press); best effort, never raises."""
        if not message.peer_id or message.kind not in ("message", "callback"):
            return
        try:
            token = secrets.resolve(str(account["bot_token"]))
            if message.kind == "callback" and message.raw.get("callback_query"):
                call(token, "answerCallbackQuery", {"callback_query_id": message.raw["callback_query"].get("id")})
            call(token, "sendChatAction", {"chat_id": _chat_id(message.peer_id), "action": "typing"})
        except Exception as error:
            logger.warning("telegram typing failed", extra={"error": str(error)[:200]})

    def stream(self, turn: Turn) -> TextSink | None:
        return None  # the reply goes out whole, chunk by chunk

    def fetch_media(self, account: dict[str, Any], media: MediaRef, *, tenant: str) -> MediaRef:
        return fetch_media(self.name, account, media, tenant=tenant)


CHANNEL = TelegramChannel()
