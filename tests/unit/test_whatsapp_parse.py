"""WhatsApp Cloud API webhooks split into envelopes and parsed into InboundMessages: one fixture per message type,
statuses, errors, other fields, malformed bodies. Pure functions: no database, no network."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from clawgate.channels.whatsapp_webhook import split_updates
from clawgate.core.channels import InboundMessage, get_adapter

from tests.channel_payloads import (
    PHONE_NUMBER_ID,
    USER_ID,
    WA_ID,
    envelope_of,
    raw,
    wa_body,
    wa_message,
    wa_status,
    wa_text,
    wamid,
)

WHATSAPP = get_adapter("whatsapp")


def parsed(body: dict[str, Any]) -> list[InboundMessage]:
    return [m for q in split_updates(raw(body)) for m in WHATSAPP.parse(envelope_of(q.body))]


def one(message: dict[str, Any]) -> InboundMessage:
    [result] = parsed(wa_body([message]))
    return result


MEDIA = {"mime_type": "image/jpeg", "sha256": "abc=", "id": "1003383421387256"}
CASES: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("text", wa_text("Hi, is the clinic open?"), {"text": "Hi, is the clinic open?"}),
    ("image", wa_message("image", {**MEDIA, "caption": "my tooth"}), {"text": "[Image: image/jpeg] my tooth"}),
    ("video", wa_message("video", {**MEDIA, "mime_type": "video/mp4"}), {"text": "[Video: video/mp4]"}),
    ("sticker", wa_message("sticker", {**MEDIA, "mime_type": "image/webp", "animated": False}),
     {"text": "[Sticker: image/webp]"}),
    ("audio", wa_message("audio", {"id": "55", "mime_type": "audio/mpeg", "voice": False}),
     {"text": "[Audio file: audio/mpeg — not transcribed, its content is unknown]"}),
    ("voice", wa_message("audio", {"id": "56", "mime_type": "audio/ogg; codecs=opus", "voice": True}),
     {"text": "[Voice note: audio/ogg; codecs=opus — not transcribed, its content is unknown]"}),
    ("document", wa_message("document", {"id": "57", "filename": "price.pdf", "mime_type": "application/pdf",
                                         "caption": "prices?"}),
     {"text": "[Document: price.pdf, application/pdf] prices?"}),
    ("location", wa_message("location", {"latitude": 43.238, "longitude": 76.945, "name": "Clinic",
                                         "address": "Abay 1"}),
     {"text": "[Location: Clinic, Abay 1 (43.238, 76.945)]"}),
    ("contacts", wa_message("contacts", None, contacts=[{"name": {"formatted_name": "Dr. Aliya"},
                                                         "phones": [{"phone": "+7 701 000 0000", "type": "CELL"}]}]),
     {"text": "[Shared contact: Dr. Aliya (+7 701 000 0000)]"}),
    ("button_reply", wa_message("interactive", {"type": "button_reply",
                                                "button_reply": {"id": "yes", "title": "Yes, book me"}}),
     {"text": "Yes, book me"}),
    ("list_reply", wa_message("interactive", {"type": "list_reply", "list_reply": {
        "id": "slot-3", "title": "Tue 15:00", "description": "Dr. Aliya"}}), {"text": "Tue 15:00 — Dr. Aliya"}),
    ("template button", wa_message("button", {"payload": "STOP_PROMO", "text": "Stop promotions"}),
     {"text": "Stop promotions"}),
    ("reaction", wa_message("reaction", {"message_id": "wamid.OURS", "emoji": "👍"}),
     {"text": "[Reacted 👍 to an earlier message]"}),
    ("order", wa_message("order", {"catalog_id": "1", "product_items": [
        {"product_retailer_id": "whitening", "quantity": 1, "item_price": 100, "currency": "USD"}]}),
     {"text": "[Order: 1 × whitening at 100 USD]"}),
    ("unsupported", wa_message("unsupported", None, errors=[
        {"code": 131051, "title": "Message type unknown", "error_data": {"details": "Message type is not supported"}}]),
     {"kind": "unsupported", "text": "[Unsupported WhatsApp message: Message type is not supported]"}),
    ("unknown type", wa_message("hologram", {"id": "9"}),
     {"kind": "unsupported", "text": "[Unsupported hologram message]"}),
    ("system", wa_message("system", {"body": "User A changed from 1 to 2", "type": "user_changed_number"}),
     {"kind": "status", "status": "system"}),
]  # fmt: skip


@pytest.mark.parametrize(("name", "message", "expected"), CASES, ids=[c[0] for c in CASES])
def test_every_message_type_is_parsed(name: str, message: dict[str, Any], expected: dict[str, Any]) -> None:
    result = one(message)
    wanted = {"kind": "message", "peer_id": USER_ID, "wa_id": WA_ID, "account_id": PHONE_NUMBER_ID, **expected}
    assert {key: getattr(result, key) for key in wanted} == wanted
    assert result.provider_id == message["id"]
    assert result.conversation_key == f"whatsapp:{PHONE_NUMBER_ID}:{USER_ID}"
    assert result.raw == message  # the provider's JSON is kept whole, unknown fields included


def test_media_is_referenced_for_fetching() -> None:
    voice = one(wa_message("audio", {"id": "56", "mime_type": "audio/ogg", "voice": True}))
    document = one(wa_message("document", {"id": "57", "filename": "x.pdf", "mime_type": "application/pdf"}))
    assert [(m.kind, m.provider_media_id) for m in voice.media] == [("voice", "56")]
    assert [(m.kind, m.filename) for m in document.media] == [("document", "x.pdf")]


def test_the_sender_is_the_business_scoped_user_and_the_wa_id_is_kept() -> None:
    result = one(wa_text("hi"))
    assert (result.peer_id, result.sender_id, result.wa_id, result.sender_name) == (USER_ID, USER_ID, WA_ID, "Sheena")
    username_user = one(wa_text("hi", user_id="US.999", wa_id=None))  # a user with a username: no phone at all
    assert (username_user.peer_id, username_user.wa_id) == ("US.999", None)


def test_a_username_and_a_parent_bsuid_are_kept_as_the_senders_identity() -> None:
    body = wa_body([wa_text("hi", user_id="US.998", wa_id=None)])
    contact = {"profile": {"name": "Sheena", "username": "@sheena"}, "user_id": "US.998",
               "parent_user_id": "US.ENT.11815799212886844830"}  # fmt: skip
    body["entry"][0]["changes"][0]["value"]["contacts"] = [contact]
    [message] = parsed(body)
    assert message.sender_identity == {"username": "@sheena", "parent_bsuid": "US.ENT.11815799212886844830"}
    assert one(wa_text("hi")).sender_identity == {}


def test_a_click_to_whatsapp_referral_is_handed_on_intact() -> None:
    referral = {"source_url": "https://fb.me/3cr4Wqqkv", "source_id": "120226305854810726", "source_type": "ad",
                "headline": "Chat with us", "body": "Summer succulents", "media_type": "image",
                "image_url": "https://x/img.jpg", "ctwa_clid": "Aff-n8ZTODiE79d22Kt",
                "welcome_message": {"text": "Hi"}}  # fmt: skip
    assert one(wa_text("Hello! Can I get more info on this?", referral=referral)).referral == referral


def test_replies_keep_the_message_they_answer() -> None:
    result = one(wa_text("this one", context={"from": "15550783881", "id": "wamid.PREVIOUS"}, timestamp="1749416383"))
    assert result.reply_to_provider_id == "wamid.PREVIOUS"
    assert result.sent_at == datetime(2025, 6, 8, 20, 59, 43, tzinfo=UTC)


def test_statuses_are_keyed_by_message_and_status() -> None:
    message_id = wamid()
    body = wa_body(statuses=[wa_status(message_id, "delivered"), wa_status(message_id, "failed", code=131047)])
    queued = split_updates(raw(body))
    assert [q.dedup_id for q in queued] == [f"{message_id}:delivered", f"{message_id}:failed"]
    delivered, failed = (WHATSAPP.parse(envelope_of(q.body))[0] for q in queued)
    assert (delivered.kind, delivered.status, delivered.error) == ("status", "delivered", None)
    assert (failed.status, failed.error and failed.error["code"]) == ("failed", 131047)
    assert failed.conversation_key == f"whatsapp:{PHONE_NUMBER_ID}:{USER_ID}"


def test_value_level_errors_and_other_fields_are_kept_as_statuses_without_a_peer() -> None:
    errors = [{"code": 131000, "title": "Something went wrong"}]
    [error] = parsed(wa_body(errors=errors))
    assert (error.kind, error.status, error.peer_id, error.error) == ("status", "error", "", errors[0])
    change = {"field": "message_template_status_update", "value": {"event": "APPROVED", "message_template_id": 7}}
    template_update = {"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [change]}]}
    [field] = parsed(template_update)
    assert (field.kind, field.status, field.peer_id) == ("status", "field:message_template_status_update", "")
    assert field.raw["value"]["event"] == "APPROVED"


def test_a_batch_is_split_per_update_and_grouped_per_conversation() -> None:
    other = "US.777"
    messages = [wa_text("a"), wa_text("b", user_id=other, wa_id="77"), wa_text("c")]
    queued = split_updates(raw(wa_body(messages)))
    assert [q.dedup_id for q in queued] == [m["id"] for m in messages]
    assert [q.group_id for q in queued] == [f"whatsapp:{PHONE_NUMBER_ID}:{u}" for u in (USER_ID, other, USER_ID)]
    contacts = [envelope_of(q.body).context["contacts"] for q in queued]
    assert [c[0]["user_id"] for c in contacts] == [USER_ID, other, USER_ID]  # each envelope carries its own contact


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"entry": "nope"}', b'{"object": 1}', b"\xff\xfe"])
def test_a_malformed_body_is_kept_raw(body: bytes) -> None:
    [queued] = split_updates(body)
    envelope = envelope_of(queued.body)
    assert (envelope.kind, envelope.raw) == ("malformed", body.decode("utf-8", "replace"))
    assert WHATSAPP.parse(envelope)[0].kind == "malformed"


def test_one_odd_item_does_not_cost_the_valid_ones() -> None:
    body = wa_body([wa_text("valid")])
    body["entry"][0]["changes"][0]["value"]["messages"].append("not an object")
    first, second = (envelope_of(q.body) for q in split_updates(raw(body)))
    assert (first.kind, first.update["text"]["body"]) == ("message", "valid")
    assert second.kind == "unsupported"


def test_an_oversized_update_is_cut_to_fit_a_queue_message_not_dropped() -> None:
    big = wa_text("x" * 2_000_000)
    [queued] = split_updates(raw(wa_body([big])))
    assert len(queued.body.encode()) < 256_000
    envelope = envelope_of(queued.body)
    assert envelope.provider_id == big["id"] and len(envelope.update["text"]["body"]) == 16_000
