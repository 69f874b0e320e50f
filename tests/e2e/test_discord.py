"""Discord through the local runtime: signed interactions in (Ed25519), the fake Discord REST API recording what
comes out. PING is answered, `/ask` gets a deferred response at once and its @original is edited with the answer,
follow-ups carry what does not fit 2,000 characters; a retried interaction and bad signatures change nothing;
everyone is a customer unless the account is an operator one and lists them; `register-commands` registers /ask."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from clawgate.channels.webhook_seal import request_url
from clawgate.cli import main
from clawgate.db import tenant_tx
from clawgate.local.fakes import FakeAnthropic, FakeDiscord
from clawgate.tenancy.apply import apply_tenant
from clawgate.tenancy.model import TenantFile
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from tests.channel_fixtures import environment
from tests.runtime import RunningRuntime

APP_ID = "1234567890123"
BOT_TOKEN = "discord-test-bot-token"
OPERATOR, STRANGER = "80351110224678912", "90351110224678913"
KEY = Ed25519PrivateKey.generate()
PUBLIC_KEY = KEY.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()


@pytest.fixture
def discord(webhook_key: str) -> Iterator[FakeDiscord]:
    with FakeDiscord(bot_token=BOT_TOKEN) as fake, environment(CLAWGATE_DISCORD_API_URL=fake.url):
        yield fake


@pytest.fixture
def discord_tenant(make_tenant: Callable[..., TenantFile]) -> Iterator[Callable[..., TenantFile]]:
    def make(**account: Any) -> TenantFile:
        app = {"application_id": APP_ID, "public_key": PUBLIC_KEY, "agent": "director", "bot_token": "secret:d/bot"}
        tenant = make_tenant(channels={"discord": [{**app, **account}]})
        apply_tenant(tenant)
        return tenant

    with environment(CLAWGATE_SECRET_D_BOT=BOT_TOKEN):
        yield make


def ask(text: str, interaction_id: str = "1100000000000000001", user: str = STRANGER) -> dict[str, Any]:
    return {"type": 2, "id": interaction_id, "application_id": APP_ID, "token": f"itoken-{interaction_id}",
            "guild_id": "7000000000000000", "channel_id": "7100000000000000", "version": 1,
            "member": {"user": {"id": user, "username": "dana", "global_name": "Dana"}},
            "data": {"id": "1", "name": "ask", "type": 1,
                     "options": [{"name": "message", "type": 3, "value": text}]}}  # fmt: skip


def post(
    local: RunningRuntime, tenant: TenantFile, body: dict[str, Any], *, key: Ed25519PrivateKey = KEY,
    url: str | None = None,
) -> httpx.Response:  # fmt: skip
    raw = json.dumps(body).encode()
    timestamp = str(int(time.time()))
    headers = {"content-type": "application/json", "x-signature-timestamp": timestamp,
               "x-signature-ed25519": key.sign(timestamp.encode() + raw).hex()}  # fmt: skip
    url = url or request_url(local.url, "discord", tenant.slug, "director", PUBLIC_KEY)
    answer = httpx.post(url, content=raw, headers=headers, timeout=30)
    assert local.runtime.queues.get("inbound").wait_idle(timeout=120)
    return answer


def rows(tenant: TenantFile, sql: str) -> list[tuple[Any, ...]]:
    with tenant_tx(tenant.slug) as conn:
        return conn.execute(sql).fetchall()


def offered(model: FakeAnthropic) -> set[str]:
    return {tool["name"] for tool in model.message_requests()[-1]["tools"]}


def test_ping_is_answered_pong(local: RunningRuntime, discord: FakeDiscord, discord_tenant: Any) -> None:
    answer = post(local, discord_tenant(), {"type": 1, "id": "1", "application_id": APP_ID, "token": "t", "version": 1})
    assert (answer.status_code, answer.json()) == (200, {"type": 1})


def test_ask_is_deferred_then_original_is_edited(
    local: RunningRuntime, discord: FakeDiscord, discord_tenant: Any, model: FakeAnthropic
) -> None:
    tenant = discord_tenant()
    model.script_text("Spend is up 12%. @everyone look!")
    answer = post(local, tenant, ask("how are the ads?"))
    assert answer.json() == {"type": 5}
    (edit,) = discord.edits()
    assert (edit["app"], edit["token"], edit["content"]) == (APP_ID, "itoken-1100000000000000001",
                                                             "Spend is up 12%. @everyone look!")  # fmt: skip
    assert edit["allowed_mentions"] == {"parse": []}  # the model's @everyone pings nobody
    assert discord.followups() == []
    assert model.message_requests()[-1]["messages"][-1]["content"][-1]["text"] == "[Dana] how are the ads?"
    assert rows(tenant, "SELECT channel, peer_id, status FROM turns") == [
        ("discord", f"7100000000000000:{STRANGER}", "succeeded")
    ]
    assert not {"db_query", "ads_set_budget"} & offered(model)  # a public server: the customer profile


def test_a_long_answer_continues_in_follow_ups(
    local: RunningRuntime, discord: FakeDiscord, discord_tenant: Any, model: FakeAnthropic
) -> None:
    tenant = discord_tenant()
    model.script_text("\n\n".join(f"Part {i}: " + "z" * 1300 for i in range(3)))
    post(local, tenant, ask("long please"))
    assert [e["content"].split(":")[0] for e in discord.edits()] == ["Part 0"]
    assert [f["content"].split(":")[0] for f in discord.followups()] == ["Part 1", "Part 2"]
    assert all(len(m["content"]) <= 2000 for m in discord.edits() + discord.followups())


def test_a_retried_interaction_changes_nothing(
    local: RunningRuntime, discord: FakeDiscord, discord_tenant: Any, model: FakeAnthropic
) -> None:
    tenant = discord_tenant()
    body = ask("once")
    for _ in range(3):
        assert post(local, tenant, body).json() == {"type": 5}
    assert len(discord.edits()) == 1 and len(model.message_requests()) == 1
    assert rows(tenant, "SELECT count(*) FROM inbound_events") == [(1,)]


@pytest.mark.parametrize("forgery", ["another key", "altered body", "no seal", "another account's seal"])
def test_a_bad_signature_is_401_and_stores_nothing(
    local: RunningRuntime, discord: FakeDiscord, discord_tenant: Any, model: FakeAnthropic, forgery: str
) -> None:
    tenant = discord_tenant()
    body, key, url = ask("let me in"), KEY, None
    if forgery == "another key":
        key = Ed25519PrivateKey.generate()
    elif forgery == "no seal":
        url = f"{local.url}/webhooks/discord/{tenant.slug}/director"
    elif forgery == "another account's seal":
        seal = request_url("", "discord", tenant.slug, "director", PUBLIC_KEY).partition("?k=")[2]
        url = f"{local.url}/webhooks/discord/{tenant.slug}/assistant?k={seal}"
    if forgery == "altered body":
        raw = json.dumps(body).encode()
        timestamp = str(int(time.time()))
        signed = KEY.sign(timestamp.encode() + raw).hex()
        answer = httpx.post(request_url(local.url, "discord", tenant.slug, "director", PUBLIC_KEY),
                            content=raw.replace(b"let me in", b"drop tables"), timeout=30,
                            headers={"x-signature-timestamp": timestamp, "x-signature-ed25519": signed})  # fmt: skip
    else:
        answer = post(local, tenant, body, key=key, url=url)
    assert answer.status_code == 401, forgery
    assert rows(tenant, "SELECT count(*) FROM inbound_events") == [(0,)]
    assert discord.requests == [] and model.message_requests() == []


def test_only_listed_users_of_an_operator_account_get_operator_tools(
    local: RunningRuntime, discord: FakeDiscord, discord_tenant: Any, model: FakeAnthropic
) -> None:
    tenant = discord_tenant(operator=True, allow_from=[OPERATOR])
    post(local, tenant, ask("budget?", "1100000000000000010", user=OPERATOR))
    assert "ads_set_budget" in offered(model)
    post(local, tenant, ask("budget?", "1100000000000000011", user=STRANGER))
    assert not {"db_query", "ads_set_budget"} & offered(model)


def test_an_operator_account_needs_its_allowlist(make_tenant: Callable[..., TenantFile]) -> None:
    with pytest.raises(ValueError, match="allow_from"):
        make_tenant(channels={"discord": [{"application_id": APP_ID, "public_key": PUBLIC_KEY, "agent": "director",
                                           "bot_token": "secret:d/bot", "operator": True}]})  # fmt: skip


def test_after_15_minutes_the_bot_posts_in_the_channel(
    local: RunningRuntime, discord: FakeDiscord, discord_tenant: Any, model: FakeAnthropic
) -> None:
    tenant = discord_tenant()
    discord.expire("itoken-1100000000000000020")
    model.script_text("Sorry for the wait.")
    post(local, tenant, ask("slow one", "1100000000000000020"))
    assert discord.edits() == []
    assert [(m["channel"], m["content"]) for m in discord.channel_messages()] == [
        ("7100000000000000", "Sorry for the wait.")
    ]


def test_register_commands_registers_ask_and_prints_a_working_url(
    local: RunningRuntime, discord: FakeDiscord, discord_tenant: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    tenant = discord_tenant()
    assert main(["channels", "discord", "register-commands", "--tenant", tenant.slug, "--agent", "director",
                 "--url", local.url]) == 0  # fmt: skip
    (command,) = discord.commands[APP_ID]
    assert command["name"] == "ask" and command["options"][0]["name"] == "message"
    assert discord.requests_to(f"/applications/{APP_ID}/commands")[0].headers["authorization"] == f"Bot {BOT_TOKEN}"
    url = capsys.readouterr().out.strip().splitlines()[-1]
    assert url.startswith(f"{local.url}/webhooks/discord/{tenant.slug}/director?k=")
    ping = {"type": 1, "id": "1", "application_id": APP_ID, "token": "t", "version": 1}
    assert post(local, tenant, ping, url=url).json() == {"type": 1}


def test_a_failed_turn_completes_original_with_the_fallback_reply(
    local: RunningRuntime, discord: FakeDiscord, discord_tenant: Any, model: FakeAnthropic
) -> None:
    tenant = discord_tenant()
    model.fail_next(400, times=10)  # the model refuses the request: no retry fixes that
    post(local, tenant, ask("hello?", "1100000000000000030"))
    (edit,) = discord.edits()
    assert edit["content"] == tenant.agent("director").fallback_reply
    assert rows(tenant, "SELECT status FROM turns") == [("failed",)]


def test_another_command_gets_a_private_notice_and_runs_nothing(
    local: RunningRuntime, discord: FakeDiscord, discord_tenant: Any, model: FakeAnthropic
) -> None:
    tenant = discord_tenant()
    other = {**ask("x"), "data": {"id": "2", "name": "admin", "type": 1, "options": []}}
    answer = post(local, tenant, other)
    assert answer.json()["type"] == 4 and answer.json()["data"]["flags"] == 64
    assert rows(tenant, "SELECT count(*) FROM inbound_events") == [(0,)]
    assert discord.requests == [] and model.message_requests() == []
