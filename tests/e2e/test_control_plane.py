"""The control plane over WebSocket, against the local runtime: authentication with the gateway token and a device,
approval, chat through the AgentTurn workflow with streamed deltas, the read methods, chunked frames and errors."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from clawgate.cli import main
from clawgate.db import registry_tx, tenant_tx
from clawgate.gateway import auth
from clawgate.gateway.client import ControlClient
from clawgate.gateway.data import devices
from clawgate.local.fakes import FakeAnthropic
from clawgate.meta.marketing.context import remember_account_currency
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.e2e.conftest import Client
from tests.runtime import RunningRuntime

ClientFor = Callable[..., Client]


def new_device() -> str:
    return "dev-" + uuid.uuid4().hex[:12]


def open_client(local: RunningRuntime, source: str | None = None) -> ControlClient:
    return ControlClient(local.ws_url, source_address=source, timeout=30)


def connect_operator(local: RunningRuntime, client: Client) -> tuple[ControlClient, str]:
    """A device of the tenant, approved, connected."""
    device = new_device()
    with registry_tx() as conn:
        devices.register(conn, client.tenant.slug, device, "test browser", approve=True)
    ws = open_client(local)
    welcome = ws.connect(client.tenant.slug, client.token, device)
    assert welcome["ok"], welcome
    return ws, device


@pytest.fixture
def operator(local: RunningRuntime, client_for: ClientFor) -> Iterator[tuple[Client, ControlClient, str]]:
    client = client_for()
    ws, device = connect_operator(local, client)
    with ws:
        yield client, ws, device


def assert_closed(ws: ControlClient) -> None:
    with pytest.raises(ConnectionClosed):
        ws.receive(timeout=10)


def seed_ads_data(slug: str) -> dict[str, Any]:
    """Two WhatsApp dialogs (one from an ad), three leads, CAPI events and three days of account metrics."""
    with tenant_tx(slug) as conn:
        ad_dialog = conn.execute(
            "INSERT INTO wa_dialogs (phone_number_id, user_id, wa_id, profile_name, qualification, ad_id, headline,"
            " last_message_at) VALUES ('pn1', 'u1', '77010000001', 'Dana', 'interested', 'ad_1', 'Whitening -30%',"
            " now()) RETURNING id"
        ).fetchone()[0]  # type: ignore[index]
        organic = conn.execute(
            "INSERT INTO wa_dialogs (phone_number_id, user_id, wa_id, profile_name, last_message_at)"
            " VALUES ('pn1', 'u2', '77010000002', 'Ilya', now() - interval '1 hour') RETURNING id"
        ).fetchone()[0]  # type: ignore[index]
        conn.execute(
            "INSERT INTO inbound_events (channel, account_id, provider_id, conversation_key, peer_id, payload)"
            " VALUES ('whatsapp', 'pn1', %s, 'whatsapp:pn1:u1', 'u1', %s)",
            (f"wamid.{uuid.uuid4().hex}", json.dumps({"text": "Is Saturday free?"})),
        )
        conn.execute(
            "INSERT INTO leads (source, dialog_id, wa_id, ad_id, ctwa_clid, phone, name) VALUES"
            " ('ctwa', %s, '77010000001', 'ad_1', 'clid-1', '+77010000001', 'Dana'),"
            " ('organic', %s, '77010000002', NULL, NULL, '+77010000002', 'Ilya')",
            (ad_dialog, organic),
        )
        conn.execute(
            "INSERT INTO leads (source, leadgen_id, form_id, phone, name)"
            " VALUES ('lead_form', %s, 'f1', '+7701', 'Olga')",
            (uuid.uuid4().hex,),
        )
        conn.execute(
            "INSERT INTO capi_events_log (dialog_id, level, event_name, event_id, status, sent_at) VALUES"
            " (%s, 1, 'LeadSubmitted', %s, 'sent', now()), (%s, 2, 'QualifiedLead', %s, 'failed', NULL)",
            (ad_dialog, uuid.uuid4().hex, ad_dialog, uuid.uuid4().hex),
        )
        for days_ago, spend, leads in ((2, 30, 3), (1, 20, 0), (0, 50, 5)):
            conn.execute(
                "INSERT INTO metrics_history (date, level, object_id, spend, leads, impressions, clicks)"
                " VALUES (current_date - %s::int, 'account', 'act_1', %s, %s, 1000, 10)",
                (days_ago, spend, leads),
            )
    return {"ad_dialog": ad_dialog, "organic_dialog": organic}


# --- authentication ------------------------------------------------------------------------------------------------


def test_a_wrong_token_is_rejected_and_the_socket_closed(local: RunningRuntime, client_for: ClientFor) -> None:
    client = client_for()
    source = "127.0.0.11"
    with open_client(local, source) as ws:
        answer = ws.connect(client.tenant.slug, "cgt_not-the-token", new_device())
        assert (answer["ok"], answer["error"]["code"]) == (False, "unauthorized")
        assert_closed(ws)
    with registry_tx() as conn:
        assert conn.execute("SELECT count(*) FROM auth_failures WHERE source = %s", (source,)).fetchone()[0] >= 1  # type: ignore[index]


def test_any_first_frame_but_connect_closes_the_socket(local: RunningRuntime) -> None:
    with open_client(local) as ws:
        answer = ws.request("ping")
        assert answer["error"]["code"] == "unauthenticated"
        assert_closed(ws)
    with open_client(local) as ws:
        ws.send_raw("not json")
        assert ws.receive()["error"]["code"] == "bad_frame"
        assert_closed(ws)


def test_a_silent_socket_is_closed(local: RunningRuntime, monkeypatch: pytest.MonkeyPatch) -> None:
    from clawgate.core import protocol

    monkeypatch.setattr(protocol, "CONNECT_TIMEOUT_S", 0.2)
    with open_client(local) as ws, pytest.raises(ConnectionClosed) as closed:
        ws.receive(timeout=10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008


def test_a_late_connect_frame_is_refused(local: RunningRuntime, client_for: ClientFor) -> None:
    """In AWS nothing closes a silent socket at 10 s: its connect frame, when it comes late, is refused."""
    client, source = client_for(), "127.0.0.23"
    with open_client(local, source) as ws:
        with registry_tx() as conn:
            conn.execute(
                "UPDATE ws_connections SET connected_at = now() - interval '1 minute' WHERE source_ip = %s", (source,)
            )
        answer = ws.connect(client.tenant.slug, client.token, new_device())
        assert answer["error"]["code"] == "connect_timeout"
        assert_closed(ws)


def test_a_new_device_is_pending_until_approved(local: RunningRuntime, client_for: ClientFor,
                                                capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    client, device = client_for(), new_device()
    slug = client.tenant.slug
    with open_client(local) as ws:
        answer = ws.connect(slug, client.token, device, name="Pixel 8")
        assert answer["error"]["code"] == "device_pending"
        assert f"clawgate devices approve {device} --tenant {slug}" in answer["error"]["message"]
        assert_closed(ws)
    assert main(["devices", "list", "--tenant", slug]) == 0
    assert f"{device}\tpending\tPixel 8" in capsys.readouterr().out
    with open_client(local) as ws:  # still pending: still refused
        assert ws.connect(slug, client.token, device)["error"]["code"] == "device_pending"
    assert main(["devices", "approve", device, "--tenant", slug]) == 0
    with open_client(local) as ws:
        welcome = ws.connect(slug, client.token, device)
        assert welcome["ok"] and welcome["payload"]["device"] == device
        assert [a["id"] for a in welcome["payload"]["agents"]] == ["assistant", "director"]
        assert welcome["payload"]["limits"]["max_frame_bytes"] == 32 * 1024
        assert ws.call("ping", {"echo": "hi"}) == {"pong": True, "echo": "hi"}


def test_failed_authentications_are_rate_limited_per_source(local: RunningRuntime, client_for: ClientFor) -> None:
    client, source = client_for(), "127.0.0.31"
    device = new_device()
    with registry_tx() as conn:
        devices.register(conn, client.tenant.slug, device, None, approve=True)
    for _ in range(auth.MAX_FAILURES):
        with open_client(local, source) as ws:
            assert ws.connect(client.tenant.slug, "cgt_wrong", device)["error"]["code"] == "unauthorized"
    with pytest.raises(InvalidStatus):  # refused at the handshake, even with the right token
        open_client(local, source)
    with open_client(local, "127.0.0.32") as ws:  # another source is not affected
        assert ws.connect(client.tenant.slug, client.token, device)["ok"]


def test_an_approved_device_approves_and_revokes_another(
    local: RunningRuntime, operator: tuple[Client, ControlClient, str]
) -> None:
    client, admin, _ = operator
    slug, other = client.tenant.slug, new_device()
    with open_client(local) as ws:
        assert ws.connect(slug, client.token, other)["error"]["code"] == "device_pending"
    pending = admin.call("devices.list", {"status": "pending"})["devices"]
    assert [d["device_id"] for d in pending] == [other]
    assert admin.call("devices.approve", {"device": other})["status"] == "approved"
    with open_client(local) as ws:
        assert ws.connect(slug, client.token, other)["ok"]
        assert admin.call("devices.revoke", {"device": other})["status"] == "revoked"
        assert_closed(ws)
    with open_client(local) as ws:
        assert ws.connect(slug, client.token, other)["error"]["code"] == "device_revoked"


# --- chat ----------------------------------------------------------------------------------------------------------


@pytest.mark.iam_checked  # every AWS call checked against the synthesized policies
def test_chat_send_streams_deltas_then_the_final_reply(
    local: RunningRuntime, operator: tuple[Client, ControlClient, str], model: FakeAnthropic
) -> None:
    client, ws, device = operator
    reply = "Spend is up 12% this week; cost per lead fell to $4.10. " * 3
    model.script_text(reply)
    sent = ws.call("chat.send", {"agent": "director", "text": "How are the ads doing?", "message_id": "m1"})
    assert sent["queued"] and sent["conversation"] == f"webchat:{client.tenant.slug}:{device}"
    events = ws.events_until("chat.final")
    names = [e["event"] for e in events]
    deltas = [e["payload"]["text"] for e in events if e["event"] == "chat.delta"]
    final = events[-1]["payload"]
    assert "chat.typing" in names and deltas, names
    assert final["text"] == reply and final["agent"] == "director" and final["in_reply_to"] == f"{device}:m1"
    assert reply.startswith("".join(deltas))
    assert [e["seq"] for e in events] == sorted(e["seq"] for e in events)
    request = model.message_requests()[-1]
    assert request["stream"] is True and request["model"] == "claude-opus-4-1"
    assert request["messages"][-1]["content"][0]["text"] == "How are the ads doing?"
    assert local.runtime.queues.get("inbound").wait_idle()
    with tenant_tx(client.tenant.slug) as conn:
        turn = conn.execute("SELECT channel, peer_id, status, agent_id FROM turns").fetchall()
    assert turn == [("webchat", device, "succeeded", "director")]


def test_the_history_is_there_after_a_reconnect(
    local: RunningRuntime, operator: tuple[Client, ControlClient, str], model: FakeAnthropic
) -> None:
    client, ws, device = operator
    model.script_text("Noted: budget 50 a day.")
    ws.call("chat.send", {"agent": "assistant", "text": "Set the budget to 50 a day"})
    ws.event("chat.final")
    ws.close()
    with open_client(local) as again:
        assert again.connect(client.tenant.slug, client.token, device)["ok"]
        history = again.call("chat.history", {"agent": "assistant"})["messages"]
        assert [(m["role"], m["text"]) for m in history] == [
            ("user", "Set the budget to 50 a day"),
            ("assistant", "Noted: budget 50 a day."),
        ]
        assert again.call("chat.history", {"agent": "director"})["messages"] == []
        sessions = again.call("sessions.list", {"channel": "webchat"})["items"]
        assert [(s["agent_id"], s["peer_id"], s["messages"]) for s in sessions] == [("assistant", device, 2)]
        by_id = again.call("chat.history", {"session_id": sessions[0]["id"]})["messages"]
        assert by_id == history


def test_a_reply_reaches_every_open_tab_of_the_device(
    local: RunningRuntime, operator: tuple[Client, ControlClient, str], model: FakeAnthropic
) -> None:
    client, ws, device = operator
    model.script_text("Both tabs see this.")
    with open_client(local) as second:
        assert second.connect(client.tenant.slug, client.token, device)["ok"]
        ws.call("chat.send", {"agent": "assistant", "text": "hello"})
        assert ws.event("chat.final")["payload"]["text"] == "Both tabs see this."
        assert second.event("chat.final")["payload"]["text"] == "Both tabs see this."


def test_chat_send_to_an_unknown_agent_is_refused(operator: tuple[Client, ControlClient, str]) -> None:
    _, ws, _ = operator
    answer = ws.request("chat.send", {"agent": "nobody", "text": "hi"})
    assert answer["error"]["code"] == "unknown_agent"
    assert ws.request("chat.send", {"agent": "assistant"})["error"]["code"] == "bad_params"


# --- frames --------------------------------------------------------------------------------------------------------


def test_an_unknown_method_is_an_error_frame_and_the_socket_stays(operator: tuple[Client, ControlClient, str]) -> None:
    _, ws, _ = operator
    answer = ws.request("no.such.method")
    assert (answer["ok"], answer["error"]["code"]) == (False, "unknown_method")
    assert "no.such.method" in answer["error"]["message"]
    assert ws.request("connect", {})["error"]["code"] == "already_connected"
    ws.send_raw("{broken")
    assert ws.receive()["error"]["code"] == "bad_frame"
    assert ws.call("ping") == {"pong": True, "echo": None}


def test_an_oversize_frame_is_refused_and_chunks_are_joined_both_ways(
    local: RunningRuntime, client_for: ClientFor, model: FakeAnthropic
) -> None:
    agents = [{"id": "assistant", "name": "Aliya", "max_tokens": 16_000}, {"id": "director", "name": "Klod"}]
    ws, _ = connect_operator(local, client_for(agents=agents))
    big = "Ж" * 20_000  # 40 KB of UTF-8
    ws.send_raw(json.dumps({"type": "req", "id": "big", "method": "ping", "params": {"echo": big}}, ensure_ascii=False))
    answer = ws.receive()
    assert answer["error"]["code"] == "frame_too_large"
    assert ws.call("ping") == {"pong": True, "echo": None}  # the socket stays
    assert ws.call("ping", {"echo": big})["echo"] == big  # the client sent chunk frames, the answer came in chunks
    reply = "Ответ " * 4_000  # 44 KB
    model.script_text(reply)
    ws.call("chat.send", {"agent": "assistant", "text": big})
    assert ws.event("chat.final")["payload"]["text"] == reply
    assert model.message_requests()[-1]["messages"][-1]["content"][0]["text"] == big
    assert ws.chunks_received >= 4
    ws.close()


# --- reads ---------------------------------------------------------------------------------------------------------


def test_leads_dialogs_capi_and_metrics(operator: tuple[Client, ControlClient, str]) -> None:
    client, ws, _ = operator
    seed_ads_data(client.tenant.slug)
    first = ws.call("leads.list", {"limit": 2})
    assert [lead["name"] for lead in first["items"]] == ["Olga", "Ilya"] and first["next_cursor"]
    rest = ws.call("leads.list", {"limit": 2, "cursor": first["next_cursor"]})
    assert [lead["name"] for lead in rest["items"]] == ["Dana"] and rest["next_cursor"] is None
    dana = rest["items"][0]
    assert (dana["source"], dana["ad_id"], dana["qualification"]) == ("ctwa", "ad_1", "interested")
    assert dana["last_message"] == "Is Saturday free?"
    assert [lead["name"] for lead in ws.call("leads.list", {"source": "ctwa"})["items"]] == ["Dana"]
    assert ws.request("leads.list", {"cursor": "garbage"})["error"]["code"] == "bad_params"
    dialogs = ws.call("dialogs.list", {})["items"]
    assert [(d["profile_name"], d["source"]) for d in dialogs] == [("Dana", "ctwa"), ("Ilya", "organic")]
    assert [d["profile_name"] for d in ws.call("dialogs.list", {"with_ad": False})["items"]] == ["Ilya"]
    capi = ws.call("capi.log", {"status": "failed"})["items"]
    assert [(e["level"], e["event_name"]) for e in capi] == [(2, "QualifiedLead")]
    metrics = ws.call("metrics.summary", {"days": 7})
    # leads are our own rows (three today, Dana's qualified), not Meta's counts in metrics_history
    assert [(d["spend"], d["leads"], d["cost_per_lead"]) for d in metrics["days"]] == [
        (30.0, 0, None), (20.0, 0, None), (50.0, 3, 16.67)]  # fmt: skip
    assert (metrics["spend"], metrics["leads"], metrics["currency"]) == (100.0, 3, "KZT")
    assert (metrics["qualified"], metrics["cost_per_qualified_lead"]) == (1, 100.0)
    by_ad = {row["key"]: (row["leads"], row["qualified"]) for row in metrics["by_ad"]}
    assert by_ad == {"ad_1": (1, 1)}  # Dana's ad: one lead, qualified
    remember_account_currency(client.tenant.slug, "act_1", "usd")  # what the ads tools keep once Graph told them
    assert ws.call("metrics.summary", {"days": 7})["currency"] == "USD"
    assert ws.call("metrics.conversations", {"days": 7})["currency"] == "USD"


def test_usage_against_the_budget(operator: tuple[Client, ControlClient, str], model: FakeAnthropic) -> None:
    _, ws, _ = operator
    ws.call("chat.send", {"agent": "assistant", "text": "hi"})
    ws.event("chat.final")
    usage = ws.call("usage.summary", {})
    assert usage["budget_usd"] == 20 and 0 < usage["spent_today_usd"] < 20
    assert usage["remaining_today_usd"] == pytest.approx(20 - usage["spent_today_usd"])
    assert [(u["agent_id"], u["model"], u["calls"]) for u in usage["today"]] == [("assistant", "claude-sonnet-4-5", 1)]
    assert len(usage["days"]) == 1 and usage["days"][0]["calls"] == 1
