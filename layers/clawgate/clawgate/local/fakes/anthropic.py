"""Fake Anthropic Messages API (`POST /v1/messages`, streaming, `count_tokens`) for the real `anthropic` SDK.

Answers come from, in order: the `responder` hook, the script queue (`script_text`, `script_tool_use`), then
`default` (or an echo "fake reply to: <last user text>"). Token usage is estimated as characters/4, and prompt
caching is simulated: a `cache_control` prefix seen before is a cache read, a new one a cache write.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from clawgate.local.fakes.base import FakeServer, RecordedRequest, Response, iter_chunks

MESSAGES_PATH = "/v1/messages"
COUNT_TOKENS_PATH = "/v1/messages/count_tokens"
_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


def anthropic_error(status: int, message: str | None = None) -> dict[str, Any]:
    """The Anthropic error envelope for an HTTP status."""
    error_type = _ERROR_TYPES.get(status, "api_error")
    return {
        "type": "error",
        "error": {"type": error_type, "message": message or error_type.replace("_", " ").capitalize()},
        "request_id": f"req_{secrets.token_hex(12)}",
    }


@dataclass
class Answer:
    """One assistant turn: content blocks (API shape) and the stop reason."""

    content: list[dict[str, Any]]
    stop_reason: str = "end_turn"

    @classmethod
    def text(cls, text: str, stop_reason: str = "end_turn") -> Answer:
        return cls([{"type": "text", "text": text}], stop_reason)

    @classmethod
    def tool_use(cls, calls: list[tuple[str, dict[str, Any]]], text: str | None = None) -> Answer:
        blocks: list[dict[str, Any]] = [{"type": "text", "text": text}] if text else []
        for name, tool_input in calls:
            tool_id = f"toolu_{secrets.token_hex(12)}"
            blocks.append({"type": "tool_use", "id": tool_id, "name": name, "input": tool_input})
        return cls(blocks, "tool_use")


Responder = Callable[[dict[str, Any]], "Answer | str | None"]


@dataclass
class _Usage:
    input_tokens: int
    output_tokens: int
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cache_creation_input_tokens": self.cache_creation_input_tokens,
            "cache_read_input_tokens": self.cache_read_input_tokens,
        }


def _tokens(chars: int) -> int:
    return max(1, (chars + 3) // 4)


def _block_chars(block: dict[str, Any]) -> int:
    return len(block.get("text", "")) + (len(json.dumps(block["input"])) if "input" in block else 0)


def _prompt_pieces(body: dict[str, Any]) -> list[tuple[str, bool]]:
    """The prompt in cache order (tools, system, messages) as (serialised piece, has cache_control)."""
    pieces: list[tuple[str, bool]] = [(json.dumps(tool), "cache_control" in tool) for tool in body.get("tools") or []]
    system = body.get("system")
    blocks: list[Any] = [system] if isinstance(system, str) else list(system or [])
    for message in body.get("messages") or []:
        content = message.get("content")
        blocks.extend([content] if isinstance(content, str) else content or [])
    pieces.extend((json.dumps(b), isinstance(b, dict) and "cache_control" in b) for b in blocks)
    return pieces


def _last_user_text(body: dict[str, Any]) -> str:
    for message in reversed(body.get("messages") or []):
        if message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            return content
        texts = [b.get("text", "") for b in content or [] if b.get("type") == "text"]
        results = [json.dumps(b.get("content")) for b in content or [] if b.get("type") == "tool_result"]
        return " ".join(texts) or f"tool results {' '.join(results)}"
    return ""


def _sse(event: str, data: dict[str, Any]) -> str:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n"


BEDROCK_INVOKE = re.compile(r"^/model/([^/]+)/invoke$")


class FakeAnthropic(FakeServer):
    """Loopback Messages API. `api_key`, when given, must match the request's key."""

    def __init__(self, port: int = 0, host: str = "127.0.0.1", api_key: str | None = None) -> None:
        super().__init__(port, host)
        self.api_key = api_key
        self.responder: Responder | None = None
        self.default: Answer | None = None
        self.stream_chunk_chars = 8
        self._script: deque[Answer] = deque()
        self._cached_prefixes: set[str] = set()

    # scripting -------------------------------------------------------------------------------------------------
    def script(self, *answers: Answer) -> None:
        with self._lock:
            self._script.extend(answers)

    def script_text(self, text: str, stop_reason: str = "end_turn") -> None:
        self.script(Answer.text(text, stop_reason))

    def script_tool_use(self, calls: list[tuple[str, dict[str, Any]]], text: str | None = None) -> Answer:
        """Queue one assistant message with a tool_use block per call; returns it so tests can read the ids."""
        answer = Answer.tool_use(calls, text)
        self.script(answer)
        return answer

    def fail_rate_limited(self, times: int = 1, retry_after: int = 1) -> None:
        self.fail_next(
            429,
            anthropic_error(429, "Number of requests has exceeded your rate limit"),
            times,
            MESSAGES_PATH,
            {"retry-after": str(retry_after)},
        )

    def fail_overloaded(self, times: int = 1) -> None:
        self.fail_next(529, anthropic_error(529, "Overloaded"), times, MESSAGES_PATH)

    def error_body(self, status: int) -> dict[str, Any]:
        return anthropic_error(status)

    @property
    def pending_answers(self) -> int:
        with self._lock:
            return len(self._script)

    def message_requests(self) -> list[dict[str, Any]]:
        """JSON bodies of every POST /v1/messages received."""
        return [r.json for r in self.requests if r.path.rstrip("/") == MESSAGES_PATH and isinstance(r.json, dict)]

    def _reset_state(self) -> None:
        self._script.clear()
        self._cached_prefixes.clear()
        self.responder = None
        self.default = None

    # dispatch --------------------------------------------------------------------------------------------------
    def handle(self, request: RecordedRequest) -> Response:
        path = request.path.rstrip("/")
        bedrock = BEDROCK_INVOKE.match(path)
        if bedrock:
            return self._bedrock_invoke(request, unquote(bedrock.group(1)))
        if path not in (MESSAGES_PATH, COUNT_TOKENS_PATH):
            return Response.json(anthropic_error(404, f"Not found: {request.path}"), 404)
        if request.method != "POST":
            return Response.json(anthropic_error(400, f"Method {request.method} not allowed"), 405)
        problem = self._auth_problem(request) or self._body_problem(request, path == COUNT_TOKENS_PATH)
        if problem is not None:
            return problem
        body: dict[str, Any] = request.json or {}
        if path == COUNT_TOKENS_PATH:
            return Response.json({"input_tokens": _tokens(sum(len(p) for p, _ in _prompt_pieces(body)))})
        message = self._message(body, self._next_answer(body))
        if body.get("stream"):
            stream = "".join(self._stream_events(message)).encode()
            return Response(200, stream, {"content-type": "text/event-stream", "cache-control": "no-cache"})
        return Response.json(message, headers={"request-id": f"req_{secrets.token_hex(12)}"})

    def _bedrock_invoke(self, request: RecordedRequest, model: str) -> Response:
        """Bedrock's InvokeModel: the Messages body without `model` (it is in the path), signed with SigV4."""
        if not request.headers.get("authorization", "").startswith("AWS4-HMAC-SHA256"):
            return Response.json({"message": "Missing Authentication Token"}, 403)
        body: dict[str, Any] = dict(request.json) if isinstance(request.json, dict) else {}
        if not body.get("anthropic_version"):  # the SDK sends its own version string here
            return Response.json({"message": "anthropic_version is required in the body"}, 400)
        body["model"] = model
        return Response.json(self._message(body, self._next_answer(body)))

    def bedrock_requests(self) -> list[dict[str, Any]]:
        """Bodies of every InvokeModel call, with the model id from the path under `model`."""
        found = []
        for request in self.requests:
            match = BEDROCK_INVOKE.match(request.path.rstrip("/"))
            if match and isinstance(request.json, dict):
                found.append({**request.json, "model": unquote(match.group(1))})
        return found

    def _auth_problem(self, request: RecordedRequest) -> Response | None:
        key = request.headers.get("x-api-key") or request.bearer_token
        if not key:
            return Response.json(anthropic_error(401, "x-api-key header is required"), 401)
        if self.api_key is not None and key != self.api_key:
            return Response.json(anthropic_error(401, "invalid x-api-key"), 401)
        return None

    def _body_problem(self, request: RecordedRequest, count_only: bool) -> Response | None:
        body = request.json
        if not isinstance(body, dict):
            return Response.json(anthropic_error(400, "Request body must be a JSON object"), 400)
        required = ("model", "messages") if count_only else ("model", "max_tokens", "messages")
        missing = [name for name in required if name not in body]
        if missing:
            return Response.json(anthropic_error(400, f"{missing[0]}: Field required"), 400)
        return None

    def _next_answer(self, body: dict[str, Any]) -> Answer:
        responder = self.responder
        if responder is not None:
            produced = responder(body)
            if produced is not None:
                return Answer.text(produced) if isinstance(produced, str) else produced
        with self._lock:
            if self._script:
                return self._script.popleft()
        return self.default or Answer.text(f"fake reply to: {_last_user_text(body)[:500]}")

    # response shape --------------------------------------------------------------------------------------------
    def _message(self, body: dict[str, Any], answer: Answer) -> dict[str, Any]:
        content, stop_reason = self._truncate(answer, int(body.get("max_tokens") or 0))
        output_chars = sum(_block_chars(block) for block in content)
        usage = self._input_usage(body)
        usage.output_tokens = _tokens(output_chars)
        if stop_reason == "max_tokens" and body.get("max_tokens"):
            usage.output_tokens = min(usage.output_tokens, int(body["max_tokens"]))
        return {
            "id": f"msg_{secrets.token_hex(12)}",
            "type": "message",
            "role": "assistant",
            "model": body.get("model"),
            "content": content,
            "stop_reason": stop_reason,
            "stop_sequence": None,
            "usage": usage.as_dict(),
        }

    @staticmethod
    def _truncate(answer: Answer, max_tokens: int) -> tuple[list[dict[str, Any]], str]:
        """A text-only answer longer than max_tokens*4 characters is cut, with stop_reason max_tokens."""
        content = [dict(block) for block in answer.content]
        limit = max_tokens * 4
        text_only = answer.stop_reason == "end_turn" and all(b["type"] == "text" for b in content)
        if max_tokens > 0 and text_only and sum(len(b["text"]) for b in content) > limit:
            text = "".join(b["text"] for b in content)[:limit]
            return [{"type": "text", "text": text}], "max_tokens"
        return content, answer.stop_reason

    def _input_usage(self, body: dict[str, Any]) -> _Usage:
        pieces = _prompt_pieces(body)
        total = _tokens(sum(len(p) for p, _ in pieces))
        breakpoints = [i + 1 for i, (_, marked) in enumerate(pieces) if marked]
        if not breakpoints:
            return _Usage(total, 0)
        digest = hashlib.sha256(str(body.get("model")).encode())
        keys: dict[int, str] = {}
        for i, (piece, _) in enumerate(pieces, 1):
            digest.update(piece.encode())
            if i in breakpoints:
                keys[i] = digest.hexdigest()
        with self._lock:
            read_end = max((i for i, key in keys.items() if key in self._cached_prefixes), default=0)
            self._cached_prefixes.update(keys.values())
        write_end = breakpoints[-1]
        read = _tokens(sum(len(p) for p, _ in pieces[:read_end])) if read_end else 0
        written = _tokens(sum(len(p) for p, _ in pieces[read_end:write_end])) if write_end > read_end else 0
        return _Usage(max(1, total - read - written), 0, written, read)

    def _stream_events(self, message: dict[str, Any]) -> Iterator[str]:
        usage = message["usage"]
        start = {**message, "content": [], "stop_reason": None, "usage": {**usage, "output_tokens": 1}}
        yield _sse("message_start", {"type": "message_start", "message": start})
        yield _sse("ping", {"type": "ping"})
        for index, block in enumerate(message["content"]):
            yield from self._stream_block(index, block)
        delta = {"stop_reason": message["stop_reason"], "stop_sequence": None}
        yield _sse("message_delta", {"type": "message_delta", "delta": delta, "usage": usage})
        yield _sse("message_stop", {"type": "message_stop"})

    def _stream_block(self, index: int, block: dict[str, Any]) -> Iterator[str]:
        if block["type"] == "tool_use":
            opening = {**block, "input": {}}
            deltas = [
                {"type": "input_json_delta", "partial_json": part}
                for part in iter_chunks(json.dumps(block["input"]), self.stream_chunk_chars)
            ]
        else:
            opening = {**block, "text": ""}
            deltas = [
                {"type": "text_delta", "text": part}
                for part in iter_chunks(block.get("text", ""), self.stream_chunk_chars)
            ]
        yield _sse("content_block_start", {"type": "content_block_start", "index": index, "content_block": opening})
        for delta in deltas:
            yield _sse("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta})
        yield _sse("content_block_stop", {"type": "content_block_stop", "index": index})
