"""Sending through the channel adapters against the fake Graph and Telegram servers: chunking, formatting, activity
indicators, provider errors mapped to retryable or not, and inbound media fetched into the blob store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from clawgate.channels.media import fetch_media
from clawgate.core.channels import DeliveryError, InboundMessage, MediaRef, MediaTooLargeError, get_adapter
from clawgate.local.fakes import FakeGraph, FakeTelegram, telegram_error

from tests.channel_fixtures import BOT_TOKEN, WHATSAPP_TOKEN, environment
from tests.channel_payloads import PHONE_NUMBER_ID, USER_ID

WA_ACCOUNT = {"account_id": PHONE_NUMBER_ID, "access_token": "secret:chan/whatsapp", "waba_id": "1"}
TG_ACCOUNT = {"bot_token": "secret:chan/bot", "dm_policy": "open"}
LONG_REPLY = "\n\n".join(f"Paragraph {i}. " + "The campaign spent its budget well today. " * 40 for i in range(8))


@pytest.fixture(autouse=True)
def channel_secrets() -> Iterator[None]:
    with environment(CLAWGATE_SECRET_CHAN_WHATSAPP=WHATSAPP_TOKEN, CLAWGATE_SECRET_CHAN_BOT=BOT_TOKEN):
        yield


def inbound(channel: str, **fields: Any) -> InboundMessage:
    base: dict[str, Any] = {"channel": channel, "kind": "message", "account_id": PHONE_NUMBER_ID,
                            "provider_id": "wamid.IN1", "peer_id": USER_ID, "conversation_key": "k"}  # fmt: skip
    return InboundMessage.model_validate({**base, **fields})


# WhatsApp ----------------------------------------------------------------------------------------------------------
def test_a_long_whatsapp_reply_is_chunked_under_4096_from_the_agents_number(graph: FakeGraph) -> None:
    graph.access_token = WHATSAPP_TOKEN  # any other token gets error 190
    sent = get_adapter("whatsapp").send_text(WA_ACCOUNT, USER_ID, LONG_REPLY)
    bodies = graph.sent_whatsapp()
    assert len(sent) == len(bodies) > 1
    assert all(len(b["text"]["body"]) < 4096 for b in bodies)
    assert all(b["phone_number_id"] == PHONE_NUMBER_ID and b["recipient"] == USER_ID for b in bodies)
    assert [s.provider_message_id for s in sent] == [b["wamid"] for b in bodies]
    assert [s.chunk_index for s in sent] == list(range(len(sent)))
    assert " ".join(" ".join(b["text"]["body"] for b in bodies).split()) == " ".join(LONG_REPLY.split())


def test_a_phone_number_peer_is_sent_with_to(graph: FakeGraph) -> None:
    get_adapter("whatsapp").send_text(WA_ACCOUNT, "16505551234", "**Open** today", reply_to="wamid.Q")
    [body] = graph.sent_whatsapp()
    assert (body["to"], body["text"]["body"]) == ("16505551234", "*Open* today")
    assert body["context"] == {"message_id": "wamid.Q"}


@pytest.mark.parametrize(
    ("code", "status", "retryable", "retry_after"),
    [(131047, 400, False, None), (131056, 400, True, 4.0), (130429, 400, True, 2.0), (131000, 500, True, None),
     (190, 401, False, None), (100, 400, False, None)],
)  # fmt: skip
def test_graph_errors_map_to_retryable_or_not(
    graph: FakeGraph, code: int, status: int, retryable: bool, retry_after: float | None
) -> None:
    graph.fail_graph(code, status=status, path_contains="/messages")
    with pytest.raises(DeliveryError) as caught:
        get_adapter("whatsapp").send_text(WA_ACCOUNT, USER_ID, "hello")
    error = caught.value
    assert (error.code, error.retryable, error.retry_after_s) == (code, retryable, retry_after)
    assert WHATSAPP_TOKEN not in str(error)


def test_an_unreachable_graph_is_retryable(graph: FakeGraph) -> None:
    with environment(CLAWGATE_GRAPH_URL="http://127.0.0.1:9"), pytest.raises(DeliveryError) as caught:
        get_adapter("whatsapp").send_text(WA_ACCOUNT, USER_ID, "hello")
    assert caught.value.retryable is True


def test_whatsapp_read_receipt_and_typing_indicator_go_in_one_call(graph: FakeGraph) -> None:
    channel = get_adapter("whatsapp")
    channel.show_activity(WA_ACCOUNT, inbound("whatsapp"))
    [receipt] = graph.read_receipts
    assert receipt == {"phone_number_id": PHONE_NUMBER_ID, "messaging_product": "whatsapp", "status": "read",
                       "message_id": "wamid.IN1", "typing_indicator": {"type": "text"}}  # fmt: skip
    graph.fail_graph(131000, status=500)
    channel.show_activity(WA_ACCOUNT, inbound("whatsapp"))  # best effort: a failure is logged, never raised


# Telegram ----------------------------------------------------------------------------------------------------------
def test_a_long_telegram_reply_is_chunked_under_4096(telegram: FakeTelegram) -> None:
    sent = get_adapter("telegram").send_text(TG_ACCOUNT, "42", LONG_REPLY + " 🙂" * 2000)
    texts = [m["text"] for m in telegram.sent_messages(42)]
    assert len(sent) == len(texts) > 1 and all(len(t.encode("utf-16-le")) // 2 < 4096 for t in texts)
    assert [s.provider_message_id for s in sent] == [str(m["message"]["message_id"]) for m in telegram.sent_messages()]


def test_telegram_markdown_when_safe_and_plain_text_otherwise(telegram: FakeTelegram) -> None:
    channel = get_adapter("telegram")
    channel.send_text(TG_ACCOUNT, "42", "**CPL** is down")
    channel.send_text(TG_ACCOUNT, "42", "campaign_name * 2")
    telegram.fail_next(400, telegram_error(400, "Bad Request: can't parse entities"), path_contains="sendMessage")
    channel.send_text(TG_ACCOUNT, "42", "**bold** and `code`")  # refused as Markdown: sent again as plain text
    sent = [(m["params"].get("parse_mode"), m["text"]) for m in telegram.sent_messages(42)]
    assert sent == [("Markdown", "*CPL* is down"), (None, "campaign_name * 2"), (None, "**bold** and `code`")]


def test_telegram_429_is_retryable_after_retry_after(telegram: FakeTelegram) -> None:
    telegram.fail_rate_limited(retry_after=35, method="sendMessage")
    with pytest.raises(DeliveryError) as caught:
        get_adapter("telegram").send_text(TG_ACCOUNT, "42", "hello")
    assert (caught.value.code, caught.value.retryable, caught.value.retry_after_s) == (429, True, 35.0)
    assert BOT_TOKEN not in str(caught.value)
    telegram.fail_next(403, telegram_error(403, "Forbidden: bot was blocked by the user"))
    with pytest.raises(DeliveryError) as blocked:
        get_adapter("telegram").send_text(TG_ACCOUNT, "42", "hello")
    assert (blocked.value.code, blocked.value.retryable) == (403, False)


def test_telegram_typing_and_a_pressed_button(telegram: FakeTelegram) -> None:
    channel = get_adapter("telegram")
    channel.show_activity(TG_ACCOUNT, inbound("telegram", peer_id="42"))
    press = inbound("telegram", peer_id="42", kind="callback", raw={"callback_query": {"id": "cbq-1"}})
    channel.show_activity(TG_ACCOUNT, press)
    assert telegram.chat_actions == [{"chat_id": 42, "action": "typing"}] * 2
    assert [a["callback_query_id"] for a in telegram.callback_answers] == ["cbq-1"]


# media -------------------------------------------------------------------------------------------------------------
def test_media_is_fetched_into_the_blob_store_within_a_size_limit(
    graph: FakeGraph, telegram: FakeTelegram, tmp_path: Path
) -> None:
    graph.add_media("1003383421387256", b"\x89PNG fake image", "image/png")
    telegram.add_file("voice-1", b"OggS fake voice", "voice/file_1.oga")
    with environment(CLAWGATE_DATA_DIR=str(tmp_path)):
        image = fetch_media("whatsapp", WA_ACCOUNT, MediaRef(kind="image", provider_media_id="1003383421387256"),
                            tenant="chan")  # fmt: skip
        voice = fetch_media("telegram", TG_ACCOUNT, MediaRef(kind="voice", provider_media_id="voice-1"), tenant="chan")
        with pytest.raises(MediaTooLargeError):
            fetch_media("whatsapp", WA_ACCOUNT, MediaRef(kind="image", provider_media_id="1003383421387256"),
                        tenant="chan", max_bytes=4)  # fmt: skip
    assert (image.mime_type, image.size_bytes) == ("image/png", 15)
    assert image.blob_key and (tmp_path / "blobs" / image.blob_key).read_bytes() == b"\x89PNG fake image"
    assert voice.blob_key and (tmp_path / "blobs" / voice.blob_key).read_bytes() == b"OggS fake voice"
