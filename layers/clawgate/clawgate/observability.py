"""Powertools Logger and Metrics shared by every handler, with tenant and conversation keys (the Tracer is in
tracing.py: it imports the X-Ray SDK and botocore, ~250 ms, which webhook functions do not pay for).

Phone numbers and secrets never reach a log in clear: values under sensitive keys are masked, and every secret the
process has resolved is scrubbed wherever it appears.
"""

from __future__ import annotations

import json
import logging
import sys
import warnings
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

PHONE_KEYS = frozenset({"phone", "wa_id", "from", "to", "ph", "phone_number", "display_phone_number"})
SECRET_KEYS = frozenset({"token", "access_token", "secret", "authorization", "api_key", "bot_token", "password"})
_known_secrets: set[str] = set()


def register_secret(value: str) -> None:
    """Scrub this value from every later log line (secrets.resolve calls it for what it reads)."""
    if len(value) >= 6:
        _known_secrets.add(value)


def mask_phone(value: object) -> str:
    text = str(value)
    return "*" * max(len(text) - 4, 0) + text[-4:] if len(text) > 4 else "****"


def redact(value: Any, key: str | None = None) -> Any:
    if key is not None and key.lower() in SECRET_KEYS and value:
        return "[redacted]"
    if key is not None and key.lower() in PHONE_KEYS and isinstance(value, str | int):
        return mask_phone(value)
    if isinstance(value, dict):
        return {k: redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(item, key) for item in value]
    return value


class RedactingFormatter(LambdaPowertoolsFormatter):
    def serialize(self, log: dict[str, Any] | Any) -> str:
        line = json.dumps(redact(dict(log)), default=str, separators=(",", ":"), ensure_ascii=False)
        for secret in _known_secrets:
            line = line.replace(secret, "[redacted]")
        return line


# stderr: CloudWatch takes both streams, and the CLI keeps stdout for its answers (`clawgate tokens create`).
logger = Logger(
    service="clawgate",
    logger_formatter=RedactingFormatter(),
    logger_handler=logging.StreamHandler(sys.stderr),
    utc=True,
)
metrics = Metrics(namespace="Clawgate", service="clawgate")
# A verification GET or a duplicate delivery legitimately emits no metric; Powertools would warn on every one.
warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)


def count(name: str, value: float = 1, unit: str = "Count") -> None:
    """One CloudWatch metric point (EMF, flushed by the handler's `@metrics.log_metrics`). Tenants are log keys,
    not metric dimensions: a dimension per tenant would be a metric per tenant."""
    metrics.add_metric(name=name, unit=unit, value=value)


def bind(*, tenant: str | None = None, conversation: str | None = None, **keys: Any) -> None:
    """Attach tenant and conversation keys to every following log line of this invocation."""
    fields = {"tenant": tenant, "conversation": conversation, **keys}
    logger.append_keys(**{k: v for k, v in fields.items() if v is not None})
