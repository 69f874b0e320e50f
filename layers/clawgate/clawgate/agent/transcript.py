"""A session's transcript as the model reads it. Loading repairs what a failed turn may leave behind (a tool_use
without its result), merges a burst of user messages into one, and starts after the last compaction with its
summary (the rows come from `agent/data/sessions.py`)."""

from __future__ import annotations

from typing import Any

SUMMARY_PREFIX = "[Summary of the earlier conversation]\n"


def to_messages(summary: str | None, rows: list[tuple[int, str, list[Any]]]) -> list[dict[str, Any]]:
    """Rows → alternating user/assistant messages that the API accepts."""
    messages: list[dict[str, Any]] = []
    if summary:
        messages.append({"role": "user", "content": [{"type": "text", "text": SUMMARY_PREFIX + summary}]})
    for _, role, content in rows:
        api_role = "assistant" if role in ("assistant", "tool_use") else "user"
        if messages and messages[-1]["role"] == api_role:
            messages[-1]["content"] = messages[-1]["content"] + content
        else:
            messages.append({"role": api_role, "content": list(content)})
    return _drop_orphans(messages)


def _drop_orphans(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Keep tool_use/tool_result pairs together: drop either half when the other is missing."""
    results = {b["tool_use_id"] for m in messages for b in m["content"] if b.get("type") == "tool_result"}
    uses = {b["id"] for m in messages for b in m["content"] if b.get("type") == "tool_use"}
    cleaned: list[dict[str, Any]] = []
    for message in messages:
        content = [
            b
            for b in message["content"]
            if not (b.get("type") == "tool_use" and b["id"] not in results)
            and not (b.get("type") == "tool_result" and b["tool_use_id"] not in uses)
        ]
        if content:
            if cleaned and cleaned[-1]["role"] == message["role"]:
                cleaned[-1]["content"] += content
            else:
                cleaned.append({"role": message["role"], "content": content})
    while cleaned and cleaned[0]["role"] != "user":
        cleaned.pop(0)
    return cleaned


def estimate_tokens(value: Any) -> int:
    """About four characters a token: enough to decide when to compact."""
    return len(str(value)) // 4
