"""Outbound idempotency keys: the agent's send_message is once per recipient and text (a second recipient in the same
turn is not skipped), and a client's key is matched exactly (a `%` in it matches nothing else)."""

from __future__ import annotations

from collections.abc import Callable

from clawgate.local.fakes import FakeAnthropic, FakeTelegram

from tests.channel_fixtures import environment, tenant_secrets
from tests.e2e.conftest import Client
from tests.e2e.test_operator_api import api

ClientFor = Callable[..., Client]


def test_send_message_reaches_each_recipient_once(
    client_for: ClientFor, model: FakeAnthropic, telegram: FakeTelegram
) -> None:
    client = client_for()
    to = {"channel": "telegram", "text": "The report is ready."}
    model.script_tool_use([("send_message", {**to, "peer_id": "111"}), ("send_message", {**to, "peer_id": "222"})])
    model.script_tool_use([("send_message", {**to, "peer_id": "111"})])  # the same again in the same turn
    model.script_text("sent")
    with environment(**tenant_secrets(client.tenant.slug)):
        assert client.run("director", "tell both of them").status_code == 200
    assert sorted(m["chat_id"] for m in telegram.sent_messages()) == [111, 222]


def test_a_clients_idempotency_key_is_matched_exactly(client_for: ClientFor, telegram: FakeTelegram) -> None:
    client = client_for()
    body = {"channel": "telegram", "agent": "director", "peer": "123456789"}
    with environment(**tenant_secrets(client.tenant.slug)), api(client) as http:
        first = http.post("/messages", json={**body, "text": "one"}, headers={"idempotency-key": "ab"})
        wildcard = http.post("/messages", json={**body, "text": "two"}, headers={"idempotency-key": "a%"})
        underscore = http.post("/messages", json={**body, "text": "three"}, headers={"idempotency-key": "a_"})
    assert [r.json()["sent"] for r in (first, wildcard, underscore)] == [1, 1, 1]
    assert [m["text"] for m in telegram.sent_messages()] == ["one", "two", "three"]
