"""A channel added without touching tenancy. A throwaway adapter, registered for one test as the module
`clawgate.channels.pigeonpost`, declares what its accounts look like (`account_model`) and the id its updates route
on (`routing_ids`); the tenant file takes `channels.pigeonpost` and refuses a bad account by naming the field,
`clawgate tenants apply` routes the account to the tenant, and Ingest starts a turn for an update of it."""

from __future__ import annotations

import sys
import types
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from clawgate.agent.ingest import ingest_bodies
from clawgate.core.channels import (
    AccountModel,
    Envelope,
    InboundMessage,
    MediaRef,
    SentMessage,
    TextSink,
    account_model,
)
from clawgate.core.turns import Turn
from clawgate.db import registry_tx, tenant_tx
from clawgate.tenancy.apply import ChannelAccountTakenError, apply_tenant
from clawgate.tenancy.channel_accounts import Channels, SecretRef
from clawgate.tenancy.data.registry import account_config, find_channel_account
from clawgate.tenancy.model import TenantFileError, parse_tenant
from clawgate.tenancy.tenants import load_tenant
from pydantic import Field

from tests.conftest import tenant_data

CHANNEL = "pigeonpost"


class LoftAccount(AccountModel):
    """A pigeon loft: its own id (what its updates are addressed to) and the key of its API."""

    loft_id: str = Field(pattern=r"^L\d{3,12}$")
    api_key: SecretRef
    max_birds: int = Field(default=3, ge=1)

    def routing_ids(self, tenant: str) -> list[str]:
        return [self.loft_id]


class PigeonChannel:
    name = CHANNEL
    max_text = 140
    account_model = LoftAccount

    def parse(self, envelope: Envelope) -> list[InboundMessage]:
        peer = str(envelope.update["from"])
        return [InboundMessage(channel=CHANNEL, kind="message", account_id=envelope.account_id,
                               provider_id=envelope.provider_id, peer_id=peer,
                               conversation_key=f"{CHANNEL}:{envelope.account_id}:{peer}",
                               text=str(envelope.update["text"]))]  # fmt: skip

    def chunk(self, text: str) -> list[str]:
        return [text[i : i + self.max_text] for i in range(0, len(text), self.max_text)]

    def send_text(self, account: dict[str, Any], peer_id: str, text: str, reply_to: str | None = None, *,
                  turn: Turn | None = None) -> list[SentMessage]:  # fmt: skip
        return [SentMessage(provider_message_id=None, chunk_index=0, text=text)]

    def stream(self, turn: Turn) -> TextSink | None:
        return None

    def fetch_media(self, account: dict[str, Any], media: MediaRef, *, tenant: str) -> MediaRef:
        return media

    def show_activity(self, account: dict[str, Any], message: InboundMessage) -> None:
        return None


@pytest.fixture
def pigeonpost(monkeypatch: pytest.MonkeyPatch) -> Iterator[PigeonChannel]:
    module = types.ModuleType(f"clawgate.channels.{CHANNEL}")
    module.CHANNEL = PigeonChannel()  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, module.__name__, module)
    yield module.CHANNEL  # type: ignore[attr-defined]


def loft(slug: str, **fields: Any) -> dict[str, Any]:
    return {"loft_id": f"L{uuid.uuid4().int % 10**9}", "agent": "assistant", "api_key": f"secret:{slug}/loft",
            **fields}  # fmt: skip


