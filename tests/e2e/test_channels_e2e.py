"""Messengers end to end through the local runtime: a signed WhatsApp webhook or a Telegram update in, the AgentTurn
state machine with the fake model, the reply out at the fake Graph / Telegram server, rows in the tenant schema."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from clawgate.channels.telegram_webhook import webhook_secret
from clawgate.cli import main
from clawgate.core.meta_webhooks import sign
from clawgate.db import tenant_tx
from clawgate.local.fakes import FakeAnthropic, FakeGraph, FakeOpenAI, FakeTelegram
from clawgate.tenancy.apply import apply_tenant
from clawgate.tenancy.model import TenantFile

from tests.channel_fixtures import environment, tenant_secrets
from tests.channel_payloads import raw, tg_message, tg_update, wa_body, wa_message, wa_status, wa_text
from tests.conftest import TEST_APP_SECRET
from tests.runtime import RunningRuntime


@pytest.fixture
def tenant(make_tenant: Callable[..., TenantFile], request: pytest.FixtureRequest) -> Iterator[TenantFile]:
    overrides: dict[str, Any] = getattr(request, "param", {})
    made = make_tenant(**overrides)
    apply_tenant(made)
    with environment(**tenant_secrets(made.slug)):
        yield made


def pnid(tenant: TenantFile) -> str:
    return tenant.channels.whatsapp[0].phone_number_id


def post_whatsapp(local: RunningRuntime, body: dict[str, Any]) -> None:
    data = raw(body)
    headers = {"x-hub-signature-256": sign(data, TEST_APP_SECRET), "content-type": "application/json"}
    answer = httpx.post(local.url + "/webhooks/whatsapp", content=data, timeout=30, headers=headers)
    assert answer.status_code == 200


def post_telegram(local: RunningRuntime, tenant: TenantFile, update: dict[str, Any], bot: str = "bot") -> None:
    account = f"{tenant.slug}/director"
    answer = httpx.post(f"{local.url}/webhooks/telegram/{account}?bot={bot}", content=raw(update), timeout=30,
                        headers={"x-telegram-bot-api-secret-token": webhook_secret(account)})  # fmt: skip
    assert answer.status_code == 200


def settle(local: RunningRuntime) -> None:
    assert local.runtime.queues.get("inbound").wait_idle(timeout=120)


def rows(tenant: TenantFile, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with tenant_tx(tenant.slug) as conn:
        return conn.execute(sql, params).fetchall()


# WhatsApp ----------------------------------------------------------------------------------------------------------
def test_the_same_webhook_three_times_gives_one_turn_and_one_reply(
    local: RunningRuntime, tenant: TenantFile, graph: FakeGraph, model: FakeAnthropic
) -> None:
    model.script_text("Yes, tomorrow at 10 or 15.")
    message = wa_text("Do you have free slots tomorrow?")
    for _ in range(3):
        post_whatsapp(local, wa_body([message], phone_number_id=pnid(tenant)))
    settle(local)
    # As if SQS's five-minute window had passed: the database is the long-term deduplication.
    local.runtime.queues.get("inbound").forget_deduplication()
    post_whatsapp(local, wa_body([message], phone_number_id=pnid(tenant)))
    settle(local)
    assert [b["text"]["body"] for b in graph.sent_whatsapp()] == ["Yes, tomorrow at 10 or 15."]
    assert [r["message_id"] for r in graph.read_receipts] == [message["id"]]  # read + typing while the model works
    assert rows(tenant, "SELECT count(*) FROM turns") == [(1,)]
    assert rows(tenant, "SELECT count(*) FROM inbound_events") == [(1,)]
    assert rows(tenant, "SELECT status FROM outbound_messages") == [("sent",)]


def test_50_messages_over_10_conversations_keep_their_order(
    local: RunningRuntime, tenant: TenantFile, graph: FakeGraph, model: FakeAnthropic
) -> None:
    users = [f"US.{9000 + i}" for i in range(10)]
    sent: dict[str, list[str]] = {user: [] for user in users}
    for round_ in range(5):  # five webhook POSTs, each with one message of every conversation
        batch = [wa_text(f"{user} message {round_}", user_id=user, wa_id=None) for user in users]
        for user, message in zip(users, batch, strict=True):
            sent[user].append(message["text"]["body"])
        post_whatsapp(local, wa_body(batch, phone_number_id=pnid(tenant)))
    settle(local)
    for user in users:
        stored = rows(tenant, "SELECT payload->>'text' FROM inbound_events WHERE peer_id = %s ORDER BY id", user)
        assert [r[0] for r in stored] == sent[user]
        transcript = rows(tenant, "SELECT m.content FROM messages m JOIN sessions s ON s.id = m.session_id"
                                  " WHERE s.peer_id = %s AND m.role = 'user' ORDER BY m.id", user)  # fmt: skip
        assert [block["text"] for r in transcript for block in r[0]] == sent[user]
        replies = [b["text"]["body"] for b in graph.sent_whatsapp() if b.get("recipient") == user]
        answered = [int(n) for reply in replies for n in re.findall(r"message (\d)", reply)]  # the fake echoes
        assert answered == [0, 1, 2, 3, 4]  # every message answered, replies in message order


def test_a_burst_while_a_turn_runs_is_answered_once_with_all_of_it(
    local: RunningRuntime, tenant: TenantFile, graph: FakeGraph, model: FakeAnthropic
) -> None:
    started, release = threading.Event(), threading.Event()

    def slow_first_answer(body: dict[str, Any]) -> str | None:
        if not started.is_set():
            started.set()
            release.wait(10)
            return "Hello! One moment."
        return None

    model.responder = slow_first_answer
    account = pnid(tenant)
    post_whatsapp(local, wa_body([wa_text("Hi")], phone_number_id=account))
    assert started.wait(10)
    for text in ("I want whitening", "how much is it", "and tomorrow?"):  # three bubbles while the model works
        post_whatsapp(local, wa_body([wa_text(text)], phone_number_id=account))
    release.set()
    settle(local)
    replies = [b["text"]["body"] for b in graph.sent_whatsapp()]
    assert replies == ["Hello! One moment.", "fake reply to: I want whitening how much is it and tomorrow?"]
    last_request = model.message_requests()[-1]["messages"][-1]["content"]
    assert [block["text"] for block in last_request] == ["I want whitening", "how much is it", "and tomorrow?"]
    assert rows(tenant, "SELECT count(*) FROM turns") == [(2,)]


def test_delivery_statuses_reach_the_outbound_rows(
    local: RunningRuntime, tenant: TenantFile, graph: FakeGraph, model: FakeAnthropic
) -> None:
    post_whatsapp(local, wa_body([wa_text("hello")], phone_number_id=pnid(tenant)))
    settle(local)
    [reply] = graph.sent_whatsapp()
    post_whatsapp(local, wa_body(statuses=[wa_status(reply["wamid"], s) for s in ("delivered", "read")],
                                 phone_number_id=pnid(tenant)))  # fmt: skip
    settle(local)
    assert rows(tenant, "SELECT status FROM outbound_messages WHERE provider_message_id = %s", reply["wamid"]) == [
        ("read",)]  # fmt: skip


# Telegram ----------------------------------------------------------------------------------------------------------
@pytest.mark.usefixtures("webhook_key")
def test_a_telegram_update_is_answered_in_its_chat_and_strangers_are_ignored(
    local: RunningRuntime, tenant: TenantFile, telegram: FakeTelegram, model: FakeAnthropic
) -> None:
    model.script_text("CPL is **$4.10** today.")
    post_telegram(local, tenant, tg_update("message", tg_message("What is the CPL?")))  # 123456789 is allowed
    post_telegram(local, tenant, tg_update("message", tg_message("let me in", chat_id=666, user_id=666)))
    settle(local)
    assert [(m["chat_id"], m["text"]) for m in telegram.sent_messages()] == [(123456789, "CPL is *$4.10* today.")]
    assert telegram.chat_actions == [{"chat_id": 123456789, "action": "typing"}]
    assert len(model.message_requests()) == 1


@pytest.mark.usefixtures("webhook_key")
def test_in_a_group_the_bot_answers_only_when_mentioned(
    local: RunningRuntime, tenant: TenantFile, telegram: FakeTelegram, model: FakeAnthropic
) -> None:
    def group(text: str, **extra: Any) -> dict[str, Any]:
        return tg_update("message", tg_message(text, chat_id=-100555, chat_type="supergroup", **extra))

    post_telegram(local, tenant, group("lunch anyone?"), bot="klod_bot")
    mention = [{"type": "mention", "offset": 0, "length": 9}]
    post_telegram(local, tenant, group("@klod_bot spend today?", entities=mention), bot="klod_bot")
    settle(local)
    assert [m["text"] for m in telegram.sent_messages(-100555)] == ["fake reply to: [Ivan] @klod_bot spend today?"]


PAIRING_BOT = {"agent": "director", "bot_token": "secret:x/telegram-director", "dm_policy": "pairing"}


@pytest.mark.usefixtures("webhook_key")
@pytest.mark.parametrize("tenant", [{"channels": {"telegram": [PAIRING_BOT]}}], indirect=True)
def test_pairing_end_to_end(
    local: RunningRuntime, tenant: TenantFile, telegram: FakeTelegram, model: FakeAnthropic
) -> None:
    with environment(CLAWGATE_SECRET_X_TELEGRAM_DIRECTOR=tenant_secrets(tenant.slug)[
            f"CLAWGATE_SECRET_{tenant.slug.upper()}_TELEGRAM_DIRECTOR"]):  # fmt: skip
        post_telegram(local, tenant, tg_update("message", tg_message("hello?", chat_id=31337, user_id=31337)))
        settle(local)
        [notice] = telegram.sent_messages(31337)
        code = notice["text"].split("code is ")[1].split()[0]
        assert model.message_requests() == []  # nothing reached the agent
        assert main(["pairing", "approve", code]) == 0
        post_telegram(local, tenant, tg_update("message", tg_message("now?", chat_id=31337, user_id=31337)))
        settle(local)
    assert [m["text"] for m in telegram.sent_messages(31337)][1:] == ["fake reply to: now?"]


def test_inbound_media_is_kept_in_the_blob_store(
    local: RunningRuntime, tenant: TenantFile, graph: FakeGraph, model: FakeAnthropic
) -> None:
    from clawgate.core.blobs import blob_store

    picture = b"\x89PNG\r\n\x1a\n" + b"\x00" * 2048
    graph.add_media("media-777", picture, "image/png")
    message = wa_message("image", {"id": "media-777", "mime_type": "image/png", "sha256": "x", "caption": "my tooth"})
    post_whatsapp(local, wa_body([message], phone_number_id=pnid(tenant)))
    settle(local)
    [(media,)] = rows(tenant, "SELECT payload->'media' FROM inbound_events")
    assert media[0]["size_bytes"] == len(picture)
    assert blob_store().get(media[0]["blob_key"]) == picture
    assert "my tooth" in model.message_requests()[-1]["messages"][-1]["content"][0]["text"]


@pytest.mark.iam_checked  # every AWS call checked against the synthesized policies
def test_a_voice_note_reaches_the_model_as_its_transcript(
    local: RunningRuntime, make_tenant: Callable[..., TenantFile], graph: FakeGraph, model: FakeAnthropic
) -> None:
    with FakeOpenAI() as whisper:
        whisper.transcript = "Can I book a cleaning on Friday?"
        voiced = make_tenant(transcription={"base_url": f"{whisper.url}/v1", "model": "whisper-large-v3"})
        apply_tenant(voiced)
        graph.add_media("voice-1", b"OggS" + b"\x00" * 512, "audio/ogg")
        note = wa_message("audio", {"id": "voice-1", "mime_type": "audio/ogg; codecs=opus", "voice": True})
        with environment(**tenant_secrets(voiced.slug)):
            post_whatsapp(local, wa_body([note], phone_number_id=pnid(voiced)))
            settle(local)
        (upload,) = whisper.transcription_requests()
    assert upload.form["model"] == "whisper-large-v3" and upload.files["file"].data.startswith(b"OggS")
    said = model.message_requests()[-1]["messages"][-1]["content"][0]["text"]
    assert "Transcript: Can I book a cleaning on Friday?" in said
    assert rows(voiced, "SELECT payload->>'text' FROM inbound_events")[0][0] == said


def test_a_message_whose_turn_failed_to_start_is_answered_when_meta_redelivers_it(
    local: RunningRuntime, tenant: TenantFile, graph: FakeGraph, model: FakeAnthropic, database: str
) -> None:
    import psycopg

    role = f"tenant_{tenant.slug}_rw"
    message = wa_text("Are you open on Sunday?")
    with psycopg.connect(database, autocommit=True) as admin:
        admin.execute(f'REVOKE INSERT ON tenant_{tenant.slug}.turns FROM "{role}"')  # Ingest dies mid-way
        try:
            post_whatsapp(local, wa_body([message], phone_number_id=pnid(tenant)))
            settle(local)
        finally:
            admin.execute(f'GRANT INSERT ON tenant_{tenant.slug}.turns TO "{role}"')
    assert rows(tenant, "SELECT turn_id, processed_at FROM inbound_events") == [(None, None)]  # kept, unanswered
    model.script_text("Yes, 10 to 14.")
    local.runtime.queues.get("inbound").forget_deduplication()  # Meta retries after SQS's deduplication window
    post_whatsapp(local, wa_body([message], phone_number_id=pnid(tenant)))
    settle(local)
    assert [b["text"]["body"] for b in graph.sent_whatsapp()] == ["Yes, 10 to 14."]
    assert rows(tenant, "SELECT count(*) FROM turns") == [(1,)]
    assert rows(tenant, "SELECT messages_in FROM wa_dialogs") == [(1,)]  # the dialog counted it once
