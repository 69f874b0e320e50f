"""What the AgentTurn state machine's Ingest state receives, typed: from the EventBridge Pipe, the SQS records of one
conversation's FIFO group (their bodies are envelopes); from the run API, the control UI's replay or a schedule, a
turn asked for directly."""

from __future__ import annotations

from typing import Any

from clawgate.agent.ingest import IngestInput, ReplayRequest, RunRequest


def ingest_input(event: Any) -> IngestInput:
    if isinstance(event, list):
        return [str(record.get("body", "")) for record in event]
    if event.get("source") == "replay":
        return ReplayRequest.model_validate(event)
    return RunRequest.model_validate(event)
