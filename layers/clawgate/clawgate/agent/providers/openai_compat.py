"""Any endpoint that speaks the OpenAI chat-completions API (an in-house LLM router, vLLM, …), with its own base
URL and key. Anthropic-style blocks are translated at this edge, both ways."""

from __future__ import annotations

import json
from typing import Any

import httpx

from clawgate.agent.providers.base import (
    ModelAnswer,
    ModelError,
    ModelOverloaded,
    ModelRateLimited,
    ModelRequest,
    ModelTimeout,
    Usage,
)
from clawgate.core.channels import TextSink

STOP_REASONS = {"stop": "end_turn", "tool_calls": "tool_use", "length": "max_tokens"}


class OpenAICompatibleProvider:
    def __init__(self, name: str, base_url: str, api_key: str | None, timeout_s: float = 60.0) -> None:
        self.name = name
        headers = {"authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = httpx.Client(base_url=base_url.rstrip("/"), headers=headers, timeout=timeout_s)

    def complete(self, request: ModelRequest, on_text: TextSink | None = None) -> ModelAnswer:
        body: dict[str, Any] = {
            "model": request.model,
            "max_tokens": request.max_tokens,
            "messages": to_openai_messages(request.system, request.messages),
        }
        if request.tools:
            body["tools"] = [
                {"type": "function", "function": {"name": t["name"], "description": t.get("description", ""),
                                                  "parameters": t["input_schema"]}}
                for t in request.tools
            ]  # fmt: skip
        try:
            response = self._http.post("/chat/completions", json=body)
        except httpx.TimeoutException as error:
            raise ModelTimeout(str(error)) from error
        except httpx.TransportError as error:
            raise ModelTimeout(f"connection: {error}") from error
        if response.status_code == 429:
            raise ModelRateLimited(response.text[:300])
        if response.status_code >= 500:
            raise ModelOverloaded(f"{response.status_code}: {response.text[:300]}")
        if response.status_code >= 400:
            raise ModelError(f"{response.status_code}: {response.text[:300]}")
        answer = from_openai_answer(response.json())
        if on_text and answer.text:
            on_text(answer.text)
        return answer


def to_openai_messages(system: list[dict[str, Any]], messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    converted: list[dict[str, Any]] = [{"role": "system", "content": "\n\n".join(b["text"] for b in system)}]
    for message in messages:
        content = message["content"]
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
        texts = [b["text"] for b in blocks if b.get("type") == "text"]
        tool_uses = [b for b in blocks if b.get("type") == "tool_use"]
        results = [b for b in blocks if b.get("type") == "tool_result"]
        for result in results:
            converted.append({"role": "tool", "tool_call_id": result["tool_use_id"], "content": _result_text(result)})
        if message["role"] == "assistant":
            entry: dict[str, Any] = {"role": "assistant", "content": "\n".join(texts) or None}
            if tool_uses:
                entry["tool_calls"] = [
                    {"id": t["id"], "type": "function",
                     "function": {"name": t["name"], "arguments": json.dumps(t["input"])}}
                    for t in tool_uses
                ]  # fmt: skip
            converted.append(entry)
        elif texts:
            converted.append({"role": "user", "content": "\n".join(texts)})
    return converted


def _result_text(result: dict[str, Any]) -> str:
    content = result.get("content", "")
    if isinstance(content, list):
        return "\n".join(b.get("text", "") for b in content)
    return str(content)


def from_openai_answer(body: dict[str, Any]) -> ModelAnswer:
    try:
        choice = body["choices"][0]
        message = choice["message"]
    except (KeyError, IndexError, TypeError) as error:
        raise ModelError(f"not a chat completion: {str(body)[:200]}") from error
    content: list[dict[str, Any]] = []
    if message.get("content"):
        content.append({"type": "text", "text": message["content"]})
    for call in message.get("tool_calls") or []:
        try:
            arguments = json.loads(call["function"].get("arguments") or "{}")
        except ValueError:
            arguments = {"_unparsed": call["function"].get("arguments")}
        content.append({"type": "tool_use", "id": call["id"], "name": call["function"]["name"], "input": arguments})
    usage = body.get("usage") or {}
    stop = "tool_use" if message.get("tool_calls") else STOP_REASONS.get(choice.get("finish_reason"), "end_turn")
    return ModelAnswer(
        content=content,
        stop_reason=stop,
        usage=Usage(input_tokens=usage.get("prompt_tokens", 0), output_tokens=usage.get("completion_tokens", 0)),
        model=str(body.get("model", "")),
    )
