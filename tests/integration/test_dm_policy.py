"""DM policies (open, allowlist, pairing with `clawgate pairing approve`), delivery statuses applied to
outbound_messages, operator notifications and the Telegram CLI, against a real PostgreSQL and the fake Telegram."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from clawgate.agent.dm_policy import admit
from clawgate.agent.statuses import apply_status
from clawgate.channels.telegram_webhook import webhook_secret
from clawgate.cli import main
from clawgate.core.notify import notify_operator
from clawgate.db import registry_tx, tenant_tx
from clawgate.local.fakes import FakeTelegram
from clawgate.tenancy.apply import apply_tenant
from clawgate.tenancy.data.registry import ChannelAccount, find_channel_account
from clawgate.tenancy.model import TenantFile

from tests.channel_fixtures import environment, tenant_secrets
from tests.channel_payloads import envelope_of, raw, wa_body, wa_status, wamid
from tests.conftest import tenant_data

pytestmark = pytest.mark.usefixtures("database")
MakeTenant = Callable[..., TenantFile]
PNID = "990000000001"


def tenant_with(make_tenant: MakeTenant, whatsapp: dict[str, Any] | None = None, **telegram: Any) -> TenantFile:
    slug = f"dm{uuid.uuid4().hex[:8]}"
    data = tenant_data(slug)
    bot = {"agent": "director", "bot_token": f"secret:{slug}/telegram-director", **telegram}
    account = {"phone_number_id": str(uuid.uuid4().int % 10**12), "waba_id": "1", "agent": "assistant",
               "access_token": f"secret:{slug}/whatsapp", **(whatsapp or {})}  # fmt: skip
    tenant = make_tenant(slug, channels={"whatsapp": [account], "telegram": [bot]}, meta=data.get("meta"))
    apply_tenant(tenant)
    return tenant


def account_of(tenant: TenantFile, channel: str) -> ChannelAccount:
    [key] = getattr(tenant.channels, channel)[0].routing_ids(tenant.slug)
    with registry_tx() as conn:
        account = find_channel_account(conn, channel, key)
    assert account is not None
    return account


def message(account: ChannelAccount, sender: str, **fields: Any) -> Any:
    from clawgate.core.channels import InboundMessage

    base = {"channel": account.channel, "kind": "message", "account_id": account.account_id,
            "provider_id": uuid.uuid4().hex, "peer_id": sender, "sender_id": sender, "text": "hi",
            "conversation_key": f"{account.channel}:{account.account_id}:{sender}"}  # fmt: skip
    return InboundMessage.model_validate({**base, **fields})


def test_open_and_allowlist(make_tenant: MakeTenant) -> None:
    tenant = tenant_with(make_tenant, dm_policy="allowlist", allow_from=[123456789])
    bot, whatsapp = account_of(tenant, "telegram"), account_of(tenant, "whatsapp")
    assert admit(tenant.slug, bot, message(bot, "123456789")).allowed
    stranger = admit(tenant.slug, bot, message(bot, "999"))
    assert (stranger.allowed, stranger.notice) == (False, None)  # ignored, no answer
    group = message(bot, "-100777", sender_id="123456789", is_group=True)  # an allowed person writing in a group
    assert admit(tenant.slug, bot, group).allowed
    assert admit(tenant.slug, whatsapp, message(whatsapp, "US.1")).allowed  # whatsapp: open by default


def test_a_whatsapp_allowlist_matches_phone_numbers_however_written(make_tenant: MakeTenant) -> None:
    tenant = tenant_with(make_tenant, whatsapp={"dm_policy": "allowlist", "allow_from": ["+1 650-555-1234"]})
    account = account_of(tenant, "whatsapp")
    assert admit(tenant.slug, account, message(account, "US.5", wa_id="16505551234")).allowed
    assert not admit(tenant.slug, account, message(account, "US.6", wa_id="16505550000")).allowed


def test_pairing_gives_a_code_and_nothing_passes_until_approved(
    make_tenant: MakeTenant, capsys: pytest.CaptureFixture[str]
) -> None:
    tenant = tenant_with(make_tenant, dm_policy="pairing")
    bot = account_of(tenant, "telegram")
    first = admit(tenant.slug, bot, message(bot, "4242"))
    again = admit(tenant.slug, bot, message(bot, "4242"))
    assert not first.allowed and not again.allowed and first.notice == again.notice  # one code per sender
    code = next(word for word in (first.notice or "").split() if len(word) == 8 and word.isupper())
    assert not admit(tenant.slug, bot, message(bot, "-100", sender_id="5", is_group=True)).notice  # no codes in groups
    assert main(["pairing", "list", "--tenant", tenant.slug]) == 0
    assert code in capsys.readouterr().out
    assert main(["pairing", "approve", code.lower()]) == 0
    assert "approved: telegram" in capsys.readouterr().out
    assert admit(tenant.slug, bot, message(bot, "4242")).allowed
    assert not admit(tenant.slug, bot, message(bot, "4343")).allowed  # only that sender
    assert main(["pairing", "approve", code]) == 1
    assert "already approved" in capsys.readouterr().err


def test_an_expired_code_cannot_be_approved_and_a_new_one_is_issued(
    make_tenant: MakeTenant, capsys: pytest.CaptureFixture[str]
) -> None:
    tenant = tenant_with(make_tenant, whatsapp={"dm_policy": "pairing"})
    account = account_of(tenant, "whatsapp")
    first = admit(tenant.slug, account, message(account, "US.77")).notice or ""
    with registry_tx() as conn:
        conn.execute("UPDATE pairing_codes SET expires_at = now() - interval '1 minute' WHERE tenant_slug = %s",
                     (tenant.slug,))  # fmt: skip
    code = first.split("code is ")[1].split()[0]
    assert main(["pairing", "approve", code]) == 1
    assert "expired" in capsys.readouterr().err
    assert main(["pairing", "approve", "NOSUCHCD"]) == 1
    second = admit(tenant.slug, account, message(account, "US.77")).notice or ""
    assert second and code not in second


def outbound_row(tenant: TenantFile, provider_message_id: str, peer: str = "US.1") -> None:
    with tenant_tx(tenant.slug) as conn:
        conn.execute(
            "INSERT INTO outbound_messages (channel, account_id, peer_id, provider_message_id, idempotency_key,"
            " body, status, sent_at) VALUES ('whatsapp', %s, %s, %s, %s, 'hello', 'sent', now())",
            (PNID, peer, provider_message_id, f"test:{provider_message_id}"),
        )


def statuses(wamid_: str, *names: str, code: int | None = None) -> list[Any]:
    from clawgate.channels.whatsapp_webhook import split_updates
    from clawgate.core.channels import get_adapter

    body = wa_body(statuses=[wa_status(wamid_, n, code=code if n == "failed" else None) for n in names])
    return [get_adapter("whatsapp").parse(envelope_of(q.body))[0] for q in split_updates(raw(body))]


def row_status(tenant: TenantFile, provider_message_id: str) -> tuple[Any, ...]:
    with tenant_tx(tenant.slug) as conn:
        row = conn.execute("SELECT status, error_code FROM outbound_messages WHERE provider_message_id = %s",
                           (provider_message_id,)).fetchone()  # fmt: skip
    assert row is not None
    return tuple(row)


def test_statuses_only_move_forward(make_tenant: MakeTenant) -> None:
    tenant = tenant_with(make_tenant)
    message_id = wamid()
    outbound_row(tenant, message_id)
    with tenant_tx(tenant.slug) as conn:
        applied = [apply_status(conn, tenant.slug, s) for s in statuses(message_id, "delivered", "read", "delivered")]
    assert applied == [True, True, False] and row_status(tenant, message_id) == ("read", None)
    with tenant_tx(tenant.slug) as conn:
        assert apply_status(conn, tenant.slug, statuses(wamid(), "read")[0]) is False  # not ours: nothing to move


def test_a_131047_failure_is_recorded_and_the_operator_told(make_tenant: MakeTenant, telegram: FakeTelegram) -> None:
    tenant = tenant_with(make_tenant, dm_policy="allowlist", allow_from=[111, 222], operator=True)
    message_id = wamid()
    outbound_row(tenant, message_id, peer="US.13491208655302741918")
    with environment(**tenant_secrets(tenant.slug)), tenant_tx(tenant.slug) as conn:
        [failed] = statuses(message_id, "failed", code=131047)
        assert apply_status(conn, tenant.slug, failed) is True
        assert apply_status(conn, tenant.slug, failed) is False  # a redelivery changes nothing, tells no one
    assert row_status(tenant, message_id) == ("failed", 131047)
    notices = telegram.sent_messages()
    assert sorted(m["chat_id"] for m in notices) == [111, 222]
    assert all("131047" in m["text"] and "13491208655302741918" not in m["text"] for m in notices)


def test_operator_chats_and_no_operator(make_tenant: MakeTenant, telegram: FakeTelegram) -> None:
    with_chat = tenant_with(make_tenant, dm_policy="allowlist", allow_from=[7], operator=True)
    meta = {"ad_account_id": "act_1", "access_token": "secret:x/meta", "operator_chat_id": 9}
    plain = tenant_with(make_tenant, dm_policy="allowlist", allow_from=[8])
    with environment(**tenant_secrets(with_chat.slug), **tenant_secrets(plain.slug)):
        assert notify_operator(with_chat.slug, "budget spent") is True
        assert notify_operator(plain.slug, "nobody listens") is False
        chat_only = make_tenant(plain.slug, channels=plain.channels.model_dump(), meta=meta)
        apply_tenant(chat_only)
        assert notify_operator(plain.slug, "to the meta chat") is True
    assert [(m["chat_id"], m["text"].split(": ", 1)[1]) for m in telegram.sent_messages()] == [
        (7, "budget spent"), (9, "to the meta chat")]  # fmt: skip


@pytest.mark.usefixtures("webhook_key")
def test_set_webhook_and_status(
    make_tenant: MakeTenant, telegram: FakeTelegram, capsys: pytest.CaptureFixture[str]
) -> None:
    tenant = tenant_with(make_tenant, allow_from=[1])
    args = ["channels", "telegram", "set-webhook", "--tenant", tenant.slug, "--agent", "director"]
    with environment(**tenant_secrets(tenant.slug)):
        assert main([*args, "--url", "https://gw.example.com/"]) == 0
        assert telegram.webhook is not None
        assert telegram.webhook["url"] == (f"https://gw.example.com/webhooks/telegram/{tenant.slug}/director"
                                           f"?bot={telegram.bot_username}")  # fmt: skip
        assert telegram.webhook["secret_token"] == webhook_secret(f"{tenant.slug}/director")
        assert telegram.webhook["allowed_updates"] == ["message", "edited_message", "callback_query"]
        telegram.pending_update_count = 3
        assert main(["channels", "status", "--tenant", tenant.slug]) == 0
        assert main([*args[:-2], "--agent", "nobody", "--url", "https://x"]) == 1
    out = capsys.readouterr().out
    assert f"telegram {tenant.slug}/director: url=https://gw.example.com/webhooks/telegram/" in out
    assert "pending=3" in out and f"whatsapp {tenant.slug}: phone_number_id=" in out
    assert telegram.webhook["secret_token"] not in out
