"""Compaction: when a session nears the model's context limit, the older part of the transcript becomes a summary
written by the model; the last turns stay verbatim, and a tool call is never separated from its result."""

from __future__ import annotations

from typing import Any

from clawgate.agent.data.sessions import record_compaction, session_summary
from clawgate.agent.providers import provider_for, split_model
from clawgate.agent.providers.base import ModelRequest
from clawgate.agent.transcript import estimate_tokens, to_messages
from clawgate.agent.usage import record_usage
from clawgate.core.turns import Turn
from clawgate.db import tenant_tx
from clawgate.observability import logger
from clawgate.tenancy.model import TenantFile

COMPACT_AT = 0.75  # of the context budget
KEEP_USER_MESSAGES = 4  # the last turns kept verbatim
SUMMARY_INSTRUCTIONS = (
    "Summarise the conversation below for your own future reference: who the person is, what they asked for, what"
    " was decided or promised, open questions, and facts you must not forget. Be concise; write plain text."
)


def cut_point(rows: list[tuple[int, str, list[Any]]]) -> int:
    """Index of the first row kept verbatim: the start of the KEEP_USER_MESSAGES-th last user message (a user row
    that is a real message, not a tool result), so tool pairs before it stay together."""
    starts = [i for i, (_, role, _) in enumerate(rows) if role == "user"]
    if len(starts) <= KEEP_USER_MESSAGES:
        return 0
    return starts[-KEEP_USER_MESSAGES]


def maybe_compact(
    tenant: TenantFile, turn: Turn, model: str, rows: list[tuple[int, str, list[Any]]], budget_tokens: int
) -> bool:
    if estimate_tokens(rows) < COMPACT_AT * budget_tokens:
        return False
    cut = cut_point(rows)
    if cut == 0:
        return False
    older = rows[:cut]
    with tenant_tx(tenant.slug) as conn:
        previous = session_summary(conn, turn.session_id)
    transcript = to_messages(previous, older)
    rendered = "\n".join(f"{m['role']}: {_render(m['content'])}" for m in transcript)
    _, model_id = split_model(model)
    answer = provider_for(tenant, model).complete(
        ModelRequest(
            model=model_id,
            system=[{"type": "text", "text": SUMMARY_INSTRUCTIONS}],
            messages=[{"role": "user", "content": [{"type": "text", "text": rendered}]}],
            max_tokens=1024,
        )
    )
    provider, _ = split_model(model)
    with tenant_tx(tenant.slug) as conn:
        record_usage(conn, turn.id, turn.agent_id, provider, answer.model or model_id, answer.usage)
        record_compaction(conn, turn.session_id, answer.text, older[-1][0])
    logger.info("session compacted", extra={"session": turn.session_id, "rows": len(older)})
    return True


def _render(content: list[dict[str, Any]]) -> str:
    parts = []
    for block in content:
        if block.get("type") == "text":
            parts.append(block["text"])
        elif block.get("type") == "tool_use":
            parts.append(f"(called {block['name']} with {block.get('input')})")
        elif block.get("type") == "tool_result":
            parts.append(f"(tool result: {str(block.get('content'))[:500]})")
    return " ".join(parts)
