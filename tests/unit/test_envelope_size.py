"""Whatever an inbound message holds, its queue message fits the execution input the Pipe builds from it
(Step Functions: 256 KiB), with its ids kept so Ingest still stores it."""

from __future__ import annotations

import json

import pytest
from clawgate.core.envelopes import PIPE_INPUT_LIMIT_BYTES, envelope, queue_message

# What an EventBridge Pipe passes Step Functions for one SQS FIFO message (receipt handles run to ~1 KB).
RECORD_FIELDS = {
    "messageId": "059f36b4-87a3-44ab-83d2-661975830a7d",
    "receiptHandle": "AQEB" + "x" * 1_000,
    "attributes": {
        "ApproximateReceiveCount": "5",
        "SentTimestamp": "1545082649183",
        "SequenceNumber": "18849496460467696128",
        "MessageGroupId": "whatsapp:106540352242922:" + "9" * 100,
        "SenderId": "AIDAIENQZJOLO23YVJ4VO:clawgate-whatsapp-webhook-function-name",
        "MessageDeduplicationId": "d" * 128,
        "ApproximateFirstReceiveTimestamp": "1545082649185",
    },
    "messageAttributes": {},
    "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
    "eventSource": "aws:sqs",
    "eventSourceARN": "arn:aws:sqs:eu-central-1:123456789012:Clawgate-QueuesInbound4AD2C98D-AbCdEfGhIjKl.fifo",
    "awsRegion": "eu-central-1",
}


def pipe_input(body: str) -> bytes:
    """The execution input, with every character escaped (the largest encoding of it)."""
    return json.dumps([{**RECORD_FIELDS, "body": body}], ensure_ascii=True).encode()


HOSTILE_TEXTS = {
    "quotes": '"' * 200_000,
    "backslashes": "\\" * 200_000,
    "cyrillic": "ж" * 120_000,
    "emoji": "😀" * 60_000,
    "controls": "\x01" * 200_000,
    "many_strings": None,
}


@pytest.mark.parametrize("kind", sorted(HOSTILE_TEXTS))
def test_any_inbound_message_fits_the_pipes_execution_input(kind: str) -> None:
    text = HOSTILE_TEXTS[kind]
    if text is None:  # a thousand short fields, each under the per-string cut
        update = {"entries": [{"text": '"ж' * 4_000, "n": i} for i in range(60)]}
    else:
        update = {"message": {"text": text}}
    body = envelope("whatsapp", "message", account_id="106540352242922", provider_id="wamid.HBgL", update=update)
    message = queue_message(body, group_id="whatsapp:106540352242922:77011234567", dedup_id="wamid.HBgL")
    assert len(pipe_input(message.body)) <= PIPE_INPUT_LIMIT_BYTES
    kept = json.loads(message.body)
    assert (kept["channel"], kept["account_id"], kept["provider_id"]) == ("whatsapp", "106540352242922", "wamid.HBgL")
    assert kept.get("clawgate_truncated") is True


def test_an_ordinary_message_is_untouched() -> None:
    body = envelope("telegram", "message", account_id="acme/director", provider_id="7", update={"text": "привет"})
    message = queue_message(body, group_id="g", dedup_id="7")
    assert json.loads(message.body) == body
