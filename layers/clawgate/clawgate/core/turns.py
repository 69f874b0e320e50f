"""The turn: one run of an agent on a conversation, from the messages that started it to the reply. `Turn` is its
row as every step and every channel adapter reads it; `TurnRef` and `StepInput` are what travels between the states
of the AgentTurn state machine (ids only: Step Functions payloads stop at 256 KB)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel

Next = Literal["model", "tools", "deliver", "done"]


class TurnRef(BaseModel):
    """What the state machine carries between states: never a transcript (256 KB payload limit)."""

    tenant: str
    turn_id: int
    next: Next = "model"


class StepInput(BaseModel):
    tenant: str
    turn_id: int
    attempt: int = 0


@dataclass(frozen=True)
class Turn:
    id: int
    session_id: int
    agent_id: str
    channel: str
    account_id: str | None
    peer_id: str
    status: str
    trigger: str
    step_count: int
    reply_text: str | None
    context: dict[str, Any]  # sender_name, is_group, reply_to, account_config, and what the adapter put there
