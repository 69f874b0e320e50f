"""The seed user's set-up through real webhooks: a director and an assistant, each behind its own Telegram bot,
answered by their own models with their own personas; non-message updates never start a turn; a long reply that
fails half-way is finished on retry without sending any chunk twice."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from clawgate.channels.telegram_webhook import webhook_secret
from clawgate.db import tenant_tx
from clawgate.local.fakes import FakeAnthropic, FakeTelegram, RecordedRequest, Response
from clawgate.tenancy.apply import apply_tenant
from clawgate.tenancy.model import TenantFile

from tests.channel_fixtures import environment
from tests.channel_payloads import tg_message, tg_update
from tests.runtime import RunningRuntime

DIRECTOR_BOT = "7000000001:AAdirector"
ASSISTANT_BOT = "7000000002:AAassistant"
OPERATOR = 123456789


@pytest.fixture
def bots(webhook_key: str) -> Iterator[FakeTelegram]:
    with FakeTelegram() as fake, environment(CLAWGATE_TELEGRAM_API_URL=fake.url):
        yield fake


@pytest.fixture
def seed_tenant(make_tenant: Callable[..., TenantFile]) -> Iterator[TenantFile]:
    bot = {"dm_policy": "allowlist", "allow_from": [OPERATOR], "operator": True}
    tenant = make_tenant(
        agents=[
            {"id": "director", "name": "Klod", "model": "anthropic/claude-opus-4-1", "max_tokens": 4000},
            {"id": "assistant", "name": "Aliya", "model": "anthropic/claude-haiku-4-5"},
        ],
        channels={"telegram": [
            {"agent": "director", "bot_token": "secret:seed/director-bot", **bot},
            {"agent": "assistant", "bot_token": "secret:seed/assistant-bot", **bot},
        ]},
    )  # fmt: skip
    apply_tenant(tenant)
    with tenant_tx(tenant.slug) as conn:  # each agent its own persona, as the operator wrote it
        conn.execute("UPDATE workspace_files SET content = 'You direct the ads. Be blunt.', updated_by = 'operator'"
                     " WHERE agent_id = 'director' AND name = 'SOUL.md'")  # fmt: skip
    with environment(CLAWGATE_SECRET_SEED_DIRECTOR_BOT=DIRECTOR_BOT, CLAWGATE_SECRET_SEED_ASSISTANT_BOT=ASSISTANT_BOT):
        yield tenant


def post(local: RunningRuntime, tenant: TenantFile, agent: str, update: dict[str, Any]) -> None:
    account = f"{tenant.slug}/{agent}"
    answer = httpx.post(
        f"{local.url}/webhooks/telegram/{account}",
        content=json.dumps(update).encode(),
        headers={"x-telegram-bot-api-secret-token": webhook_secret(account), "content-type": "application/json"},
        timeout=30,
    )
    assert answer.status_code == 200
    assert local.runtime.queues.get("inbound").wait_idle(timeout=120)


def sent_by(bots: FakeTelegram, token: str) -> list[str]:
    return [str(r.params["text"]) for r in bots.requests_to(f"/bot{token}/sendMessage")]


def test_two_agents_each_behind_its_own_bot(
    local: RunningRuntime, seed_tenant: TenantFile, bots: FakeTelegram, model: FakeAnthropic
) -> None:
    model.script_text("Director: cut the budget.")
    post(local, seed_tenant, "director", tg_update("message", tg_message("How are the ads?")))
    model.script_text("Assistant: your dentist is at 10.")
    post(local, seed_tenant, "assistant", tg_update("message", tg_message("What's on today?")))
    assert sent_by(bots, DIRECTOR_BOT) == ["Director: cut the budget."]
    assert sent_by(bots, ASSISTANT_BOT) == ["Assistant: your dentist is at 10."]
    director, assistant = model.message_requests()
    assert (director["model"], assistant["model"]) == ("claude-opus-4-1", "claude-haiku-4-5")
    assert "Be blunt." in director["system"][0]["text"] and "Be blunt." not in assistant["system"][0]["text"]
    assert "Klod" in director["system"][0]["text"] and "Aliya" in assistant["system"][0]["text"]
    assert "db_query" in {t["name"] for t in director["tools"]}  # an operator bot gets operator tools


def test_a_non_message_update_never_starts_a_turn(
    local: RunningRuntime, seed_tenant: TenantFile, bots: FakeTelegram, model: FakeAnthropic
) -> None:
    added = {"chat": {"id": -100777, "type": "group"}, "from": {"id": OPERATOR, "first_name": "Ivan"}, "date": 1,
             "old_chat_member": {"status": "left"}, "new_chat_member": {"status": "member"}}  # fmt: skip
    post(local, seed_tenant, "director", tg_update("my_chat_member", added))
    with tenant_tx(seed_tenant.slug) as conn:
        assert conn.execute("SELECT kind, turn_id FROM inbound_events").fetchall() == [("event", None)]
        assert conn.execute("SELECT count(*) FROM turns").fetchone() == (0,)
    assert model.message_requests() == [] and sent_by(bots, DIRECTOR_BOT) == []


class SecondSendFails(FakeTelegram):
    """Refuses the second sendMessage it receives (a 502 from Telegram), then behaves."""

    def handle(self, request: RecordedRequest) -> Response:
        if request.path.endswith("/sendMessage"):
            self.sends += 1
            if self.sends == 2:
                return Response.json({"ok": False, "error_code": 502, "description": "Bad Gateway"}, 502)
        return super().handle(request)


def test_a_reply_that_fails_half_way_is_finished_without_repeating_a_chunk(
    local: RunningRuntime,
    seed_tenant: TenantFile,
    model: FakeAnthropic,
    webhook_key: str,
) -> None:
    with SecondSendFails() as flaky, environment(CLAWGATE_TELEGRAM_API_URL=flaky.url):
        flaky.sends = 0
        model.script_text("\n\n".join(f"Part {i}: " + "x" * 3000 for i in range(3)))
        post(local, seed_tenant, "director", tg_update("message", tg_message("Write me a long report")))
        attempts = [text.split(":")[0] for text in sent_by(flaky, DIRECTOR_BOT)]
    assert attempts == ["Part 0", "Part 1", "Part 1", "Part 2"]  # the refused chunk again, nothing else twice
    assert len(model.message_requests()) == 1
    with tenant_tx(seed_tenant.slug) as conn:
        chunks = conn.execute("SELECT chunk_index, status FROM outbound_messages ORDER BY chunk_index").fetchall()
        assert chunks == [(0, "sent"), (1, "sent"), (2, "sent")]
        assert conn.execute("SELECT status FROM turns").fetchall() == [("succeeded",)]
