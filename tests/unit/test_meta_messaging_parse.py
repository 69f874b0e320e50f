"""Messenger and Instagram webhook bodies → envelopes → InboundMessages, from payloads shaped as Meta documents
them; and the Send API's error classification and chunking limits."""

from __future__ import annotations

import json
from typing import Any

import pytest
from clawgate.channels import instagram, messenger
from clawgate.channels.meta_messaging_parse import parse_envelope
from clawgate.channels.meta_messaging_webhook import split
from clawgate.channels.meta_send import delivery_error, text_body
from clawgate.core.channels import Envelope, InboundMessage

from tests.meta_payloads import ad_referral, body, event, text

PAGE, IG, PSID = "153125381133", "17841400000000000", "24000000000000009"


def parsed(payload: dict[str, Any]) -> list[InboundMessage]:
    messages = split(payload)
    return [m for q in messages for m in parse_envelope(Envelope.model_validate_json(q.body))]


def test_a_message_from_an_ad_keeps_its_referral_and_is_keyed_by_mid() -> None:
    sent = text(PSID, PAGE, "Hi", referral=ad_referral("120226305854810726"))
    [queued] = split(body("page", PAGE, sent))
    assert queued.dedup_id == sent["message"]["mid"] and queued.group_id == f"messenger:{PAGE}:{PSID}"
    [message] = parsed(body("page", PAGE, sent))
    assert (message.channel, message.kind, message.peer_id, message.text) == ("messenger", "message", PSID, "Hi")
    assert message.referral and message.referral["ad_id"] == "120226305854810726"
    assert message.sent_at is not None


def test_instagram_events_are_the_instagram_channel() -> None:
    [message] = parsed(body("instagram", IG, text(PSID, IG, "Привет")))
    assert (message.channel, message.account_id, message.conversation_key) == (
        "instagram",
        IG,
        f"instagram:{IG}:{PSID}",
    )


def test_echoes_are_dropped_and_unknown_events_kept_raw() -> None:
    echo = event(PAGE, PSID, message={"mid": "m_1", "text": "ours", "is_echo": True})
    optin = event(PSID, PAGE, optin={"ref": "landing"})
    [kept] = parsed(body("page", PAGE, echo, optin))
    assert (kept.kind, kept.status) == ("event", "unsupported:unknown event")
    assert kept.raw == {"messaging": optin}
    assert split({"object": "whatsapp_business_account", "entry": []}) == []
    [odd] = split({"object": "instagram", "entry": ["not an object"]})
    assert json.loads(odd.body)["kind"] == "unsupported"


@pytest.mark.parametrize(
    ("attachment", "expected_text", "media_kind"),
    [
        ({"type": "image", "payload": {"url": "https://scontent.xx.fbcdn.net/a.jpg"}}, "[Image]", "image"),
        ({"type": "audio", "payload": {"url": "https://cdn.fbsbx.com/v.mp4"}}, "[Audio file — not transcribed",
         "audio"),
        ({"type": "file", "payload": {"url": "https://cdn.fbsbx.com/f.pdf"}, "name": "x.pdf"}, "[Document: x.pdf]",
         "document"),
        ({"type": "story_mention", "payload": {"url": "https://lookaside.fbsbx.com/s"}},
         "[Mentioned you in their story]", "image"),
        ({"type": "image", "payload": {"url": "https://x.fbcdn.net/s.png", "sticker_id": 369239263222822}}, "[Sticker]",
         None),
        ({"type": "ig_reel", "payload": {"title": "Before/after"}}, "[Shared a reel: Before/after]", None),
        ({"type": "location", "payload": {"coordinates": {"lat": 43.2, "long": 76.9}}}, "[Location: (43.2, 76.9)]",
         None),
        ({"type": "hologram", "payload": {}}, "[Unsupported hologram attachment message]", None),
    ],
)  # fmt: skip
def test_attachments_become_media_and_text(attachment: dict[str, Any], expected_text: str, media_kind: str) -> None:
    [message] = parsed(body("page", PAGE, event(PSID, PAGE, message={"mid": "m_a", "attachments": [attachment]})))
    assert message.text.startswith(expected_text)
    assert [m.kind for m in message.media] == ([media_kind] if media_kind else [])
    if media_kind:
        assert message.media[0].provider_media_id == attachment["payload"]["url"]


