"""The ads tests' tenant: an ad account (KZT) behind the fake Graph, a WhatsApp number, an operator bot behind the
fake Telegram, a gateway token, and a blob store of its own; plus Graph insights rows and scripted operator turns.
Import `ads_tenant` (the fixture `ads`) and the `graph`/`telegram` fixtures it uses into the test module."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from clawgate.db import tenant_tx
from clawgate.local.fakes import FakeAnthropic, FakeGraph, FakeTelegram
from clawgate.tenancy.apply import apply_tenant
from clawgate.tenancy.model import TenantFile
from clawgate.tenancy.tokens import create_token

from tests.channel_fixtures import BOT_TOKEN, WHATSAPP_TOKEN, environment, graph, telegram  # noqa: F401
from tests.e2e.conftest import Client
from tests.runtime import RunningRuntime

META_TOKEN = "EAAG-test-meta-token"
OPERATOR_CHAT = 123456789
ADSET = "23850000000000001"
CONVERSATIONS = "onsite_conversion.messaging_conversation_started_7d"


@dataclass
class Ads:
    """A tenant with an ad account (KZT), a WhatsApp number, an operator bot, and the fakes behind them."""

    tenant: TenantFile
    client: Client
    graph: FakeGraph
    telegram: FakeTelegram
    local: RunningRuntime
    account: str
    phone_number_id: str

    @property
    def slug(self) -> str:
        return self.tenant.slug

    def rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        with tenant_tx(self.slug) as conn:
            return conn.execute(sql, params).fetchall()

    def job(self, name: str, **params: str) -> dict[str, Any]:
        payload = {"tenant": self.slug, "job": name, "params": params}
        output: dict[str, Any] = self.local.runtime.state_machines.run("jobs", payload)
        return output

    def run(self, message: str) -> dict[str, Any]:
        answer = self.client.run("director", message, session="ops")
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    def tool_results(self, turn_id: int) -> list[tuple[str, str, Any]]:
        return self.rows("SELECT name, status, result FROM tool_calls WHERE turn_id = %s ORDER BY id", turn_id)


@pytest.fixture(name="ads")
def ads_tenant(
    local: RunningRuntime,
    model: FakeAnthropic,
    graph: FakeGraph,  # noqa: F811
    telegram: FakeTelegram,  # noqa: F811
    make_tenant: Callable[..., TenantFile],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> Iterator[Ads]:
    unique = str(uuid.uuid4().int)[:10]
    slug, account, phone_number_id = f"ads_{unique}", f"act_{unique}", f"8{unique}"
    for name, value in (("WHATSAPP", WHATSAPP_TOKEN), ("TELEGRAM_DIRECTOR", BOT_TOKEN), ("META", META_TOKEN)):
        monkeypatch.setenv(f"CLAWGATE_SECRET_{slug.upper()}_{name}", value)
    tenant = make_tenant(
        slug,
        channels={
            "whatsapp": [{"phone_number_id": phone_number_id, "waba_id": "102290129340398", "agent": "assistant",
                          "access_token": f"secret:{slug}/whatsapp"}],
            "telegram": [{"agent": "director", "bot_token": f"secret:{slug}/telegram-director",
                          "dm_policy": "allowlist", "allow_from": [OPERATOR_CHAT], "operator": True}],
        },
        meta={"ad_account_id": account, "page_id": f"15{unique}", "access_token": f"secret:{slug}/meta"},
        ads={"daily_budget_cap": 50000, "account_daily_cap": 200000, "agent": "director"},
    )  # fmt: skip
    apply_tenant(tenant)
    client = Client(tenant, create_token(slug), local.url)
    graph.add_object(account, "adaccount", name="Acme KZ", currency="KZT", timezone_name="Asia/Almaty",
                     account_status=1)  # fmt: skip
    with environment(CLAWGATE_DATA_DIR=str(tmp_path)):  # the blob store (creatives, report charts)
        yield Ads(tenant, client, graph, telegram, local, account, phone_number_id)


def insight(level: str, object_id: str, day: date, **numbers: Any) -> dict[str, Any]:
    """A Graph insights row as Graph sends it: every number a string, leads inside `actions`."""
    leads, conversations = numbers.pop("leads", 0), numbers.pop("conversations", 0)
    actions = [{"action_type": "link_click", "value": str(numbers.get("clicks", 0))}]
    actions += [{"action_type": "lead", "value": str(leads)}] if leads else []
    if conversations:
        actions.append({"action_type": CONVERSATIONS, "value": str(conversations)})
    ids = {"campaign_id": "c1", "adset_id": ADSET} | ({"ad_id": object_id} if level == "ad" else {})
    return {"date_start": day.isoformat(), "date_stop": day.isoformat(), **ids, f"{level}_id": object_id,
            f"{level}_name": f"{level} {object_id}", "actions": actions,
            **{key: str(value) for key, value in numbers.items()}}  # fmt: skip


def operator_turn(ads: Ads, model: FakeAnthropic, *calls: tuple[str, dict[str, Any]]) -> list[tuple[str, str, Any]]:
    """One operator turn whose model asks for each call in turn, then answers; the turn's tool calls."""
    for call in calls:
        model.script_tool_use([call])
    model.script_text("Done.")
    body = ads.run("operator request")
    assert body["status"] == "succeeded", body
    return ads.tool_results(body["turn_id"])