def with_lofts(slug: str, *lofts: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    data = tenant_data(slug, **overrides)
    data["channels"][CHANNEL] = list(lofts)
    return data


def problems(data: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(TenantFileError) as raised:
        parse_tenant(data)
    return dict(raised.value.problems)


@pytest.mark.usefixtures("pigeonpost")
def test_the_adapters_model_validates_its_accounts_in_the_tenant_file() -> None:
    account = loft("lofts", max_birds=5)
    tenant = parse_tenant(with_lofts("lofts", account))
    [parsed] = [a for c, a in tenant.channels.accounts() if c == CHANNEL]
    assert isinstance(parsed, LoftAccount) and (parsed.loft_id, parsed.max_birds) == (account["loft_id"], 5)
    assert tenant.model_dump(mode="json")["channels"][CHANNEL] == [account]

    bad = problems(with_lofts("lofts", loft("lofts", loft_id="12", api_key="plain-key", colour="grey")))
    assert set(bad) == {
        f"channels.{CHANNEL}.0.loft_id",
        f"channels.{CHANNEL}.0.api_key",
        f"channels.{CHANNEL}.0.colour",
    }
    assert "secret:" in bad[f"channels.{CHANNEL}.0.api_key"]
    assert bad[f"channels.{CHANNEL}.0.colour"] == "Extra inputs are not permitted"
    assert problems(with_lofts("lofts", loft("lofts", agent="nobody"))) == {
        "(file)": f"channels.{CHANNEL}: agent 'nobody' is not one of the agents ['assistant', 'director']"
    }


@pytest.mark.usefixtures("pigeonpost")
def test_an_agent_may_pick_a_model_for_the_new_channel_and_not_for_a_channel_that_does_not_exist() -> None:
    data = tenant_data("lofts")
    data["agents"][0]["model_by_channel"] = {CHANNEL: "anthropic/claude-haiku-4-5"}
    assert parse_tenant(data).agents[0].model_by_channel == {CHANNEL: "anthropic/claude-haiku-4-5"}
    data["agents"][0]["model_by_channel"] = {"sms": "anthropic/claude-haiku-4-5"}
    assert "'sms' is not a channel" in problems(data)["agents.0.model_by_channel.sms.[key]"]


def test_without_its_adapter_the_channel_is_refused_as_before() -> None:
    assert account_model(CHANNEL) is None
    assert problems(with_lofts("lofts", loft("lofts"))) == {f"channels.{CHANNEL}": "Extra inputs are not permitted"}
    assert problems({**tenant_data("lofts"), "channels": {"webchat": []}}) == {
        "channels.webchat": "Extra inputs are not permitted"  # an adapter whose accounts are not in the file
    }


def test_every_typed_channel_is_its_adapters_account_model() -> None:
    typed = {name: field.annotation for name, field in Channels.model_fields.items()}
    assert typed == {name: list[account_model(name)] for name in typed}  # type: ignore[misc]


@pytest.mark.usefixtures("database", "pigeonpost")
def test_apply_routes_the_new_channels_accounts_and_ingest_starts_their_turns() -> None:
    slug = f"p{uuid.uuid4().hex[:8]}"
    account = loft(slug)
    tenant = parse_tenant(with_lofts(slug, account))
    changes = apply_tenant(tenant).changes
    assert f"channel account {CHANNEL} {account['loft_id']}" in changes
    assert f"binding {CHANNEL} {account['loft_id']} -> assistant" in changes
    assert load_tenant(slug) == tenant  # the stored file reads back through the adapter's model
    assert apply_tenant(tenant).changes == []
    with registry_tx() as conn:
        routed = find_channel_account(conn, CHANNEL, account["loft_id"])
    assert routed is not None and (routed.tenant, routed.agent_id) == (slug, "assistant")
    assert account_config(routed) == {"loft_id": account["loft_id"], "api_key": f"secret:{slug}/loft",
                                      "max_birds": 3, "account_id": account["loft_id"], "tenant": slug,
                                      "agent_id": "assistant"}  # fmt: skip

    update = Envelope(channel=CHANNEL, account_id=account["loft_id"], provider_id="coo-1",
                      update={"from": "rooftop-7", "text": "Coo? Is the loft open on Sunday?"})  # fmt: skip
    [ref] = ingest_bodies([update.model_dump_json()])
    assert ref.tenant == slug
    with tenant_tx(slug) as conn:
        turn = conn.execute("SELECT agent_id, channel, peer_id FROM turns WHERE id = %s", (ref.turn_id,)).fetchone()
    assert turn == ("assistant", CHANNEL, "rooftop-7")

    second = parse_tenant(with_lofts(f"q{uuid.uuid4().hex[:8]}", loft(slug, loft_id=account["loft_id"])))
    with pytest.raises(ChannelAccountTakenError, match=f"channels.{CHANNEL}: account {account['loft_id']}"):
        apply_tenant(second)

    removed = apply_tenant(parse_tenant(tenant_data(slug))).changes
    assert f"channel account {CHANNEL} {account['loft_id']} removed" in removed
    assert f"binding {CHANNEL} {account['loft_id']} removed" in removed
    with registry_tx() as conn:
        assert find_channel_account(conn, CHANNEL, account["loft_id"]) is None
