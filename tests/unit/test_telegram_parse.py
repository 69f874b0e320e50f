"""Telegram Updates turned into envelopes by the webhook and parsed into InboundMessages: one fixture per update
kind, mention gating in groups, media; plus the per-bot webhook secret. Pure functions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from clawgate.channels.telegram_webhook import _local_key, build_message, webhook_secret
from clawgate.core.channels import InboundMessage, get_adapter
from clawgate.settings import reset_settings

from tests.channel_payloads import envelope_of, raw, tg_message, tg_update, tg_user

TELEGRAM = get_adapter("telegram")
ACCOUNT = "acme/director"
BOT = "acme_director_bot"


def parse(update: dict[str, Any], bot: str | None = BOT) -> InboundMessage:
    queued = build_message(ACCOUNT, raw(update), bot)
    assert queued.dedup_id == f"{ACCOUNT}:{update['update_id']}"
    [message] = TELEGRAM.parse(envelope_of(queued.body))
    return message


def test_a_private_message() -> None:
    update = tg_update("message", tg_message("Hi Klod", chat_id=42, user_id=42))
    message = parse(update)
    assert (message.kind, message.text, message.peer_id, message.sender_id) == ("message", "Hi Klod", "42", "42")
    assert (message.is_group, message.mentioned, message.sender_name) == (False, True, "Ivan")
    assert message.conversation_key == f"telegram:{ACCOUNT}:42"
    assert message.provider_id == f"{ACCOUNT}:{update['update_id']}" and message.raw == update


def test_group_messages_count_as_addressed_only_when_the_bot_is_mentioned_or_replied_to() -> None:
    def group(text: str, **extra: Any) -> dict[str, Any]:
        return tg_update("message", tg_message(text, chat_id=-1001234, chat_type="supergroup", **extra))

    mention = group(f"@{BOT} what is the CPL?", entities=[{"type": "mention", "offset": 0, "length": len(BOT) + 1}])
    other = group("@someone_else hi", entities=[{"type": "mention", "offset": 0, "length": 13}])
    reply = group("and yesterday?", reply_to_message={"message_id": 5, "from": {"id": 1, "is_bot": True,
                                                                                  "username": BOT}})  # fmt: skip
    command = group(f"/report@{BOT}", entities=[{"type": "bot_command", "offset": 0, "length": len(BOT) + 8}])
    chatter = group("lunch?")
    updates = {"mention": mention, "other": other, "reply": reply, "command": command, "chatter": chatter}
    results = {name: parse(update) for name, update in updates.items()}
    assert {name: m.mentioned for name, m in results.items()} == {
        "mention": True, "other": False, "reply": True, "command": True, "chatter": False}  # fmt: skip
    assert all(m.is_group and m.peer_id == "-1001234" and m.sender_id == "123456789" for m in results.values())


def test_mention_offsets_count_utf16_code_units() -> None:
    text = f"🙂 @{BOT} hi"  # the emoji is 2 UTF-16 units
    entities = [{"type": "mention", "offset": 3, "length": len(BOT) + 1}]
    update = tg_update("message", tg_message(text, chat_id=-5, chat_type="group", entities=entities))
    assert parse(update).mentioned is True


def test_without_the_bot_username_any_mention_counts() -> None:
    update = tg_update("message", tg_message("@whoever hi", chat_id=-5, chat_type="group",
                                             entities=[{"type": "mention", "offset": 0, "length": 8}]))  # fmt: skip
    assert parse(update, bot=None).mentioned is True


def test_a_callback_query() -> None:
    query = {"id": "4382bfdwdsb323b2d9", "from": tg_user(42), "chat_instance": "1", "data": "approve:17",
             "message": tg_message("Approve the budget?", chat_id=42, user_id=7)}  # fmt: skip
    message = parse(tg_update("callback_query", query))
    assert (message.kind, message.text, message.peer_id, message.sender_id) == ("callback", "approve:17", "42", "42")


def test_an_edited_message_is_marked_edited() -> None:
    message = parse(tg_update("edited_message", tg_message("typo fixed", edit_date=1749416999)))
    assert (message.kind, message.text) == ("edited", "typo fixed")


def test_a_photo_uses_the_largest_size_and_its_caption() -> None:
    sizes = [{"file_id": f"p{i}", "file_unique_id": f"u{i}", "width": w, "height": w, "file_size": w * 10}
             for i, w in enumerate((90, 320, 1280))]  # fmt: skip
    message = parse(tg_update("message", tg_message(None, photo=sizes, caption="this creative")))
    assert [(m.kind, m.provider_media_id, m.size_bytes) for m in message.media] == [("image", "p2", 12800)]
    assert message.text == "[Image] this creative"


def test_a_document_and_a_voice_note() -> None:
    document = {"file_id": "d1", "file_unique_id": "x", "file_name": "report.xlsx", "mime_type": "application/xlsx"}
    voice = {"file_id": "v1", "file_unique_id": "y", "duration": 7, "mime_type": "audio/ogg", "file_size": 9000}
    doc = parse(tg_update("message", tg_message(None, document=document)))
    note = parse(tg_update("message", tg_message(None, voice=voice)))
    assert (doc.media[0].kind, doc.media[0].filename) == ("document", "report.xlsx")
    assert doc.text == "[Document: report.xlsx, application/xlsx]"
    assert (note.media[0].kind, note.text) == ("voice", "[Voice note: audio/ogg, 7 s — not transcribed, its content "
                                                        "is unknown]")  # fmt: skip


def test_other_update_kinds_are_kept_as_events() -> None:
    update = tg_update("my_chat_member", {"chat": {"id": -5, "type": "group"}, "from": tg_user(), "date": 1,
                                          "old_chat_member": {}, "new_chat_member": {}})  # fmt: skip
    message = parse(update)
    assert (message.kind, message.peer_id, message.raw) == ("event", "-5", update)


def test_a_malformed_body_is_kept_raw() -> None:
    queued = build_message(ACCOUNT, b"{not json", BOT)
    envelope = envelope_of(queued.body)
    assert (envelope.kind, envelope.raw) == ("malformed", "{not json")
    assert TELEGRAM.parse(envelope)[0].kind == "malformed"


def test_the_webhook_secret_is_derived_per_bot(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CLAWGATE_TELEGRAM_WEBHOOK_KEY", "platform-key-1")
    reset_settings()
    first, second = webhook_secret("acme/director"), webhook_secret("acme/assistant")
    monkeypatch.setenv("CLAWGATE_TELEGRAM_WEBHOOK_KEY", "platform-key-2")
    reset_settings()
    rotated = webhook_secret("acme/director")
    monkeypatch.delenv("CLAWGATE_TELEGRAM_WEBHOOK_KEY")
    monkeypatch.setenv("CLAWGATE_DATA_DIR", str(tmp_path))
    reset_settings()
    local = webhook_secret("acme/director")  # no key configured locally: one is generated and kept
    assert local == webhook_secret("acme/director") and (tmp_path / "telegram-webhook.key").is_file()
    assert len({first, second, rotated, local}) == 4
    for secret in (first, second, rotated, local):
        assert len(secret) == 43 and all(c.isalnum() or c in "_-" for c in secret)
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "telegram_webhook")  # in Lambda a missing key is an error
    _local_key.cache_clear()
    with pytest.raises(RuntimeError):
        webhook_secret("acme/director")
    reset_settings()
