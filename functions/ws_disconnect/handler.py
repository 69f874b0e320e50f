from __future__ import annotations

from typing import TYPE_CHECKING, Any

from clawgate.edge import websocket as edge
from clawgate.gateway import websocket
from clawgate.observability import logger, metrics
from clawgate.tracing import tracer

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    ws = edge.socket_event(event)
    return edge.result(websocket.on_disconnect(ws.connection_id))