def test_quick_replies_postbacks_reactions_and_story_replies() -> None:
    quick = text(PSID, PAGE, "Book a visit", quick_reply={"payload": "BOOK"})
    postback = event(PSID, PAGE, postback={"mid": "m_pb", "title": "Prices", "payload": "PRICES",
                                           "referral": ad_referral("42")})  # fmt: skip
    reaction = event(PSID, PAGE, reaction={"mid": "m_ours", "action": "react", "reaction": "love", "emoji": "❤"})
    story = text(PSID, IG, "so pretty", reply_to={"story": {"url": "https://lookaside.fbsbx.com/x", "id": "1"}})
    messages = parsed(body("page", PAGE, quick, postback, reaction)) + parsed(body("instagram", IG, story))
    assert [m.text for m in messages] == ["Book a visit", "Prices", "[Reacted ❤ to an earlier message]",
                                          "[Replied to your story] so pretty"]  # fmt: skip
    assert messages[1].kind == "callback" and messages[1].provider_id == "postback:m_pb"
    assert messages[1].referral == ad_referral("42")
    assert messages[2].reply_to_provider_id == "m_ours"


def test_reads_and_deliveries_are_statuses_keyed_per_message() -> None:
    delivery = event(PSID, PAGE, delivery={"mids": ["m_1", "m_2"], "watermark": 1458668856253})
    read = event(PSID, PAGE, read={"watermark": 1458668856253})
    queued = split(body("page", PAGE, delivery, read))
    assert [q.dedup_id for q in queued] == ["m_1:delivered", "m_2:delivered", f"read:{PSID}:1458668856253"]
    messages = parsed(body("page", PAGE, delivery, read))
    assert [(m.kind, m.status, m.raw.get("id")) for m in messages] == [
        ("status", "delivered", "m_1"), ("status", "delivered", "m_2"), ("status", "read", None)
    ]  # fmt: skip


def test_a_referral_without_a_message_is_an_attributable_event() -> None:
    [message] = parsed(body("page", PAGE, event(PSID, PAGE, referral=ad_referral("77"))))
    assert message.kind == "event" and message.referral == ad_referral("77")


def test_a_redelivered_event_without_an_id_has_the_same_key() -> None:
    reaction = event(PSID, PAGE, reaction={"mid": "m_ours", "action": "unreact"})
    assert split(body("page", PAGE, reaction))[0].dedup_id == split(body("page", PAGE, reaction))[0].dedup_id


def test_send_api_errors_are_classified() -> None:
    def error(status: int, code: int, subcode: int | None = None) -> dict[str, Any]:
        return {"error": {"message": "x", "type": "OAuthException", "code": code, "error_subcode": subcode}}

    window = delivery_error(400, error(400, 10, 2018278))
    assert (window.retryable, window.code) == (False, 2018278)
    assert delivery_error(400, error(400, 10, 2534022)).code == 2534022  # Instagram's window subcode
    limited = delivery_error(400, error(400, 613))
    assert limited.retryable and limited.retry_after_s
    assert delivery_error(500, None).retryable and delivery_error(400, error(400, 1200)).retryable
    assert not delivery_error(400, error(400, 551)).retryable and not delivery_error(401, error(401, 190)).retryable


def test_text_bodies_and_chunk_limits() -> None:
    assert text_body(PSID, "hi", None) == {"recipient": {"id": PSID}, "message": {"text": "hi"},
                                           "messaging_type": "RESPONSE"}  # fmt: skip
    assert text_body(PSID, "hi", "HUMAN_AGENT")["tag"] == "HUMAN_AGENT"
    long_cyrillic = "Здравствуйте, виниры делаются за два визита. " * 80
    assert all(len(c) <= 2000 for c in messenger.CHANNEL.chunk(long_cyrillic))
    assert all(len(c.encode()) <= 1000 for c in instagram.CHANNEL.chunk(long_cyrillic))
    assert "".join(instagram.CHANNEL.chunk(long_cyrillic)).replace(" ", "") == long_cyrillic.replace(" ", "")
