"""A loopback OpenAI-compatible chat-completions endpoint (an in-house LLM router, vLLM…), scripted like the
other fakes: queued text or tool-call answers, then an echo of the last user message."""

from __future__ import annotations

import json
import secrets
from collections import deque
from typing import Any

from clawgate.local.fakes.base import FakeServer, RecordedRequest, Response

COMPLETIONS_PATH = "/v1/chat/completions"
TRANSCRIPTIONS_PATH = "/v1/audio/transcriptions"


class FakeOpenAI(FakeServer):
    def __init__(self, port: int = 0, host: str = "127.0.0.1", api_key: str | None = None) -> None:
        super().__init__(port, host)
        self.api_key = api_key
        self._script: deque[dict[str, Any]] = deque()

    def script_text(self, text: str) -> None:
        with self._lock:
            self._script.append({"role": "assistant", "content": text})

    def script_tool_calls(self, calls: list[tuple[str, dict[str, Any]]]) -> None:
        tool_calls = [
            {"id": f"call_{secrets.token_hex(6)}", "type": "function",
             "function": {"name": name, "arguments": json.dumps(arguments)}}
            for name, arguments in calls
        ]  # fmt: skip
        with self._lock:
            self._script.append({"role": "assistant", "content": None, "tool_calls": tool_calls})

    def completion_requests(self) -> list[dict[str, Any]]:
        return [r.json for r in self.requests if r.path.rstrip("/") == COMPLETIONS_PATH and isinstance(r.json, dict)]

    def _reset_state(self) -> None:
        self._script.clear()

    def error_body(self, status: int) -> dict[str, Any]:
        return {"error": {"message": f"fake error {status}", "type": "server_error", "code": status}}

    transcript: str = "fake transcript"

    def transcription_requests(self) -> list[RecordedRequest]:
        return self.requests_to(TRANSCRIPTIONS_PATH)

    def handle(self, request: RecordedRequest) -> Response:
        if request.path.rstrip("/") == TRANSCRIPTIONS_PATH and request.method == "POST":
            if "file" not in request.files or not request.form.get("model"):
                return Response.json(self.error_body(400), 400)
            return Response.json({"text": self.transcript})
        if request.path.rstrip("/") != COMPLETIONS_PATH or request.method != "POST":
            return Response.json(self.error_body(404), 404)
        if self.api_key is not None and request.bearer_token != self.api_key:
            return Response.json(self.error_body(401), 401)
        body: dict[str, Any] = request.json if isinstance(request.json, dict) else {}
        with self._lock:
            message = self._script.popleft() if self._script else None
        if message is None:
            last: dict[str, Any] = next((m for m in reversed(body.get("messages", [])) if m.get("role") == "user"), {})
            message = {"role": "assistant", "content": f"fake reply to: {last.get('content', '')}"}
        finish = "tool_calls" if message.get("tool_calls") else "stop"
        prompt_chars = len(json.dumps(body.get("messages", [])))
        return Response.json({
            "id": f"chatcmpl-{secrets.token_hex(8)}", "object": "chat.completion", "model": body.get("model", ""),
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": {"prompt_tokens": prompt_chars // 4, "completion_tokens": len(str(message.get("content"))) // 4},
        })  # fmt: skip
