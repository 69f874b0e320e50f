"""The tenant's rules on a customer's message: an opt-out (STOP, or an equivalent in the tenant's language), a
hand-off keyword, and the auto-resume clock of a conversation in `human` mode (`handoff.auto_resume_minutes`)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from clawgate.conversations.data.conversations import Conversation

_EDGES = re.compile(r"^[\W_]+|[\W_]+$")


def _normalised(text: str) -> str:
    return _EDGES.sub("", " ".join(text.split())).casefold()


def is_opt_out(keywords: list[str], text: str) -> bool:
    """The whole message is an opt-out word ("STOP", "Стоп!"); a sentence that mentions one is not."""
    words = {_normalised(k) for k in keywords}
    return bool(text) and _normalised(text) in words


def handoff_keyword(keywords: list[str], text: str) -> str | None:
    """The first of the tenant's hand-off keywords the message contains (any case, whole words)."""
    lowered = f" {_normalised(text)} "
    for keyword in keywords:
        if re.search(rf"(?<!\w){re.escape(_normalised(keyword))}(?!\w)", lowered):
            return keyword
    return None


def resume_due(minutes: int | None, conversation: Conversation, now: datetime) -> bool:
    """In `human` mode with no operator message for `minutes` since the hand-over (or the last one)."""
    if conversation.mode != "human" or minutes is None:
        return False
    marks = [t for t in (conversation.mode_changed_at, conversation.last_operator_at) if t is not None]
    return bool(marks) and now - max(marks) >= timedelta(minutes=minutes)
