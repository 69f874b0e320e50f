"""Fake Discord REST API (v10): interaction webhooks (`PATCH /api/v10/webhooks/{app}/{token}/messages/@original`,
follow-ups `POST /api/v10/webhooks/{app}/{token}`), channel messages with a bot token, and application command
registration (`PUT /api/v10/applications/{app}/commands`). Everything is recorded; 429s carry `retry_after` in the
body and `Retry-After` as a header, as Discord's do."""

from __future__ import annotations

import itertools
import re
from typing import Any

from clawgate.local.fakes.base import FakeServer, RecordedRequest, Response

_ORIGINAL = re.compile(r"^/api/v10/webhooks/(?P<app>\d+)/(?P<token>[^/]+)/messages/@original$")
_FOLLOWUP = re.compile(r"^/api/v10/webhooks/(?P<app>\d+)/(?P<token>[^/]+)$")
_CHANNEL = re.compile(r"^/api/v10/channels/(?P<channel>\d+)/messages$")
_COMMANDS = re.compile(r"^/api/v10/applications/(?P<app>\d+)/commands$")
MAX_CONTENT = 2000


class FakeDiscord(FakeServer):
    """`bot_token`, when given, is the only `Authorization: Bot …` accepted on bot routes. Interaction tokens are
    accepted unless `expire(token)` was called (then 404 Unknown Webhook, as after 15 minutes)."""

    def __init__(self, port: int = 0, host: str = "127.0.0.1", bot_token: str | None = None) -> None:
        super().__init__(port, host)
        self.bot_token = bot_token
        self._init_state()

    def _init_state(self) -> None:
        self.expired: set[str] = set()
        self.commands: dict[str, list[dict[str, Any]]] = {}
        self.delivered: list[tuple[str, dict[str, Any]]] = []  # (edit | followup | channel, path params + body)
        self._ids = itertools.count(1_300_000_000_000_000_000)

    def _reset_state(self) -> None:
        self._init_state()

    def expire(self, token: str) -> None:
        with self._lock:
            self.expired.add(token)

    def error_body(self, status: int) -> dict[str, Any]:
        if status == 429:
            return {"message": "You are being rate limited.", "retry_after": 1.0, "global": False}
        return {"message": f"{status} error", "code": 0}

    def edits(self) -> list[dict[str, Any]]:
        """Successful PATCHes of @original: `{"app", "token", "content", …}`, oldest first."""
        return self._delivered("edit")

    def followups(self) -> list[dict[str, Any]]:
        return self._delivered("followup")

    def channel_messages(self) -> list[dict[str, Any]]:
        return self._delivered("channel")

    def _delivered(self, kind: str) -> list[dict[str, Any]]:
        with self._lock:
            return [body for recorded, body in self.delivered if recorded == kind]

    def handle(self, request: RecordedRequest) -> Response:
        response = self._answer(request)
        body = request.json if isinstance(request.json, dict) else {}
        for kind, pattern, method in (("edit", _ORIGINAL, "PATCH"), ("followup", _FOLLOWUP, "POST"),
                                      ("channel", _CHANNEL, "POST")):  # fmt: skip
            match = pattern.match(request.path)
            if match and request.method == method and response.status < 300:
                with self._lock:
                    self.delivered.append((kind, {**match.groupdict(), **body}))
        return response

    def _answer(self, request: RecordedRequest) -> Response:
        body = request.json if isinstance(request.json, dict) else {}
        if match := _ORIGINAL.match(request.path) or _FOLLOWUP.match(request.path):
            if match["token"] in self.expired:
                return Response.json({"message": "Unknown Webhook", "code": 10015}, 404)
            return self._message(body, request.path)
        if match := _CHANNEL.match(request.path):
            if not self._bot(request):
                return Response.json({"message": "401: Unauthorized", "code": 0}, 401)
            return self._message(body, request.path, channel_id=match["channel"])
        if match := _COMMANDS.match(request.path):
            if not self._bot(request):
                return Response.json({"message": "401: Unauthorized", "code": 0}, 401)
            if request.method == "PUT" and isinstance(request.json, list):
                with self._lock:
                    self.commands[match["app"]] = [{"id": str(next(self._ids)), "application_id": match["app"],
                                                    **command} for command in request.json]  # fmt: skip
            return Response.json(self.commands.get(match["app"], []))
        return Response.json({"message": "404: Not Found", "code": 0}, 404)

    def _bot(self, request: RecordedRequest) -> bool:
        auth = request.headers.get("authorization", "")
        return auth.startswith("Bot ") and (self.bot_token is None or auth == f"Bot {self.bot_token}")

    def _message(self, body: dict[str, Any], path: str, channel_id: str = "0") -> Response:
        content = body.get("content")
        if not isinstance(content, str) or not content or len(content) > MAX_CONTENT:
            errors = {"content": {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH"}]}}
            return Response.json({"message": "Invalid Form Body", "code": 50035, "errors": errors}, 400)
        return Response.json({"id": str(next(self._ids)), "channel_id": channel_id, "content": content, "type": 0})
