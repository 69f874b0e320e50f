"""The stand-in model of `clawgate dev` when no model credentials are set: it answers, clearly labelled, so the
rest of the product can be tried without a key. It never calls tools."""

from __future__ import annotations

from clawgate.agent.providers.base import ModelAnswer, ModelRequest, Usage
from clawgate.core.channels import TextSink

LABEL = "[offline stand-in model — set ANTHROPIC_API_KEY for real answers]"


class OfflineProvider:
    name = "offline"

    def complete(self, request: ModelRequest, on_text: TextSink | None = None) -> ModelAnswer:
        said = _last_user_text(request.messages)
        text = f"{LABEL} You said: {said[:500]}" if said else LABEL
        if on_text:
            on_text(text)
        return ModelAnswer([{"type": "text", "text": text}], "end_turn", Usage(output_tokens=len(text) // 4), "offline")


def _last_user_text(messages: list[dict[str, object]]) -> str:
    for message in reversed(messages):
        content = message.get("content")
        if message.get("role") != "user":
            continue
        if isinstance(content, str):
            return content
        if isinstance(content, list):
            texts = [b.get("text", "") for b in content if isinstance(b, dict) and b.get("type") == "text"]
            if texts:
                return str(texts[-1])
    return ""
