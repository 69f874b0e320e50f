"""The OpenAI-compatible API through the local runtime, driven by the official `openai` SDK and by the raw request
n8n's OpenAI node sends: models, a completion, a stream, sessions, errors in OpenAI's shape, and the same turn
pipeline (transcript rows, usage, operator tools, budget) as the run API."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import openai
import pytest
from clawgate.agent import run_api
from clawgate.agent.budget import OPERATOR_REPLY
from clawgate.db import tenant_tx
from clawgate.local.fakes import FakeAnthropic

from tests.e2e.conftest import Client

ClientFor = Callable[..., Client]


def sdk(client: Client, token: str | None = None, source: str = "127.0.0.1") -> openai.OpenAI:
    """The SDK as a user configures it: our base URL, the gateway token as the API key (no retries, so a refused
    request is seen once)."""
    transport = httpx.HTTPTransport(local_address=source)
    return openai.OpenAI(base_url=f"{client.url}/v1", api_key=token or client.token, max_retries=0,
                         http_client=httpx.Client(transport=transport, timeout=60))  # fmt: skip


@pytest.fixture
def slow_turn(model: FakeAnthropic, monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """A model that answers only once the test sets the event, and a wait limit of 0 s (the run API's WAIT_S), so
    every turn is still running when the API answers."""
    monkeypatch.setattr(run_api, "WAIT_S", 0.0)
    answer = threading.Event()

    def held(_request: dict[str, Any]) -> None:
        answer.wait(60)  # then None: the scripted answer

    model.responder = held
    yield answer
    answer.set()


def reply_at(client: Client, url: str) -> dict[str, Any]:
    """Polls the run API's result URL (a loaded CI machine: up to 60 s) until the turn has finished."""
    deadline, auth = time.monotonic() + 60, {"authorization": f"Bearer {client.token}"}
    while (polled := httpx.get(client.url + url, headers=auth, timeout=10)).status_code == 202:
        assert time.monotonic() < deadline, polled.text
        time.sleep(0.05)
    assert polled.status_code == 200, polled.text
    return dict(polled.json())


def rows(client: Client, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with tenant_tx(client.tenant.slug) as conn:
        return conn.execute(sql, params).fetchall()


def test_models_are_the_tenants_agents(client_for: ClientFor) -> None:
    client = client_for()
    models = sdk(client).models.list()
    assert [m.id for m in models.data] == ["assistant", "director"]
    assert {m.owned_by for m in models.data} == {client.tenant.slug}


def test_a_completion_is_an_agent_turn(client_for: ClientFor, model: FakeAnthropic) -> None:
    client = client_for()
    model.script_text("Hello from Klod.")
    completion = sdk(client).chat.completions.create(
        model="director", messages=[{"role": "system", "content": "ignored"}, {"role": "user", "content": "Hi"}],
        user="crm-lead-42",
    )  # fmt: skip
    assert completion.object == "chat.completion"
    assert completion.choices[0].message.content == "Hello from Klod."
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None and completion.usage.completion_tokens > 0
    request = model.message_requests()[-1]
    assert request["model"] == "claude-opus-4-1"
    assert request["messages"][-1]["content"][-1]["text"] == "Hi"
    assert "ads_set_budget" in {tool["name"] for tool in request["tools"]}  # the operator profile, as the run API
    assert rows(client, "SELECT channel, peer_id, status FROM turns") == [("api", "crm-lead-42", "succeeded")]


def test_a_session_keeps_the_transcript_server_side(client_for: ClientFor, model: FakeAnthropic) -> None:
    client = client_for()
    api = sdk(client)
    for text in ("first", "second"):
        api.chat.completions.create(model="assistant", messages=[{"role": "user", "content": text}],
                                    extra_headers={"X-Session-Id": "flow-7"})  # fmt: skip
    second = model.message_requests()[-1]["messages"]
    assert next(block["text"] for m in second for block in m["content"] if block.get("type") == "text") == "first"
    assert rows(client, "SELECT count(DISTINCT session_id) FROM turns") == [(1,)]


def test_without_a_session_the_clients_history_is_the_context(client_for: ClientFor, model: FakeAnthropic) -> None:
    client = client_for()
    history = [{"role": "user", "content": "My name is Dana"}, {"role": "assistant", "content": "Hi Dana"},
               {"role": "user", "content": [{"type": "text", "text": "What is my name?"}]}]  # fmt: skip
    sdk(client).chat.completions.create(model="assistant", messages=history)  # type: ignore[arg-type]
    sent = model.message_requests()[-1]["messages"][-1]["content"][-1]["text"]
    assert "user: My name is Dana" in sent and "assistant: Hi Dana" in sent and sent.endswith("What is my name?")
    sdk(client).chat.completions.create(model="assistant", messages=[{"role": "user", "content": "again"}])
    assert rows(client, "SELECT count(DISTINCT session_id) FROM turns") == [(2,)]


def test_a_stream_ends_with_done(client_for: ClientFor, model: FakeAnthropic) -> None:
    client = client_for()
    model.script_text("Streamed answer.")
    stream = sdk(client).chat.completions.create(
        model="assistant", messages=[{"role": "user", "content": "stream please"}], stream=True,
        stream_options={"include_usage": True},
    )  # fmt: skip
    chunks = list(stream)
    assert {c.object for c in chunks} == {"chat.completion.chunk"}
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Streamed answer."
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens > 0


def test_the_raw_stream_is_server_sent_events(client_for: ClientFor, model: FakeAnthropic) -> None:
    client = client_for()
    model.script_text("raw")
    response = httpx.post(f"{client.url}/v1/chat/completions", headers={"authorization": f"Bearer {client.token}"},
                          json={"model": "assistant", "stream": True,
                                "messages": [{"role": "user", "content": "x"}]}, timeout=60)  # fmt: skip
    assert response.headers["content-type"].startswith("text/event-stream")
    lines = [line for line in response.text.split("\n\n") if line]
    assert lines[-1] == "data: [DONE]"
    assert all(line.startswith("data: ") for line in lines)
    assert json.loads(lines[1].removeprefix("data: "))["choices"][0]["delta"]["content"] == "raw"


def test_an_n8n_style_request_works(client_for: ClientFor, model: FakeAnthropic) -> None:
    """n8n's OpenAI Chat Model node: POST {base}/chat/completions with sampling options and no `user`."""
    client = client_for()
    model.script_text("n8n ok")
    body = {
        "model": "assistant",
        "temperature": 0.7,
        "max_tokens": 512,
        "top_p": 1,
        "frequency_penalty": 0,
        "presence_penalty": 0,
        "n": 1,
        "stream": False,
        "messages": [{"role": "system", "content": "You are helpful"}, {"role": "user", "content": "ping"}],
    }
    response = httpx.post(f"{client.url}/v1/chat/completions", json=body, timeout=60,
                          headers={"Authorization": f"Bearer {client.token}", "User-Agent": "n8n"})  # fmt: skip
    assert response.status_code == 200, response.text
    assert response.json()["choices"][0]["message"] == {"role": "assistant", "content": "n8n ok"}


def test_a_wrong_token_is_401_in_openais_shape_and_runs_nothing(client_for: ClientFor, model: FakeAnthropic) -> None:
    client = client_for()
    with pytest.raises(openai.AuthenticationError) as refused:
        sdk(client, token="cgt_not-a-token", source="127.0.0.17").chat.completions.create(
            model="assistant", messages=[{"role": "user", "content": "hi"}]
        )
    assert refused.value.status_code == 401
    assert refused.value.code == "invalid_api_key"
    with pytest.raises(openai.AuthenticationError):
        sdk(client, token="sk-proj-openai-key", source="127.0.0.17").models.list()
    assert model.message_requests() == []
    assert rows(client, "SELECT count(*) FROM turns") == [(0,)]


def test_an_unknown_model_is_404_model_not_found(client_for: ClientFor, model: FakeAnthropic) -> None:
    client = client_for()
    other = client_for()
    with pytest.raises(openai.NotFoundError) as missing:
        sdk(client).chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    assert missing.value.code == "model_not_found"
    assert model.message_requests() == []
    assert [m.id for m in sdk(other).models.list().data] == ["assistant", "director"]  # each token sees its own


@pytest.mark.parametrize(
    "body",
    [{"model": "assistant", "messages": []},
     {"model": "assistant", "messages": [{"role": "assistant", "content": "x"}]},
     {"model": "assistant", "messages": [{"role": "hacker", "content": "x"}]}, {"messages": "not a list"}],
)  # fmt: skip
def test_a_bad_request_is_400_invalid_request_error(client_for: ClientFor, model: FakeAnthropic, body: Any) -> None:
    client = client_for()
    response = httpx.post(f"{client.url}/v1/chat/completions", json=body, timeout=30,
                          headers={"authorization": f"Bearer {client.token}"})  # fmt: skip
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"
    assert rows(client, "SELECT count(*) FROM turns") == [(0,)]


def test_a_spent_budget_is_429_insufficient_quota(client_for: ClientFor, model: FakeAnthropic) -> None:
    client = client_for(budget={"daily_usd": 0.5})
    with tenant_tx(client.tenant.slug) as conn:
        conn.execute("INSERT INTO usage (model, cost_usd) VALUES ('claude-opus-4-1', 0.75)")
    with pytest.raises(openai.RateLimitError) as spent:
        sdk(client).chat.completions.create(model="assistant", messages=[{"role": "user", "content": "hi"}])
    assert spent.value.code == "insufficient_quota"
    assert OPERATOR_REPLY.format(budget=0.5) in spent.value.message
    assert model.message_requests() == []


def test_a_turn_past_the_wait_limit_is_504_timeout_naming_its_result_url(
    client_for: ClientFor, model: FakeAnthropic, slow_turn: threading.Event, monkeypatch: pytest.MonkeyPatch
) -> None:
    """API Gateway would cut the request at 30 s with its own error; the API answers first, in OpenAI's shape, and
    the SDK (default retries) does not retry it into a second turn."""
    client = client_for()
    model.script_text("slow but sure")
    api = openai.OpenAI(base_url=f"{client.url}/v1", api_key=client.token, http_client=httpx.Client(timeout=60))
    with pytest.raises(openai.APIStatusError) as late:
        api.chat.completions.create(model="assistant", messages=[{"role": "user", "content": "a long job"}],
                                    extra_headers={"X-Session-Id": "flow-9"})  # fmt: skip
    assert late.value.status_code == 504 and late.value.code == "timeout" and late.value.type == "timeout"
    assert late.value.response.headers["x-should-retry"] == "false"
    error = late.value.body
    assert isinstance(error, dict) and error["result_url"].endswith(f"/agents/assistant/runs/{error['request_id']}")
    assert error["result_url"] in late.value.message and "'flow-9'" in late.value.message
    slow_turn.set()
    assert reply_at(client, error["result_url"])["reply"] == "slow but sure"
    monkeypatch.setattr(run_api, "WAIT_S", 60.0)  # the next message in the session sees the reply in its history
    model.script_text("next")
    api.chat.completions.create(model="assistant", messages=[{"role": "user", "content": "and then?"}],
                                extra_headers={"X-Session-Id": "flow-9"})  # fmt: skip
    history = model.message_requests()[-1]["messages"]
    assert rows(client, "SELECT count(*) FROM turns") == [(2,)]  # the SDK did not retry the 504 into another turn
    said = [block.get("text") for m in history if m["role"] == "assistant" for block in m["content"]]
    assert "slow but sure" in said


def test_a_stream_past_the_wait_limit_ends_with_an_error_event_then_done(
    client_for: ClientFor, model: FakeAnthropic, slow_turn: threading.Event
) -> None:
    client = client_for()
    model.script_text("streamed later")
    model.script_text("streamed later")  # the raw request's turn
    stream = sdk(client).chat.completions.create(
        model="assistant", messages=[{"role": "user", "content": "stream a long job"}], stream=True
    )
    with pytest.raises(openai.APIError) as late:
        list(stream)
    assert late.value.code == "timeout" and isinstance(late.value.body, dict)
    url = late.value.body["result_url"]
    assert url in late.value.message
    response = httpx.post(f"{client.url}/v1/chat/completions", headers={"authorization": f"Bearer {client.token}"},
                          json={"model": "assistant", "stream": True,
                                "messages": [{"role": "user", "content": "x"}]}, timeout=60)  # fmt: skip
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
    events = [event for event in response.text.split("\n\n") if event]
    assert events[-1] == "data: [DONE]" and len(events) == 2
    assert json.loads(events[0].removeprefix("data: "))["error"]["type"] == "timeout"
    slow_turn.set()
    assert reply_at(client, url)["reply"] == "streamed later"
