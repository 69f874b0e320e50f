"""The operator API's resolver under concurrent requests, as `clawgate serve` runs it: each request keeps its own
route, path parameters and headers while another one is resolved in between."""

from __future__ import annotations

import json
import threading
from typing import Any

from clawgate.gateway import operator_api


def _event(path: str, caller: str) -> dict[str, Any]:
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"x-caller": caller},
        "requestContext": {"http": {"method": "GET", "path": path, "sourceIp": "127.0.0.1"}, "stage": "$default"},
        "isBase64Encoded": False,
    }


def test_a_request_resolved_meanwhile_in_another_thread_does_not_take_over_the_first() -> None:
    app = type(operator_api.app)()  # the operator API's resolver class, with two routes of this test's own
    first_inside, second_done = threading.Event(), threading.Event()

    @app.get("/slow/<name>")
    def slow(name: str) -> dict[str, Any]:
        first_inside.set()
        second_done.wait(10)
        return {"name": name, "caller": app.current_event.get_header_value("x-caller"),
                "route_args": app.context.get("_route_args")}  # fmt: skip

    @app.get("/fast/<name>")
    def fast(name: str) -> dict[str, Any]:
        return {"name": name}

    answers: dict[str, Any] = {}
    first = threading.Thread(target=lambda: answers.update(first=app.resolve(_event("/slow/alice", "alice"), {})))
    first.start()
    assert first_inside.wait(10)
    answers["second"] = app.resolve(_event("/fast/bob", "bob"), {})
    second_done.set()
    first.join(10)

    assert answers["second"]["statusCode"] == 200
    assert json.loads(answers["first"]["body"]) == {"name": "alice", "caller": "alice", "route_args": {"name": "alice"}}
