from __future__ import annotations

from typing import TYPE_CHECKING, Any

from clawgate.agent.ingest import ingest
from clawgate.edge.pipes import ingest_input
from clawgate.observability import logger, metrics
from clawgate.tracing import tracer

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: Any, context: LambdaContext) -> dict[str, Any]:
    return ingest(ingest_input(event))
