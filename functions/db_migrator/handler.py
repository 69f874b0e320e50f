"""Runs after every platform deploy that changes the code or migrations: registry and every tenant up to date."""

from typing import Any

from clawgate.db.migrate import upgrade_all
from clawgate.observability import logger, metrics


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, list[str]]:
    applied = upgrade_all()
    logger.info("migrations applied", extra={"applied": applied})
    return applied
