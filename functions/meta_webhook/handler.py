from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from clawgate.channels import meta_messaging_webhook
from clawgate.edge import apigw
from clawgate.meta import meta_webhook
from clawgate.observability import logger, metrics

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

# Page leadgen → the lead queue; Messenger and Instagram messaging → the inbound queue (routed by `object`).
RECEIVE = partial(meta_webhook.receive, messaging=meta_messaging_webhook.split)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return apigw.serve(event, RECEIVE)
