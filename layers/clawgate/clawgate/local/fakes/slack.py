"""Fake Slack Web API: `POST /api/<method>` with a bot token (`Authorization: Bearer xoxb-…`), JSON or form bodies.
`chat.postMessage`, `users.info` and `auth.test` answer as Slack does; every call is recorded. Errors are HTTP 200
with `{"ok": false, "error"}`, and rate limits HTTP 429 with `Retry-After` (program them with `rate_limit`)."""

from __future__ import annotations

import itertools
import time
from typing import Any

from clawgate.local.fakes.base import FakeServer, RecordedRequest, Response


class FakeSlack(FakeServer):
    """`token`, when given, is the only bot token accepted (others get `invalid_auth`). `users` maps user ids to the
    `user` object `users.info` answers (unknown ids: a full member of `team_id`)."""

    def __init__(
        self, port: int = 0, host: str = "127.0.0.1", token: str | None = None, team_id: str = "T0FAKE"
    ) -> None:
        super().__init__(port, host)
        self.token = token
        self.team_id = team_id
        self._init_state()

    def _init_state(self) -> None:
        self.users: dict[str, dict[str, Any]] = {}
        self.messages: list[dict[str, Any]] = []  # what chat.postMessage accepted: its parameters and `ts`
        self._ts = itertools.count(1)

    def _reset_state(self) -> None:
        self._init_state()

    def add_user(self, user_id: str, **fields: Any) -> None:
        """e.g. `add_user("U2", is_restricted=True)` for a guest, `team_id="T9"` for someone of another workspace."""
        with self._lock:
            self.users[user_id] = {"id": user_id, "team_id": self.team_id, "name": user_id.lower(), **fields}

    def rate_limit(self, retry_after: int = 1, times: int = 1, method: str = "chat.postMessage") -> None:
        self.fail_next(429, {"ok": False, "error": "ratelimited"}, times=times, path_contains=f"/api/{method}",
                       headers={"retry-after": str(retry_after)})  # fmt: skip

    def error_body(self, status: int) -> dict[str, Any]:
        return {"ok": False, "error": "fatal_error" if status >= 500 else "invalid_request"}

    def posted(self, channel: str | None = None) -> list[dict[str, Any]]:
        """The messages chat.postMessage accepted (their parameters and `ts`), oldest first."""
        with self._lock:
            return [m for m in self.messages if channel is None or m["channel"] == channel]

    def _authorized(self, request: RecordedRequest) -> bool:
        token = request.bearer_token or str(request.params.get("token") or "")
        return bool(token) and (self.token is None or token == self.token)

    def handle(self, request: RecordedRequest) -> Response:
        method = request.path.removeprefix("/api/")
        if not self._authorized(request):
            return Response.json({"ok": False, "error": "not_authed" if not request.bearer_token else "invalid_auth"})
        params = request.params
        if method == "auth.test":
            return Response.json({"ok": True, "team_id": self.team_id, "user_id": "UBOT", "bot_id": "BBOT"})
        if method == "users.info":
            user = self.users.get(str(params.get("user")))
            user = user or {"id": params.get("user"), "team_id": self.team_id, "name": str(params.get("user")).lower()}
            return Response.json({"ok": True, "user": user})
        if method == "chat.postMessage":
            if not params.get("channel"):
                return Response.json({"ok": False, "error": "channel_not_found"})
            if not params.get("text") and not params.get("blocks"):
                return Response.json({"ok": False, "error": "no_text"})
            ts = f"{int(time.time())}.{next(self._ts):06d}"
            message = {"type": "message", "text": params.get("text"), "ts": ts, "bot_id": "BBOT",
                       **({"thread_ts": params["thread_ts"]} if params.get("thread_ts") else {})}  # fmt: skip
            with self._lock:
                self.messages.append({**params, "ts": ts})
            return Response.json({"ok": True, "channel": params["channel"], "ts": ts, "message": message})
        return Response.json({"ok": False, "error": "unknown_method"})
