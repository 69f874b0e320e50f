"""WhatsApp addressing end to end: a signed webhook in, the reply out at the fake Graph. A reply goes `to` the
person's phone whenever Meta shared one, by `recipient` (the BSUID) only for a username user without a phone; error
131062 falls back to a phone known from elsewhere, or is recorded and told to the operator; `user_changed_user_id`
moves the conversation, history and all."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from clawgate.core.meta_webhooks import sign
from clawgate.db import tenant_tx
from clawgate.local.fakes import FakeAnthropic, FakeGraph, FakeTelegram
from clawgate.tenancy.apply import apply_tenant
from clawgate.tenancy.model import TenantFile

from tests.channel_fixtures import environment, tenant_secrets
from tests.channel_payloads import raw, wa_body, wa_message, wa_text, wamid
from tests.conftest import TEST_APP_SECRET, tenant_data
from tests.runtime import RunningRuntime

OPERATOR_CHAT = 123456789


@pytest.fixture
def tenant(make_tenant: Callable[..., TenantFile]) -> Iterator[TenantFile]:
    slug = f"t{uuid.uuid4().hex[:8]}"
    channels = tenant_data(slug)["channels"]
    channels["telegram"][0]["operator"] = True  # its allow_from chat is told what could not be delivered
    made = make_tenant(slug, channels=channels)
    apply_tenant(made)
    with environment(**tenant_secrets(made.slug)):
        yield made


def post(local: RunningRuntime, tenant: TenantFile, messages: list[dict[str, Any]]) -> None:
    data = raw(wa_body(messages, phone_number_id=tenant.channels.whatsapp[0].phone_number_id))
    headers = {"x-hub-signature-256": sign(data, TEST_APP_SECRET), "content-type": "application/json"}
    assert httpx.post(local.url + "/webhooks/whatsapp", content=data, headers=headers, timeout=30).status_code == 200
    assert local.runtime.queues.get("inbound").wait_idle(timeout=120)


def rows(tenant: TenantFile, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with tenant_tx(tenant.slug) as conn:
        return conn.execute(sql, params).fetchall()


def test_a_reply_goes_to_the_phone_when_meta_shared_it_and_never_by_bsuid(
    local: RunningRuntime, tenant: TenantFile, graph: FakeGraph, model: FakeAnthropic
) -> None:
    model.script_text("Hello Sheena")
    post(local, tenant, [wa_text("hi", user_id="US.100", wa_id="77010000100")])
    [sent] = graph.sent_whatsapp()
    assert sent["to"] == "77010000100" and "recipient" not in sent
    assert rows(tenant, "SELECT bsuid, wa_id, name FROM people") == [("US.100", "77010000100", "Sheena")]
    identities = rows(tenant, "SELECT kind, external_id FROM person_identities ORDER BY kind")
    assert identities == [("bsuid", "US.100"), ("wa_id", "77010000100")]


def test_a_phone_learnt_once_is_kept_when_later_messages_come_without_it(
    local: RunningRuntime, tenant: TenantFile, graph: FakeGraph, model: FakeAnthropic
) -> None:
    model.script_text("one")
    post(local, tenant, [wa_text("hi", user_id="US.101", wa_id="77010000101")])
    model.script_text("two")
    post(local, tenant, [wa_text("again", user_id="US.101", wa_id=None)])
    assert [(s.get("to"), s.get("recipient")) for s in graph.sent_whatsapp()] == [("77010000101", None)] * 2


def test_a_username_user_without_a_phone_is_addressed_by_bsuid(
    local: RunningRuntime, tenant: TenantFile, graph: FakeGraph, model: FakeAnthropic
) -> None:
    model.script_text("Hi there")
    post(local, tenant, [wa_text("hello", user_id="US.102", wa_id=None)])
    [sent] = graph.sent_whatsapp()
    assert sent["recipient"] == "US.102" and "to" not in sent


def test_131062_falls_back_to_a_phone_known_from_elsewhere(
    local: RunningRuntime, tenant: TenantFile, graph: FakeGraph, model: FakeAnthropic
) -> None:
    post(local, tenant, [wa_text("hello", user_id="US.103", wa_id=None)])  # answered by BSUID, accepted
    rows(tenant, "UPDATE people SET phone = '+7 701 000 0103' WHERE bsuid = 'US.103' RETURNING id")
    graph.refuse_bsuid = True
    model.script_text("Your code is 1234")
    post(local, tenant, [wa_text("send me the code", user_id="US.103", wa_id=None)])
    last = graph.sent_whatsapp()[-1]
    assert (last["to"], last.get("recipient"), last["text"]["body"]) == ("77010000103", None, "Your code is 1234")
    assert rows(tenant, "SELECT status FROM outbound_messages ORDER BY id DESC LIMIT 1") == [("sent",)]


def test_131062_without_any_phone_is_recorded_and_told_to_the_operator(
    local: RunningRuntime, tenant: TenantFile, graph: FakeGraph, telegram: FakeTelegram, model: FakeAnthropic
) -> None:
    graph.refuse_bsuid = True
    model.script_text("Your code is 1234")
    post(local, tenant, [wa_text("send me the code", user_id="US.104", wa_id=None)])
    assert graph.sent_whatsapp() == []
    assert rows(tenant, "SELECT status, error_code FROM outbound_messages") == [("failed", 131062)]
    [notice] = telegram.sent_messages(OPERATOR_CHAT)
    assert "131062" in notice["text"] and "no phone number is known" in notice["text"]


def test_user_changed_user_id_moves_the_conversation_and_keeps_its_history(
    local: RunningRuntime, tenant: TenantFile, graph: FakeGraph, model: FakeAnthropic
) -> None:
    model.script_text("first answer")
    post(local, tenant, [wa_text("my first message", user_id="US.105", wa_id=None)])
    system = {"body": "User Sheena changed", "type": "user_changed_user_id", "user_id": "US.205"}
    notice = {"from_user_id": "US.105", "id": wamid(), "timestamp": "1749416400", "type": "system", "system": system}
    post(local, tenant, [notice])
    model.script_text("second answer")
    post(local, tenant, [wa_text("it is me again", user_id="US.205", wa_id=None)])
    assert [s["recipient"] for s in graph.sent_whatsapp()] == ["US.105", "US.205"]
    assert rows(tenant, "SELECT peer_id FROM sessions") == [("US.205",)]  # one session: the history came along
    texts = rows(tenant, "SELECT m.text FROM messages m ORDER BY m.id")
    assert [t for (t,) in texts] == ["my first message", "first answer", "it is me again", "second answer"]
    assert rows(tenant, "SELECT user_id, messages_in FROM wa_dialogs") == [("US.205", 2)]
    assert rows(tenant, "SELECT bsuid FROM people") == [("US.205",)]
    assert rows(tenant, "SELECT DISTINCT peer_id FROM inbound_events WHERE kind = 'message'") == [("US.205",)]


def test_a_system_notice_replayed_moves_nothing_twice(
    local: RunningRuntime, tenant: TenantFile, graph: FakeGraph, model: FakeAnthropic
) -> None:
    post(local, tenant, [wa_text("hello", user_id="US.106", wa_id=None)])
    notice = wa_message("system", {"body": "changed", "type": "user_changed_user_id", "user_id": "US.206"},
                        user_id="US.106", wa_id=None)  # fmt: skip
    post(local, tenant, [notice])
    post(local, tenant, [notice])
    assert rows(tenant, "SELECT count(*) FROM inbound_events WHERE kind = 'status'") == [(1,)]
    assert rows(tenant, "SELECT peer_id FROM sessions") == [("US.206",)]
