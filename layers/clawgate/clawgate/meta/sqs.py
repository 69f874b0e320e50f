"""The SQS event a queue-consuming Lambda receives (`{"Records": [...]}`) and the partial batch failure answer that
makes SQS redeliver only the failed messages (the event source has `ReportBatchItemFailures` on)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class SqsRecord(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    message_id: str = Field(alias="messageId")
    body: str


def records(event: dict[str, Any]) -> list[SqsRecord]:
    return [SqsRecord.model_validate(record) for record in event.get("Records") or []]


def batch_response(failed_message_ids: Iterable[str]) -> dict[str, Any]:
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failed_message_ids]}
