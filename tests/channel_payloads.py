"""Provider payloads shaped as REFERENCE.md documents them: WhatsApp Cloud API webhooks and Telegram Updates."""

from __future__ import annotations

import itertools
import json
import time
import uuid
from typing import Any

from clawgate.core.channels import Envelope

PHONE_NUMBER_ID = "106540352242922"
WABA_ID = "102290129340398"
USER_ID = "US.13491208655302741918"
WA_ID = "16505551234"
_update_ids = itertools.count(500_000_000)


def wamid() -> str:
    return f"wamid.HBgL{uuid.uuid4().hex.upper()}"


def wa_message(kind: str, body: Any = None, *, user_id: str = USER_ID, wa_id: str | None = WA_ID,
               **extra: Any) -> dict[str, Any]:  # fmt: skip
    # Meta stamps a message with when the customer wrote it, seconds before the webhook: a fixed date in the past
    # would put every fixture outside the 24-hour window (the inbox then says "window closed" for a fresh message)
    message: dict[str, Any] = {"from_user_id": user_id, "id": wamid(), "timestamp": str(int(time.time())),
                               "type": kind}  # fmt: skip
    if wa_id:
        message["from"] = wa_id
    if body is not None:
        message[kind] = body
    message.update(extra)
    return message


def wa_text(text: str, **extra: Any) -> dict[str, Any]:
    return wa_message("text", {"body": text}, **extra)


def wa_body(
    messages: list[dict[str, Any]] | None = None,
    statuses: list[dict[str, Any]] | None = None,
    *,
    phone_number_id: str = PHONE_NUMBER_ID,
    errors: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": phone_number_id},
    }
    if messages:
        users = {(m.get("from_user_id"), m.get("from")) for m in messages}
        value["contacts"] = [{"profile": {"name": "Sheena"}, "wa_id": wa, "user_id": user} for user, wa in users]
        value["messages"] = messages
    if statuses:
        value["statuses"] = statuses
    if errors:
        value["errors"] = errors
    change = {"field": "messages", "value": value}
    return {"object": "whatsapp_business_account", "entry": [{"id": WABA_ID, "changes": [change]}]}


def wa_status(message_id: str, status: str, *, code: int | None = None, user_id: str = USER_ID) -> dict[str, Any]:
    body: dict[str, Any] = {"id": message_id, "status": status, "timestamp": "1749416400", "recipient_id": WA_ID,
                            "recipient_user_id": user_id}  # fmt: skip
    if code is not None:
        details = "Message failed to send because more than 24 hours have passed"
        body["errors"] = [{"code": code, "title": "Re-engagement message", "message": "Re-engagement message",
                           "error_data": {"details": details}}]  # fmt: skip
    return body


def raw(body: dict[str, Any]) -> bytes:
    return json.dumps(body).encode()


# Telegram ----------------------------------------------------------------------------------------------------------
def tg_user(user_id: int = 123456789, **extra: Any) -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": "Ivan", "username": f"user{user_id}", **extra}


def tg_message(text: str | None = "hello", *, chat_id: int = 123456789, chat_type: str = "private",
               user_id: int = 123456789, **extra: Any) -> dict[str, Any]:  # fmt: skip
    chat: dict[str, Any] = {"id": chat_id, "type": chat_type}
    if chat_type == "private":
        chat["first_name"] = "Ivan"
    else:
        chat["title"] = "Team chat"
    message: dict[str, Any] = {"message_id": next(_update_ids) % 100_000, "from": tg_user(user_id), "chat": chat,
                               "date": 1749416383}  # fmt: skip
    if text is not None:
        message["text"] = text
    message.update(extra)
    return message


def tg_update(field: str = "message", body: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"update_id": next(_update_ids), field: body if body is not None else tg_message()}


def envelope_of(body: str) -> Envelope:
    return Envelope.model_validate_json(body)
