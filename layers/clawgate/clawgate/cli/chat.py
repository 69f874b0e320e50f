"""`clawgate chat --tenant T --agent A`: talk to an agent from a terminal.

The chat is a client of the OpenAI-compatible API (`/v1/chat/completions` with `stream: true`, through the official
`openai` SDK): the local runtime by default (`clawgate dev` on CLAWGATE_PORT), or a deployed gateway with `--url`
and a gateway token (`--token` or CLAWGATE_TOKEN). The session lives on the server (`X-Session-Id`), so its
transcript is the agent's memory of the conversation; `/new` starts another, `/agent NAME` switches agents (each has
its own session), `/history` shows this chat's exchanges, `/quit` (or Ctrl-D) leaves. Typed lines are remembered
across runs (prompt_toolkit's file history, under the data directory)."""

from __future__ import annotations

import argparse
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import openai

HELP = "/new: a new session · /agent [NAME]: switch agent (or list them) · /history · /quit"
Write = Callable[[str], None]


def new_session_id() -> str:
    return f"chat-{uuid.uuid4().hex[:12]}"


@dataclass
class Exchange:
    agent: str
    session: str
    question: str
    answer: str


@dataclass
class Chat:
    """What the terminal does with each line, without the terminal: testable through the real API."""

    client: openai.OpenAI
    agent: str
    session: str = field(default_factory=new_session_id)
    history: list[Exchange] = field(default_factory=list)

    def agents(self) -> list[str]:
        return [model.id for model in self.client.models.list().data]

    def check(self, tenant: str) -> str | None:
        """Why this chat cannot start (unreachable, wrong token or tenant, unknown agent), or None."""
        import openai

        try:
            models = self.client.models.list().data
        except openai.APIStatusError as error:
            return f"{self.client.base_url}: [{error.status_code}] {_error_message(error)}"
        except openai.APIConnectionError:
            return f"cannot reach {self.client.base_url} (is `clawgate dev` running?)"
        if any(model.owned_by != tenant for model in models):
            return f"this token is not a token of tenant {tenant!r}"
        if self.agent not in {model.id for model in models}:
            return f"no agent {self.agent!r}; agents: {', '.join(model.id for model in models)}"
        return None

    def handle(self, line: str, write: Write) -> bool:
        """Act on one typed line; False when the chat should end."""
        text = line.strip()
        if not text:
            return True
        if text.startswith("/"):
            return self.command(text, write)
        self.ask(text, write)
        return True

    def command(self, text: str, write: Write) -> bool:
        name, _, argument = text.partition(" ")
        if name in ("/quit", "/exit"):
            return False
        if name == "/new":
            self.session = new_session_id()
            write(f"new session {self.session}\n")
        elif name == "/agent":
            self.switch(argument.strip(), write)
        elif name == "/history":
            for exchange in self.history:
                write(f"[{exchange.agent} · {exchange.session}]\n> {exchange.question}\n{exchange.answer}\n\n")
        else:
            write(HELP + "\n")
        return True

    def switch(self, agent: str, write: Write) -> None:
        known = self.agents()
        if not agent:
            write("agents: " + ", ".join(f"*{a}" if a == self.agent else a for a in known) + "\n")
        elif agent not in known:
            write(f"no agent {agent!r}; agents: {', '.join(known)}\n")
        else:
            self.agent, self.session = agent, new_session_id()
            write(f"talking to {agent} (session {self.session})\n")

    def ask(self, text: str, write: Write) -> None:
        import openai

        pieces: list[str] = []
        try:
            for piece in self.stream(text):
                pieces.append(piece)
                write(piece)
        except openai.APIStatusError as error:
            write(f"[{error.status_code}] {_error_message(error)}\n")
            return
        except openai.APIConnectionError as error:
            write(f"cannot reach {self.client.base_url}: {error}\n")
            return
        write("\n")
        self.history.append(Exchange(self.agent, self.session, text, "".join(pieces)))

    def stream(self, text: str) -> Iterator[str]:
        events = self.client.chat.completions.create(
            model=self.agent, messages=[{"role": "user", "content": text}], stream=True,
            extra_headers={"X-Session-Id": self.session},
        )  # fmt: skip
        for event in events:
            for choice in event.choices:
                if choice.delta.content:
                    yield choice.delta.content


def _error_message(error: Any) -> str:
    body = error.body if isinstance(error.body, dict) else {}
    return str(body.get("message") or error.message)


def local_token(tenant: str) -> str:
    """A gateway token of the local tenant: minted once in the local database, kept under the data directory."""
    from clawgate.db.migrate import ensure_platform
    from clawgate.local.postgres import ensure_database_url
    from clawgate.settings import get_settings
    from clawgate.tenancy.tokens import create_token, token_tenant

    path = get_settings().data_dir / "chat-tokens" / tenant
    ensure_database_url()
    ensure_platform()
    if path.is_file() and token_tenant(path.read_text().strip()) == tenant:
        return path.read_text().strip()
    token = create_token(tenant, label="clawgate chat")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(token)
    return token


def client_for(url: str, token: str) -> openai.OpenAI:
    import openai

    return openai.OpenAI(base_url=url.rstrip("/") + "/v1", api_key=token, max_retries=1, timeout=120)


def run_terminal(chat: Chat, history_file: Path, tenant: str) -> None:
    from prompt_toolkit import PromptSession
    from prompt_toolkit.history import FileHistory
    from prompt_toolkit.patch_stdout import patch_stdout

    history_file.parent.mkdir(parents=True, exist_ok=True)
    prompt: PromptSession[str] = PromptSession(history=FileHistory(str(history_file)))

    def write(text: str) -> None:
        print(text, end="", flush=True)

    write(f"{tenant} · {chat.agent} · session {chat.session}   ({HELP})\n")
    while True:
        try:
            with patch_stdout():
                line = prompt.prompt(f"{chat.agent}> ", bottom_toolbar=f" {tenant} · {chat.agent} · {chat.session}")
        except KeyboardInterrupt:
            continue
        except EOFError:
            break
        if not chat.handle(line, write):
            break


def cmd_chat(args: argparse.Namespace) -> int:
    from clawgate.settings import get_settings

    settings = get_settings()
    url = args.url or f"http://127.0.0.1:{settings.port}"
    token = args.token or os.environ.get("CLAWGATE_TOKEN")
    if not token:
        if args.url:
            print("error: a deployed gateway needs a token: --token or CLAWGATE_TOKEN", flush=True)
            return 2
        token = local_token(args.tenant)
    chat = Chat(client_for(url, token), args.agent, session=args.session or new_session_id())
    problem = chat.check(args.tenant)
    if problem:
        print(f"error: {problem}", flush=True)
        return 1
    run_terminal(chat, settings.data_dir / "chat-history", args.tenant)
    return 0


def register(commands: Any) -> None:
    chat = commands.add_parser("chat", help="talk to an agent in the terminal (local runtime, or --url + token)")
    chat.add_argument("--tenant", required=True)
    chat.add_argument("--agent", required=True)
    chat.add_argument("--url", help="a deployed gateway's base URL (default: the local runtime on CLAWGATE_PORT)")
    chat.add_argument("--token", help="the tenant's gateway token (default: CLAWGATE_TOKEN; locally, minted once)")
    chat.add_argument("--session", help="continue this session (default: a new one)")
    chat.set_defaults(run=cmd_chat)
