"""SQS batches in (`{"Records": [...]}`), the partial batch failure answer out, so that SQS redelivers only the
messages that failed (the event sources have `ReportBatchItemFailures` on). Powertools' `BatchProcessor` where the
records are handled one by one; the records' ids and bodies, typed, where the domain handles the batch as a whole."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSEvent, SQSRecord

from clawgate.observability import logger


def each_body(event: dict[str, Any], context: Any, handle: Callable[[str], object]) -> dict[str, Any]:
    """`handle` each message's body; a message whose handler raises is reported failed (and logged), the others not.
    When every message fails the answer says so (no exception: Lambda would retry the whole batch the same way)."""
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)

    def record_handler(record: SQSRecord) -> object:
        try:
            return handle(record.body)
        except Exception:
            logger.exception("queue message failed; SQS will deliver it again", extra={"id": record.message_id})
            raise

    return dict(process_partial_response(event, record_handler, processor, context))


def messages(event: dict[str, Any]) -> list[tuple[str, str]]:
    """(message id, body) of each record, in order."""
    return [(record.message_id, record.body) for record in SQSEvent(event).records]


def batch_response(failed_message_ids: Iterable[str]) -> dict[str, Any]:
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failed_message_ids]}
