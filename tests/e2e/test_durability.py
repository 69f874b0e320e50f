"""`clawgate dev` as a user runs it — a process with worker processes — against the test's PostgreSQL, the fake
Graph and the fake model: a `kill -9` with a backlog in flight loses nothing and answers every message once after
the restart (turns caught waiting on the model, or with half their reply sent, are re-driven), two worker
processes still run one conversation's turns one at a time, and the run API's synchronous
turns are run by a worker too."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from clawgate.core.meta_webhooks import sign
from clawgate.db import tenant_tx
from clawgate.local.demo import wait_until_idle
from clawgate.local.fakes import FakeAnthropic, FakeGraph
from clawgate.tenancy.tokens import create_token

from tests.channel_fixtures import WHATSAPP_TOKEN
from tests.channel_payloads import wa_body, wa_text
from tests.conftest import TEST_APP_SECRET, tenant_data
from tests.runtime import free_port

pytestmark = pytest.mark.usefixtures("fresh_database")
SLUG = "durable"


class Runtime:
    """`clawgate dev --workers N` (or `serve`) in its own process group."""

    def __init__(
        self,
        tmp: Path,
        env: dict[str, str],
        workers: int,
        *flags: str,
        tenant_file: str = "",
        command: str = "dev",
        start_timeout: float = 90,
    ) -> None:
        self.url, self.log = f"http://127.0.0.1:{env['CLAWGATE_PORT']}", tmp / "dev.log"
        command_line = [sys.executable, "-m", "clawgate.cli", command, "--workers", str(workers), *flags,
                        "--tenant-file", tenant_file or f"{tmp}/t.yaml"]  # fmt: skip
        self.process = subprocess.Popen(
            command_line,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + start_timeout
        while not self._healthy():
            assert self.process.poll() is None, (tmp / "dev.log").read_text()[-3000:]
            if time.monotonic() > deadline:
                self.kill_9()  # nothing of it outlives the test
                raise AssertionError("the runtime did not start")
            time.sleep(0.2)

    def _healthy(self) -> bool:
        try:
            return httpx.get(self.url + "/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def post_whatsapp(self, phone_number_id: str, user: str, text: str) -> str:
        message = wa_text(text, user_id=f"US.{user}", wa_id=user)
        body = json.dumps(wa_body([message], phone_number_id=phone_number_id)).encode()
        headers = {"x-hub-signature-256": sign(body, TEST_APP_SECRET), "content-type": "application/json"}
        assert httpx.post(self.url + "/webhooks/whatsapp", content=body, headers=headers, timeout=30).status_code == 200
        return str(message["id"])

    def kill_9(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)  # the runtime and its workers, with no chance to clean up
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(60)


@pytest.fixture
def start_runtime(
    tmp_path: Path,
    graph: FakeGraph,
    model: FakeAnthropic,
    fresh_database: str,
) -> Iterator[Callable[[int], Runtime]]:
    (tmp_path / "t.yaml").write_text(yaml.safe_dump(tenant_data(SLUG)))
    env = {
        **os.environ,
        "CLAWGATE_DATABASE_URL": fresh_database,
        "CLAWGATE_PORT": str(free_port()),
        "CLAWGATE_DATA_DIR": str(tmp_path / "data"),
        "CLAWGATE_GRAPH_URL": graph.url,
        "CLAWGATE_META_APP_SECRET": TEST_APP_SECRET,
        f"CLAWGATE_SECRET_{SLUG.upper()}_WHATSAPP": WHATSAPP_TOKEN,
    }
    started: list[Runtime] = []

    def start(workers: int) -> Runtime:
        started.append(Runtime(tmp_path, env, workers))
        return started[-1]

    yield start
    for runtime in started:
        runtime.stop()


def phone_number_id() -> str:
    return str(tenant_data(SLUG)["channels"]["whatsapp"][0]["phone_number_id"])


def answered(graph: FakeGraph) -> list[str]:
    """Who got a text reply, once per reply."""
    sent = [m for m in graph.sent_whatsapp() if m.get("type") == "text"]
    return [str(m.get("to") or m.get("recipient")).removeprefix("US.") for m in sent]


def rows(sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with tenant_tx(SLUG) as conn:
        return conn.execute(sql, params).fetchall()


def test_a_kill_9_with_a_backlog_in_flight_loses_nothing_and_answers_each_message_once(
    start_runtime: Callable[[int], Runtime],
    graph: FakeGraph,
    model: FakeAnthropic,
) -> None:
    model.responder = lambda body: time.sleep(0.05) or None  # turns take a moment: a backlog builds up
    runtime = start_runtime(2)
    users = [f"7700000{n:04d}" for n in range(30)]
    for user in users:
        runtime.post_whatsapp(phone_number_id(), user, f"hello from {user}")
    runtime.kill_9()  # every message was acknowledged with a 200; most are queued or in flight
    assert len(set(answered(graph))) < len(users)

    start_runtime(2)
    deadline = time.monotonic() + 120
    while len(set(answered(graph))) < len(users) and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1.0)  # anything sent twice would arrive now
    assert sorted(answered(graph)) == sorted(users)  # every message answered, each exactly once
    assert rows("SELECT count(*) FROM turns WHERE status <> 'succeeded'") == [(0,)]


def eventually(check: Callable[[], bool], timeout: float = 120) -> bool:
    deadline = time.monotonic() + timeout
    while not check() and time.monotonic() < deadline:
        time.sleep(0.2)
    return check()


def texts_sent(graph: FakeGraph) -> list[str]:
    return [str(m["text"]["body"]) for m in graph.sent_whatsapp() if m.get("type") == "text"]


def running_turns() -> list[int]:
    return [r[0] for r in rows("SELECT id FROM turns WHERE status = 'running' ORDER BY id")]


def test_a_kill_9_while_turns_wait_on_the_model_re_drives_those_turns_and_answers_each_message_once(
    start_runtime: Callable[[int], Runtime],
    graph: FakeGraph,
    model: FakeAnthropic,
) -> None:
    let_go = threading.Event()
    model.responder = lambda body: let_go.wait(120) and None  # every model call waits until the test lets it go
    runtime = start_runtime(2)
    users = [f"7704000{n:04d}" for n in range(6)]
    for user in users:
        runtime.post_whatsapp(phone_number_id(), user, f"hello from {user}")
    assert eventually(lambda: bool(running_turns()) and bool(model.message_requests()))
    runtime.kill_9()  # turns are in flight: opened, their messages attached, their model calls unanswered
    in_flight = running_turns()
    assert in_flight and answered(graph) == []
    model.responder = None
    let_go.set()  # the killed workers' model calls end, answered to no one

    start_runtime(2)
    assert eventually(lambda: len(answered(graph)) >= len(users)), answered(graph)
    time.sleep(1.0)  # anything sent twice would arrive now
    assert sorted(answered(graph)) == sorted(users)  # every message answered, each exactly once
    succeeded = rows("SELECT count(*), count(*) FILTER (WHERE status = 'succeeded') FROM turns")
    assert succeeded == [(len(users), len(users))]  # one turn per message, each finished
    assert running_turns() == []
    assistant = rows("SELECT turn_id, count(*) FROM messages WHERE role = 'assistant' GROUP BY turn_id ORDER BY 1")
    assert [turn for turn, _ in assistant if turn in in_flight] == in_flight  # the same turns ran on
    assert {count for _, count in assistant} == {1}  # one answer in each transcript


def test_a_kill_9_after_part_of_a_reply_went_out_sends_only_the_rest_and_asks_the_model_nothing_more(
    start_runtime: Callable[[int], Runtime],
    graph: FakeGraph,
    model: FakeAnthropic,
    tmp_path: Path,
) -> None:
    data = tenant_data(SLUG)
    data["agents"][0]["max_tokens"] = 4000  # room for a reply of two WhatsApp messages
    (tmp_path / "t.yaml").write_text(yaml.safe_dump(data))
    model.responder = lambda body: "PART ONE " + "one " * 900 + "\n\nPART TWO " + "two " * 900  # two messages
    held, let_go = threading.Event(), threading.Event()

    def take_send(body: dict[str, Any]) -> bool:  # Graph takes the reply's first message, holds the second
        if body.get("type") != "text" or not texts_sent(graph):
            return True
        held.set()
        let_go.wait(120)
        return False  # and never takes it

    graph.take_send = take_send
    runtime = start_runtime(1)
    runtime.post_whatsapp(phone_number_id(), "77050000001", "tell me everything")
    assert held.wait(120)
    runtime.kill_9()  # the reply is persisted and half sent; the turn is not finished
    graph.take_send = None
    let_go.set()
    first = texts_sent(graph)
    assert len(first) == 1 and first[0].startswith("PART ONE")
    assert rows("SELECT status, reply_text IS NOT NULL FROM turns") == [("running", True)]
    model_calls = len(model.message_requests())

    start_runtime(1)
    assert eventually(lambda: rows("SELECT status FROM turns") == [("succeeded",)])
    time.sleep(1.0)  # anything sent twice would arrive now
    sent = texts_sent(graph)
    assert len(sent) == 2 and sent[0] == first[0] and sent[1].rstrip().endswith("two")  # the rest, once
    assert len(model.message_requests()) == model_calls  # the persisted reply went out; the model was not asked
    assert rows("SELECT count(*) FROM messages WHERE role = 'assistant'") == [(1,)]


def test_two_workers_run_one_conversation_s_turns_one_at_a_time(
    start_runtime: Callable[[int], Runtime],
    graph: FakeGraph,
    model: FakeAnthropic,
) -> None:
    model.responder = lambda body: time.sleep(0.3) or None  # long enough for a second worker to be free
    runtime = start_runtime(2)
    runtime.post_whatsapp(phone_number_id(), "77030000001", "the workers are up once this is answered")
    assert wait_until_idle(runtime.url, timeout=120)
    wamids = []
    for n in range(6):
        wamids.append(runtime.post_whatsapp(phone_number_id(), "77010000001", f"message {n}"))
        runtime.post_whatsapp(phone_number_id(), f"7702000{n:04d}", "another conversation")
        time.sleep(0.15)
    assert wait_until_idle(runtime.url, timeout=120)
    turns = rows("SELECT created_at, finished_at FROM turns WHERE peer_id LIKE %s ORDER BY id", "%77010000001")
    assert len(turns) >= 2  # bursts fold into one turn, but not all six into one
    for (_, finished), (next_created, _) in itertools.pairwise(turns):
        assert finished <= next_created  # the next turn began after the previous one ended
    inbound = rows("SELECT provider_id FROM inbound_events WHERE peer_id LIKE %s", "%77010000001")
    assert sorted(r[0] for r in inbound) == sorted(wamids)

    model.responder = None  # the run API waits for its turn, which a worker runs (the server runs none)
    answer = httpx.post(
        f"{runtime.url}/api/v1/tenants/{SLUG}/agents/assistant/run", json={"message": "hi there", "session": "crm-1"},
        headers={"authorization": f"Bearer {create_token(SLUG)}"}, timeout=60,
    )  # fmt: skip
    assert answer.status_code == 200 and answer.json()["reply"] == "fake reply to: hi there"
