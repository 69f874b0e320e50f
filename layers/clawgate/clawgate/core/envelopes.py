"""Queue envelopes as plain JSON, built by the webhook functions without pydantic (cold start) and validated into
`contract.Envelope` by Ingest. Also: fitting one into an SQS message and sending a batch within SQS's limits."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from clawgate.core import ports
from clawgate.core.ports import QueueMessage

# An inbound message reaches the turn's execution inside the Pipe's SQS record, as a JSON string in its `body`:
# escaped once more (a quote becomes two bytes, a non-ASCII character up to six as \uXXXX), next to about a
# kilobyte of record fields. Step Functions takes 256 KiB of input, so a body is measured escaped and kept under
# MAX_ESCAPED_BODY_BYTES, whatever it contains. SQS's own limits (256 KiB per message and per batch) follow.
PIPE_INPUT_LIMIT_BYTES = 262_144
PIPE_RECORD_OVERHEAD_BYTES = 4_096
MAX_ESCAPED_BODY_BYTES = PIPE_INPUT_LIMIT_BYTES - PIPE_RECORD_OVERHEAD_BYTES
MAX_MESSAGE_BYTES = 240_000
MAX_BATCH_BYTES = 240_000
MAX_BATCH_COUNT = 10
_KEEP_CHARS = 16_000  # a string longer than this in an oversized update is cut to this (and flagged)


def envelope(
    channel: str,
    kind: str,
    *,
    account_id: str = "",
    provider_id: str = "",
    update: dict[str, Any] | None = None,
    context: dict[str, Any] | None = None,
    raw: str | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {"channel": channel, "kind": kind, "account_id": account_id, "provider_id": provider_id}
    if update is not None:
        body["update"] = update
    if context:
        body["context"] = context
    if raw is not None:
        body["raw"] = raw
    return body


def digest(value: Any) -> str:
    """A stable id for something the provider gave no id to (the same bytes on a retry give the same id)."""
    data = value if isinstance(value, bytes) else json.dumps(value, sort_keys=True, default=str).encode()
    return hashlib.sha256(data).hexdigest()[:32]


def escaped_size(text: str) -> int:
    """The bytes `text` takes as a JSON string with every escape applied (the most any encoder makes of it)."""
    return len(json.dumps(text, ensure_ascii=True))


def fits(text: str) -> bool:
    return len(text.encode()) <= MAX_MESSAGE_BYTES and escaped_size(text) <= MAX_ESCAPED_BODY_BYTES


def queue_message(body: dict[str, Any], group_id: str, dedup_id: str | None) -> QueueMessage:
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    if not fits(text):
        text = json.dumps(_shrunk(body), ensure_ascii=False, separators=(",", ":"))
    return QueueMessage(text, group_id=group_id[:128], dedup_id=dedup_id)


def _shrunk(body: dict[str, Any]) -> dict[str, Any]:
    """An update too big for SQS (no real message is: WhatsApp text stops at 4,096 characters) keeps its ids and
    structure, with long strings cut and `clawgate_truncated` set, so Ingest still sees and stores it."""
    smaller = {**body, "context": _cut(body.get("context", {})), "update": _cut(body.get("update", {}))}
    if isinstance(smaller.get("raw"), str):
        smaller["raw"] = smaller["raw"][: MAX_MESSAGE_BYTES // 8]
    smaller["clawgate_truncated"] = True
    text = json.dumps(smaller, ensure_ascii=False, separators=(",", ":"))
    if not fits(text):  # bulk of many strings: keep the envelope, drop the payload
        smaller["update"] = {"clawgate_dropped_bytes": len(text.encode())}
        smaller["context"] = {}
    return smaller


def _cut(value: Any) -> Any:
    if isinstance(value, str):
        return value[:_KEEP_CHARS] if len(value) > _KEEP_CHARS else value
    if isinstance(value, dict):
        return {key: _cut(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_cut(item) for item in value]
    return value


def send(messages: Sequence[QueueMessage], queue: str = "inbound") -> None:
    """Send in batches of at most 10 messages and 240 KB (SendMessageBatch's limits), in order."""
    batch: list[QueueMessage] = []
    size = 0
    for message in messages:
        length = len(message.body.encode())
        if batch and (len(batch) == MAX_BATCH_COUNT or size + length > MAX_BATCH_BYTES):
            ports.queues().send(queue, batch)
            batch, size = [], 0
        batch.append(message)
        size += length
    if batch:
        ports.queues().send(queue, batch)
