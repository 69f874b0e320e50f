"""The local runtime: /healthz, an HTTP request and a WebSocket message routed to handlers and back, and a state
machine whose tasks are in-process handlers, executed by moto's ASL interpreter."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from clawgate.core.meta_webhooks import sign
from clawgate.db import registry_tx
from clawgate.local.stepfunctions import ExecutionFailedError, function_arn
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.conftest import TEST_APP_SECRET, TEST_VERIFY_TOKEN
from tests.runtime import RunningRuntime


def test_healthz_reports_database_and_queues(local: RunningRuntime) -> None:
    body = httpx.get(local.url + "/healthz").json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True
    assert body["queues"]["inbound"]["queued"] == 0


def test_an_http_request_reaches_its_handler_and_comes_back(local: RunningRuntime) -> None:
    params = {"hub.mode": "subscribe", "hub.challenge": "1158201444", "hub.verify_token": TEST_VERIFY_TOKEN}
    answer = httpx.get(local.url + "/webhooks/whatsapp", params=params)
    assert (answer.status_code, answer.text) == (200, "1158201444")
    wrong = httpx.get(local.url + "/webhooks/whatsapp", params={**params, "hub.verify_token": "nope"})
    assert wrong.status_code == 403
    assert httpx.get(local.url + "/webhooks/nowhere").status_code == 404


def test_a_bad_signature_is_refused_and_nothing_is_enqueued(local: RunningRuntime) -> None:
    queue = local.runtime.queues.get("inbound")
    sent_before = queue.stats.sent
    body = json.dumps({"object": "whatsapp_business_account", "entry": []}).encode()
    tampered = sign(body, TEST_APP_SECRET)
    for headers in ({}, {"x-hub-signature-256": "sha256=" + "0" * 64}, {"x-hub-signature-256": tampered}):
        response = httpx.post(local.url + "/webhooks/whatsapp", content=body + b" ", headers=headers)
        assert response.status_code == 401
    assert queue.stats.sent == sent_before


def test_a_websocket_message_reaches_its_handler_and_comes_back(local: RunningRuntime) -> None:
    with connect(local.ws_url) as ws:
        with registry_tx() as conn:  # $connect ran its handler: the connection is recorded
            assert conn.execute("SELECT count(*) FROM ws_connections").fetchone()[0] >= 1  # type: ignore[index]
        ws.send(json.dumps({"type": "req", "id": "1", "method": "ping", "params": {"echo": "hi"}}))
        answer = json.loads(ws.recv(timeout=10))  # $default answered through @connections
        assert (answer["id"], answer["ok"], answer["error"]["code"]) == ("1", False, "unauthenticated")
        with pytest.raises(ConnectionClosed):  # the first frame must be `connect`: the handler closed the socket
            ws.recv(timeout=10)


class Flaky(Exception):
    pass


def test_a_state_machine_runs_in_process_handlers_with_map_retry_and_catch(local: RunningRuntime) -> None:
    calls: list[Any] = []

    def double(event: dict[str, Any], _: Any) -> dict[str, Any]:
        calls.append(event)
        return {"n": event["n"] * 2}

    def flaky(event: dict[str, Any], _: Any) -> dict[str, Any]:
        calls.append("flaky")
        if calls.count("flaky") < 2:
            raise Flaky("try again")
        return {"recovered": True}

    def broken(event: dict[str, Any], _: Any) -> dict[str, Any]:
        raise ValueError("always")

    for name, handler in {"t_double": double, "t_flaky": flaky, "t_broken": broken}.items():
        local.runtime.lambdas.register(name, handler)
    definition = {
        "StartAt": "Fan",
        "States": {
            "Fan": {
                "Type": "Map", "ItemsPath": "$.items", "ResultPath": "$.doubled", "Next": "Flaky",
                "ItemSelector": {"n.$": "$$.Map.Item.Value"},
                "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "Double",
                                  "States": {"Double": {"Type": "Task", "Resource": function_arn("t_double"),
                                                        "End": True}}},
            },
            "Flaky": {"Type": "Task", "Resource": function_arn("t_flaky"), "ResultPath": "$.flaky", "Next": "Broken",
                      "Retry": [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 1, "MaxAttempts": 2}]},
            "Broken": {"Type": "Task", "Resource": function_arn("t_broken"), "End": True,
                       "Catch": [{"ErrorEquals": ["ValueError"], "ResultPath": "$.caught", "Next": "Done"}]},
            "Done": {"Type": "Pass", "End": True},
        },
    }  # fmt: skip
    local.runtime.state_machines.register("small", definition)
    output = local.runtime.state_machines.run("small", {"items": [1, 2, 3]})
    assert output["doubled"] == [{"n": 2}, {"n": 4}, {"n": 6}]
    assert output["flaky"] == {"recovered": True}
    assert output["caught"]["Error"] == "ValueError"
    assert calls.count("flaky") == 2


def test_a_failing_state_machine_reports_its_error(local: RunningRuntime) -> None:
    local.runtime.lambdas.register("t_fails", lambda event, context: 1 / 0)
    local.runtime.state_machines.register(
        "fails", {"StartAt": "F", "States": {"F": {"Type": "Task", "Resource": function_arn("t_fails"), "End": True}}}
    )
    with pytest.raises(ExecutionFailedError) as failed:
        local.runtime.state_machines.run("fails", {})
    assert failed.value.error == "ZeroDivisionError"
