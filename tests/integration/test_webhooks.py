"""The WhatsApp and Telegram webhooks through the local runtime: signature and secret checks, GET verification,
one envelope per update on the inbound queue, and odd bodies (2 MB, malformed, unknown types) answered without a
5xx and kept."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from clawgate.channels.telegram_webhook import webhook_secret
from clawgate.core.meta_webhooks import sign
from clawgate.local.queue import Received

from tests.channel_payloads import (
    PHONE_NUMBER_ID,
    USER_ID,
    envelope_of,
    raw,
    tg_message,
    tg_update,
    wa_body,
    wa_message,
    wa_status,
    wa_text,
    wamid,
)
from tests.conftest import TEST_APP_SECRET, TEST_VERIFY_TOKEN
from tests.runtime import RunningRuntime

Inbound = list[Received]


def post_whatsapp(local: RunningRuntime, body: bytes, signature: str | None = "sign") -> httpx.Response:
    headers = {"content-type": "application/json"}
    if signature == "sign":
        headers["x-hub-signature-256"] = sign(body, TEST_APP_SECRET)
    elif signature is not None:
        headers["x-hub-signature-256"] = signature
    return httpx.post(local.url + "/webhooks/whatsapp", content=body, headers=headers, timeout=30)


def received(local: RunningRuntime, inbound: Inbound) -> list[dict[str, Any]]:
    local.runtime.queues.get("inbound").wait_idle()
    return [json.loads(m.body) for m in inbound]


# WhatsApp ----------------------------------------------------------------------------------------------------------
def test_missing_wrong_and_tampered_signatures_are_refused_and_nothing_is_enqueued(
    local: RunningRuntime, inbound: Inbound
) -> None:
    body = raw(wa_body([wa_text("hi")]))
    tampered = body.replace(b'"hi"', b'"hI"')
    answers = [
        post_whatsapp(local, body, None),
        post_whatsapp(local, body, "sha256=" + "0" * 64),
        post_whatsapp(local, body, "md5=abc"),
        post_whatsapp(local, tampered, sign(body, TEST_APP_SECRET)),
        post_whatsapp(local, body, sign(body, "another-app-secret")),
    ]
    assert [a.status_code for a in answers] == [401] * 5
    assert received(local, inbound) == []


def test_get_verification_echoes_the_challenge_only_for_our_token(local: RunningRuntime) -> None:
    url = local.url + "/webhooks/whatsapp"
    params = {"hub.mode": "subscribe", "hub.challenge": "1158201444", "hub.verify_token": TEST_VERIFY_TOKEN}
    right = httpx.get(url, params=params)
    assert (right.status_code, right.text) == (200, "1158201444")
    for wrong in ({**params, "hub.verify_token": "guess"}, {**params, "hub.mode": "unsubscribe"}, {}):
        assert httpx.get(url, params=wrong).status_code == 403


def test_a_signed_batch_becomes_one_envelope_per_message_and_status(local: RunningRuntime, inbound: Inbound) -> None:
    sent_id = wamid()
    messages = [wa_text("first"), wa_message("image", {"id": "77", "mime_type": "image/jpeg"}), wa_text("third")]
    answer = post_whatsapp(local, raw(wa_body(messages, [wa_status(sent_id, "read")])))
    assert (answer.status_code, answer.text) == (200, "ok")
    got = received(local, inbound)
    assert [(e["kind"], e["provider_id"]) for e in got] == [
        *(("message", m["id"]) for m in messages), ("status", f"{sent_id}:read")]  # fmt: skip
    assert {m.group_id for m in inbound} == {f"whatsapp:{PHONE_NUMBER_ID}:{USER_ID}"}
    assert [envelope_of(m.body).update for m in inbound[:3]] == messages  # each update untouched


def test_the_same_webhook_three_times_is_enqueued_once(local: RunningRuntime, inbound: Inbound) -> None:
    body = raw(wa_body([wa_text("only once")]))
    assert [post_whatsapp(local, body).status_code for _ in range(3)] == [200, 200, 200]
    assert len(received(local, inbound)) == 1


def test_an_unknown_message_type_is_enqueued_raw(local: RunningRuntime, inbound: Inbound) -> None:
    odd = wa_message("hologram", {"id": "9", "depth": 3}, context={"id": "wamid.X"})
    assert post_whatsapp(local, raw(wa_body([odd]))).status_code == 200
    [envelope] = received(local, inbound)
    assert (envelope["kind"], envelope["update"]) == ("message", odd)  # parsed later as kind "event"


def test_malformed_json_is_acknowledged_and_kept(local: RunningRuntime, inbound: Inbound) -> None:
    body = b'{"object": "whatsapp_business_account", "entry": [{"changes": ['
    answer = post_whatsapp(local, body)
    assert answer.status_code == 200
    [envelope] = received(local, inbound)
    assert (envelope["kind"], envelope["raw"]) == ("malformed", body.decode())


def test_a_2_mb_batch_is_answered_without_a_5xx_and_nothing_valid_is_lost(
    local: RunningRuntime, inbound: Inbound
) -> None:
    messages = [wa_text(f"message {i} " + "lorem ipsum dolor " * 110, user_id=f"US.{i % 10}") for i in range(1000)]
    body = raw(wa_body(messages))
    assert len(body) > 2_000_000
    answer = post_whatsapp(local, body)
    assert answer.status_code == 200
    got = received(local, inbound)
    assert sorted(e["provider_id"] for e in got) == sorted(m["id"] for m in messages)
    for user in range(10):  # and per conversation in the order Meta sent them
        group = [envelope_of(m.body).update["id"] for m in inbound if m.group_id.endswith(f":US.{user}")]
        assert group == [m["id"] for m in messages if m["from_user_id"] == f"US.{user}"]


def test_a_2_mb_single_update_is_kept_cut_to_fit(local: RunningRuntime, inbound: Inbound) -> None:
    huge = wa_text("y" * 2_000_000)
    assert post_whatsapp(local, raw(wa_body([huge]))).status_code == 200
    [envelope] = received(local, inbound)
    assert envelope["provider_id"] == huge["id"] and envelope["clawgate_truncated"] is True


# Telegram ----------------------------------------------------------------------------------------------------------
def post_telegram(local: RunningRuntime, path: str, body: bytes, secret: str | None) -> httpx.Response:
    headers = {"content-type": "application/json"}
    if secret is not None:
        headers["x-telegram-bot-api-secret-token"] = secret
    return httpx.post(f"{local.url}/webhooks/telegram/{path}", content=body, headers=headers, timeout=30)


@pytest.mark.usefixtures("webhook_key")
def test_telegram_secret_right_and_wrong(local: RunningRuntime, inbound: Inbound) -> None:
    update = tg_update("message", tg_message("hello bot", chat_id=555))
    body = raw(update)
    assert post_telegram(local, "acme/director", body, None).status_code == 401
    assert post_telegram(local, "acme/director", body, "guess").status_code == 403
    assert post_telegram(local, "acme/director", body, webhook_secret("acme/assistant")).status_code == 403
    assert post_telegram(local, "Bad Slug/x", body, "x").status_code == 404
    assert received(local, inbound) == []
    answer = post_telegram(local, "acme/director?bot=acme_bot", body, webhook_secret("acme/director"))
    assert answer.status_code == 200
    assert len(received(local, inbound)) == 1
    [message] = inbound
    assert message.group_id == "telegram:acme/director:555"
    assert message.dedup_id == f"acme/director:{update['update_id']}"
    envelope = envelope_of(message.body)
    assert (envelope.kind, envelope.account_id, envelope.update) == ("message", "acme/director", update)
    assert envelope.context == {"bot_username": "acme_bot"}


@pytest.mark.usefixtures("webhook_key")
def test_telegram_malformed_and_edited_updates_are_acknowledged_and_kept(
    local: RunningRuntime, inbound: Inbound
) -> None:
    secret = webhook_secret("acme/director")
    edited = tg_update("edited_message", tg_message("fixed"))
    assert post_telegram(local, "acme/director", b"[oops", secret).status_code == 200
    assert post_telegram(local, "acme/director", raw(edited), secret).status_code == 200
    kept = sorted((e["kind"], e.get("raw")) for e in received(local, inbound))  # two groups: no order between them
    assert kept == [("edited", None), ("malformed", "[oops")]
