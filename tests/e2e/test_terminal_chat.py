"""`clawgate chat` against the local runtime: typed lines become streamed turns over the OpenAI-compatible API,
the session persists server-side, `/new`, `/agent` and `/history` do what they say, and the prompt_toolkit loop ends
on `/quit` and on Ctrl-D."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import openai
import pytest
from clawgate.cli.chat import Chat, run_terminal
from clawgate.cli.chat import client_for as api_client
from clawgate.db import tenant_tx
from clawgate.local.fakes import FakeAnthropic
from prompt_toolkit.application import create_app_session
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from tests.e2e.conftest import Client

ClientFor = Callable[..., Client]


def sessions(client: Client) -> list[tuple[str, str]]:
    with tenant_tx(client.tenant.slug) as conn:
        return conn.execute("SELECT agent_id, peer_id FROM turns ORDER BY id").fetchall()


def typed(chat: Chat, *lines: str) -> str:
    out: list[str] = []
    for line in lines:
        chat.handle(line, out.append)
    return "".join(out)


def test_lines_are_turns_of_one_session_until_new(client_for: ClientFor, model: FakeAnthropic) -> None:
    client = client_for()
    chat = Chat(client_for_url(client), "director")
    assert chat.check(client.tenant.slug) is None
    model.script_text("Hello.")
    model.script_text("Still here.")
    assert typed(chat, "hi", "  ", "are you there?") == "Hello.\nStill here.\n"
    first = chat.session
    assert typed(chat, "/new").startswith("new session chat-")
    typed(chat, "fresh start")
    assert sessions(client) == [("director", first), ("director", first), ("director", chat.session)]
    assert chat.session != first
    second_turn = model.message_requests()[1]["messages"]
    assert second_turn[0]["content"][0]["text"] == "hi"  # the server-side transcript of the session


def test_agent_switch_and_history(client_for: ClientFor, model: FakeAnthropic) -> None:
    client = client_for()
    chat = Chat(client_for_url(client), "director")
    assert "*director" in typed(chat, "/agent") and "assistant" in typed(chat, "/agent")
    assert "no agent 'nobody'" in typed(chat, "/agent nobody")
    assert typed(chat, "/agent assistant").startswith("talking to assistant")
    model.script_text("Aliya here.")
    typed(chat, "who are you?")
    assert model.message_requests()[-1]["model"] == "claude-sonnet-4-5"
    history = typed(chat, "/history")
    assert "> who are you?\nAliya here." in history and "[assistant · chat-" in history
    assert typed(chat, "/nonsense").startswith("/new")


def test_errors_are_shown_not_raised(client_for: ClientFor, model: FakeAnthropic) -> None:
    client = client_for()
    other = client_for()
    assert "not a token of tenant" in (Chat(client_for_url(other), "director").check(client.tenant.slug) or "")
    assert "no agent" in (Chat(client_for_url(client), "ghost").check(client.tenant.slug) or "")
    unreachable = Chat(api_client("http://127.0.0.1:9", client.token), "director")
    assert "cannot reach" in (unreachable.check(client.tenant.slug) or "")


@pytest.mark.parametrize("ending", ["/quit\n", "\x04"])
def test_the_prompt_loop_reads_lines_until_quit_or_ctrl_d(
    client_for: ClientFor, model: FakeAnthropic, tmp_path: Path, capsys: pytest.CaptureFixture[str], ending: str
) -> None:
    client = client_for()
    model.script_text("Loop answer.")
    chat = Chat(client_for_url(client), "director")
    with create_pipe_input() as pipe, create_app_session(input=pipe, output=DummyOutput()):
        pipe.send_text("hello loop\n" + ending)
        run_terminal(chat, tmp_path / "history", client.tenant.slug)
    assert "Loop answer." in capsys.readouterr().out
    assert "hello loop" in (tmp_path / "history").read_text()
    assert len(chat.history) == 1


def client_for_url(client: Client) -> openai.OpenAI:
    return api_client(client.url, client.token)
