"""Agent turns through the local runtime: the run API starts the AgentTurn state machine (the ASL CDK deploys),
whose steps call the fake model through the real anthropic SDK and leave every effect in PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from clawgate.agent.budget import OPERATOR_REPLY
from clawgate.agent.model_step import STEP_LIMIT_REPLY
from clawgate.db import tenant_tx
from clawgate.local.fakes import FakeAnthropic

from tests.e2e.conftest import Client
from tests.runtime import RunningRuntime

ClientFor = Callable[..., Client]


def rows(client: Client, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with tenant_tx(client.tenant.slug) as conn:
        return conn.execute(sql, params).fetchall()


def agents(**assistant: Any) -> list[dict[str, Any]]:
    return [
        {"id": "assistant", "name": "Aliya", "model": "anthropic/claude-sonnet-4-5", **assistant},
        {"id": "director", "name": "Klod", "model": "anthropic/claude-opus-4-1"},
    ]


def test_a_plain_text_turn(client_for: ClientFor, model: FakeAnthropic) -> None:
    client = client_for()
    model.script_text("Hello! How can I help?")
    answer = client.run("assistant", "Hi there")
    assert answer.status_code == 200, answer.text
    assert answer.json()["reply"] == "Hello! How can I help?"
    assert answer.json()["status"] == "succeeded"
    request = model.message_requests()[-1]
    assert request["model"] == "claude-sonnet-4-5"
    assert request["messages"][-1]["content"][0]["text"] == "Hi there"
    assert request["system"][0]["cache_control"] == {"type": "ephemeral"}
    assert "Aliya" in request["system"][0]["text"]
    assert [r[0] for r in rows(client, "SELECT role FROM messages ORDER BY id")] == ["user", "assistant"]
    usage = rows(client, "SELECT input_tokens, output_tokens, cost_usd FROM usage")
    assert len(usage) == 1 and usage[0][0] > 0 and usage[0][2] > 0


def test_two_tool_calls_in_one_answer_run_by_the_map(client_for: ClientFor, model: FakeAnthropic) -> None:
    client = client_for()
    model.script_tool_use([("memory_note", {"note": "likes green tea"}), ("read_skill", {"name": "handoff"})])
    model.script_text("Noted.")
    answer = client.run("assistant", "Remember that I like green tea")
    assert answer.json()["reply"] == "Noted."
    calls = rows(client, "SELECT name, status FROM tool_calls ORDER BY name")
    assert calls == [("memory_note", "ok"), ("read_skill", "ok")]
    memory = rows(client, "SELECT content FROM workspace_files WHERE agent_id = 'assistant' AND name = 'MEMORY.md'")
    assert "likes green tea" in memory[0][0]
    second = model.message_requests()[1]
    results = [b for b in second["messages"][-1]["content"] if b["type"] == "tool_result"]
    assert len(results) == 2 and not any(r.get("is_error") for r in results)
    assert any("Handing off to a human" in r["content"] for r in results)


def test_the_step_limit_ends_a_runaway_loop(client_for: ClientFor, model: FakeAnthropic) -> None:
    client = client_for(agents=agents(max_steps=2))
    for _ in range(4):
        model.script_tool_use([("read_skill", {"name": "handoff"})])
    answer = client.run("assistant", "loop forever")
    assert answer.json()["reply"] == STEP_LIMIT_REPLY
    assert len(model.message_requests()) == 2
    assert rows(client, "SELECT stop_reason FROM turns") == [("step_limit",)]


def test_overloaded_twice_then_success_gives_one_reply_on_the_fallback_model(
    client_for: ClientFor, model: FakeAnthropic
) -> None:
    client = client_for(agents=agents(fallback_models=["anthropic/claude-haiku-4-5"]))
    model.fail_overloaded(times=2)
    model.script_text("Sorry for the wait!")
    answer = client.run("assistant", "are you there?")
    assert answer.json()["reply"] == "Sorry for the wait!"
    assert [r["model"] for r in model.message_requests()] == [
        "claude-sonnet-4-5", "claude-haiku-4-5", "claude-haiku-4-5"]  # fmt: skip
    assert rows(client, "SELECT count(*) FROM messages WHERE role = 'assistant'") == [(1,)]


def test_overload_past_all_retries_fails_the_turn_and_a_replay_succeeds(
    client_for: ClientFor, model: FakeAnthropic, local: RunningRuntime
) -> None:
    client = client_for()
    model.fail_overloaded(times=3)
    answer = client.run("assistant", "hello?")
    body = answer.json()
    assert body["status"] == "failed"
    assert body["reply"] == client.tenant.agent("assistant").fallback_reply
    assert "ModelOverloaded" in body["error"]
    model.script_text("I'm back.")
    local.runtime.state_machines.run("agent_turn", {"source": "replay", "tenant": client.tenant.slug,
                                                    "turn_id": body["turn_id"]})  # fmt: skip
    replayed = rows(client, "SELECT status, reply_text, replay_of_turn_id FROM turns WHERE id > %s", body["turn_id"])
    assert replayed == [("succeeded", "I'm back.", body["turn_id"])]
    assert model.message_requests()[-1]["messages"][-1]["content"][-1]["text"] == "hello?"


def test_a_spent_budget_gets_a_fixed_reply_and_no_model_call(client_for: ClientFor, model: FakeAnthropic) -> None:
    client = client_for(budget={"daily_usd": 0.5})
    with tenant_tx(client.tenant.slug) as conn:
        conn.execute("INSERT INTO usage (model, cost_usd) VALUES ('claude-opus-4-1', 0.75)")
    answer = client.run("assistant", "hi")
    assert answer.json()["status"] == "budget_exceeded"
    assert answer.json()["reply"] == OPERATOR_REPLY.format(budget=0.5)
    assert model.message_requests() == []


def test_a_tool_the_agent_was_not_offered_is_refused_without_side_effect(
    client_for: ClientFor, model: FakeAnthropic
) -> None:
    client = client_for(agents=agents(tools={"deny": ["memory_note"]}))
    model.script_tool_use([("memory_note", {"note": "injected"}), ("drop_everything", {})])
    model.script_text("I can't do that.")
    answer = client.run("assistant", "write to your memory")
    assert answer.json()["reply"] == "I can't do that."
    offered = {tool["name"] for tool in model.message_requests()[0]["tools"]}
    assert "memory_note" not in offered and "db_query" in offered
    assert rows(client, "SELECT name, status FROM tool_calls ORDER BY name") == [
        ("drop_everything", "refused"), ("memory_note", "refused")]  # fmt: skip
    memory = rows(client, "SELECT content FROM workspace_files WHERE agent_id = 'assistant' AND name = 'MEMORY.md'")
    assert "injected" not in memory[0][0]


def test_two_agents_answer_with_their_own_models_and_personas(client_for: ClientFor, model: FakeAnthropic) -> None:
    client = client_for()
    model.script_text("assistant here")
    model.script_text("director here")
    assert client.run("assistant", "who are you?").json()["reply"] == "assistant here"
    assert client.run("director", "who are you?").json()["reply"] == "director here"
    first, second = model.message_requests()
    assert (first["model"], second["model"]) == ("claude-sonnet-4-5", "claude-opus-4-1")
    assert "Aliya" in first["system"][0]["text"] and "Klod" not in first["system"][0]["text"]
    assert "Klod" in second["system"][0]["text"]


def test_compaction_keeps_the_last_turns_verbatim(client_for: ClientFor, model: FakeAnthropic) -> None:
    client = client_for(agents=agents(context_tokens=6000))
    for i in range(8):
        model.script_text(f"answer {i} " + "x" * 1500)
        assert client.run("assistant", f"question {i} " + "y" * 1500, session="s1").status_code == 200
    summaries = [r for r in model.message_requests() if "Summarise the conversation" in r["system"][0]["text"]]
    assert summaries, "a long session must be compacted"
    session = rows(client, "SELECT summary, compacted_through_message_id FROM sessions WHERE peer_id = 's1'")
    assert session[0][0] and session[0][1]
    last = [r for r in model.message_requests() if r.get("tools")][-1]
    texts = [b["text"] for m in last["messages"] for b in m["content"] if b["type"] == "text"]
    assert texts[0].startswith("[Summary of the earlier conversation]")
    assert any(t.startswith("question 7") for t in texts) and any(t.startswith("question 5") for t in texts)
    assert not any(t.startswith("question 0") for t in texts)


def test_the_run_api_checks_the_token_the_tenant_and_the_agent(client_for: ClientFor, model: FakeAnthropic) -> None:
    client, other = client_for(), client_for()
    assert Client(client.tenant, "cgt_wrong", client.url).run("assistant", "hi").status_code == 401
    assert Client(other.tenant, client.token, client.url).run("assistant", "hi").status_code == 403
    assert client.run("nobody", "hi").status_code == 404
    empty = client.run("assistant", "")
    assert empty.status_code == 422 and empty.json()["error"] == "invalid_request"  # the operator API's one shape
    assert model.message_requests() == []


def test_an_idempotency_key_runs_a_request_once(client_for: ClientFor, model: FakeAnthropic) -> None:
    client = client_for()
    model.script_text("once")
    first = client.run("assistant", "hi", headers={"idempotency-key": "crm-42"}).json()
    second = client.run("assistant", "hi", headers={"idempotency-key": "crm-42"}).json()
    assert first == second and first["reply"] == "once"
    assert len(model.message_requests()) == 1


@pytest.mark.parametrize("channel", ["whatsapp", "telegram"])
def test_customer_channels_are_never_offered_operator_tools(channel: str) -> None:
    from clawgate.agent.tools import channel_profile, offered_tools
    from clawgate.tenancy.model import Agent

    agent = Agent(id="a", name="A", tools={"allow": ["db_query", "update_dialog", "handoff"]})
    profile = channel_profile(channel, {"operator": False})
    names = {t.name for t in offered_tools(agent, channel, profile)}
    assert not names & {"db_query", "workspace_write", "send_message", "memory_replace"}
    assert "handoff" in names
    assert ("update_dialog" in names) == (channel == "whatsapp")


def test_a_run_still_going_at_the_wait_limit_answers_202_and_its_result_url_the_reply(
    client_for: ClientFor, model: FakeAnthropic, monkeypatch: pytest.MonkeyPatch
) -> None:
    """API Gateway cuts a request at 29 s; a turn may take minutes. Past WAIT_S the API answers 202 at once."""
    from clawgate.agent import run_api

    client, other = client_for(), client_for()
    model.script_text("done in the end")
    monkeypatch.setattr(run_api, "WAIT_S", 0.0)
    started = client.run("assistant", "a long job", headers={"idempotency-key": "crm-slow"})
    assert started.status_code == 202
    body = started.json()
    assert body["status"] == "running" and body["request_id"] == "crm-slow"
    assert started.headers["location"] == body["result_url"]
    url = client.url + body["result_url"]
    auth = {"authorization": f"Bearer {client.token}"}
    deadline = time.monotonic() + 60  # a loaded CI machine; the turn itself takes well under a second
    while (polled := httpx.get(url, headers=auth, timeout=10)).status_code == 202 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert polled.json()["reply"] == "done in the end" and polled.json()["status"] == "succeeded"
    assert httpx.get(url, headers={"authorization": f"Bearer {other.token}"}, timeout=10).status_code == 403
    assert httpx.get(url.replace("crm-slow", "never-sent"), headers=auth, timeout=10).status_code == 404


def test_a_turn_out_of_time_budget_ends_cleanly_before_its_model_call(
    client_for: ClientFor, model: FakeAnthropic, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Express would stop the execution at 5 minutes with no Catch: past its budget a turn is stopped instead,
    recorded, and the customer told."""
    from clawgate.agent import deadline, model_step

    client = client_for()
    monkeypatch.setattr(model_step, "seconds_since_turn", lambda clock: 200.0)  # a turn late in its budget
    answer = client.run("assistant", "still there?").json()
    assert (answer["status"], answer["reply"]) == ("succeeded", deadline.TIME_BUDGET_REPLY)
    assert model.message_requests() == []
    assert rows(client, "SELECT stop_reason FROM turns") == [("time_budget",)]


def test_a_tool_round_that_could_overrun_is_not_started(
    client_for: ClientFor, model: FakeAnthropic, monkeypatch: pytest.MonkeyPatch
) -> None:
    from clawgate.agent import deadline, model_step

    client = client_for()
    since_turn = 60.0  # a model call still fits, a tool round and the model call after it would not
    assert deadline.may_call_model(since_turn) and not deadline.may_run_tools(since_turn, 1)
    monkeypatch.setattr(model_step, "seconds_since_turn", lambda clock: since_turn)
    model.script_tool_use([("read_skill", {"name": "handoff"})])
    answer = client.run("assistant", "look it up").json()
    assert answer["reply"] == deadline.TIME_BUDGET_REPLY
    assert len(model.message_requests()) == 1
    assert rows(client, "SELECT count(*) FROM tool_calls") == [(0,)]
    assert rows(client, "SELECT stop_reason FROM turns") == [("time_budget",)]
