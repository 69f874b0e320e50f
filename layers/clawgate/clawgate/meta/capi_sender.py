"""The capi queue's worker (`functions/capi_sender`): send pending Conversions API events, at most once each.

A batch of queue messages becomes one `POST /{dataset}/events` per tenant (Meta takes up to 1,000 events; one bad
event rejects the whole request, so a rejected batch is retried event by event). Each event's log row is claimed
with a lease first, so a message SQS delivers twice, or a stale requeue, cannot send an event a second time.

Every attempt is recorded on the rows (request, response with events_received and fbtrace_id, or the error).
5xx, rate limits and unreachable Graph are retried here with backoff, then handed back to the queue (its redrives
and dead-letter queue take over; the row stays `pending`). Error 190 (the token is invalid or expired) marks the
events `failed`, alerts the operator once, and is not retried: a retry storm against a dead token helps nobody.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ValidationError

from clawgate.db import tenant_tx
from clawgate.meta import graph
from clawgate.meta.capi_events import readable, request_params
from clawgate.meta.data import conversions
from clawgate.meta.data.conversions import PendingEvent
from clawgate.observability import bind, logger
from clawgate.tenancy.tenants import cached_tenant

if TYPE_CHECKING:
    from facebook_business.api import FacebookAdsApi

RETRY_DELAYS_S = (0.2, 0.8)  # then the queue's own redelivery
LEASE_S = 120  # longer than the attempts above with their request timeouts
MAX_EVENT_AGE_S = 7 * 24 * 3600  # Meta refuses events older than 7 days
ALERT_ONCE_PER = "6 hours"
Outcome = Literal["sent", "retry", "failed"]
_STATUS: dict[Outcome, str] = {"sent": "sent", "retry": "pending", "failed": "failed"}


class CapiMessage(BaseModel):
    tenant: str
    log_id: int
    event_id: str


@dataclass(frozen=True)
class Attempt:
    outcome: Outcome
    request: dict[str, Any]
    response: dict[str, Any] | None = None
    failure: graph.GraphFailure | None = None
    at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())

    def entry(self) -> dict[str, Any]:
        answer = self.response or {}
        return {"at": self.at, "outcome": self.outcome, "events_received": answer.get("events_received"),
                "fbtrace_id": answer.get("fbtrace_id") or (self.failure.fbtrace_id if self.failure else None),
                "error": self.failure.as_dict() if self.failure else None}  # fmt: skip


def send_batch(queued: list[tuple[str, str]]) -> list[str]:
    """A batch of capi queue messages (message id, body) in; the ids of those to deliver again out. One Graph
    request per tenant and batch."""
    by_tenant: dict[str, list[tuple[str, CapiMessage]]] = defaultdict(list)
    failed: list[str] = []
    for message_id, body in queued:
        try:
            message = CapiMessage.model_validate_json(body)
        except ValidationError:
            logger.error("capi message is not one of ours; left to the dead-letter queue", extra={"id": message_id})
            failed.append(message_id)
            continue
        by_tenant[message.tenant].append((message_id, message))
    for tenant, items in by_tenant.items():
        try:
            retry = send_tenant_events(tenant, [message.log_id for _, message in items])
        except Exception:
            logger.exception("capi send failed", extra={"tenant": tenant, "events": len(items)})
            retry = True
        failed += [message_id for message_id, _ in items] if retry else []
    return failed


def send_tenant_events(tenant: str, log_ids: list[int]) -> bool:
    """Send what is still pending among these events of one tenant; True when the queue should try again."""
    bind(tenant=tenant)
    pending = claim(tenant, log_ids)
    sendable = [e for e in pending if e.enabled and e.dataset_id]
    too_old = [e for e in sendable if time.time() - e.event_time > MAX_EVENT_AGE_S]
    finish_unsent(tenant, [e for e in pending if e not in sendable], "skipped", "CAPI disabled")
    finish_unsent(tenant, too_old, "failed", "older than 7 days: Meta would refuse it")
    sendable = [e for e in sendable if e not in too_old]
    if not sendable:
        return False
    try:
        return deliver(tenant, graph.tenant_api(cached_tenant(tenant)), sendable)
    except graph.MetaNotConfiguredError as error:
        finish_unsent(tenant, sendable, "failed", str(error))
        return False
    except Exception:  # a secret not readable now, the database...: free the events for the queue's next try
        release(tenant, sendable)
        raise


def claim(tenant: str, log_ids: list[int]) -> list[PendingEvent]:
    with tenant_tx(tenant) as conn:
        return conversions.claim(conn, log_ids, LEASE_S)


def deliver(tenant: str, api: FacebookAdsApi, events: list[PendingEvent]) -> bool:
    """Post the events with in-process retries; record every attempt. True: hand back to the queue."""
    for delay in (*RETRY_DELAYS_S, None):
        attempt = post(api, events)
        failure = attempt.failure
        if attempt.outcome == "failed" and len(events) > 1 and failure and not failure.invalid_token:
            record(tenant, events, Attempt("retry", attempt.request, failure=failure), release_claim=False)
            return any([deliver(tenant, api, [event]) for event in events])  # find the event Meta refuses
        if attempt.outcome == "retry" and delay is not None:
            record(tenant, events, attempt, release_claim=False)
            time.sleep(delay)
            continue
        record(tenant, events, attempt, release_claim=True)
        if failure and failure.invalid_token:
            alert_invalid_token(tenant, [e.log_id for e in events], failure)
        return attempt.outcome == "retry"
    return True


def post(api: FacebookAdsApi, events: list[PendingEvent]) -> Attempt:
    import requests
    from facebook_business.adobjects.adspixel import AdsPixel
    from facebook_business.exceptions import FacebookRequestError

    params = request_params(events)
    try:
        # What EventRequest.execute() does, with this tenant's API object instead of the SDK's global default.
        answer = AdsPixel(events[0].dataset_id, api=api).create_event(params=params).export_all_data()
    except (FacebookRequestError, requests.RequestException) as error:
        failure = graph.failure(error)
        logger.warning("capi attempt failed", extra={"events": len(events), "graph_error": failure.as_dict()})
        return Attempt("retry" if failure.retryable else "failed", readable(params), failure=failure)
    if answer.get("events_received") != len(events):
        logger.warning("capi: Meta counted fewer events", extra={"sent": len(events), "answer": answer})
    return Attempt("sent", readable(params), response=answer)


def record(tenant: str, events: list[PendingEvent], attempt: Attempt, *, release_claim: bool) -> None:
    failure = attempt.failure
    with tenant_tx(tenant) as conn:
        conversions.record_attempt(
            conn, [e.log_id for e in events], _STATUS[attempt.outcome], attempt.entry(), request=attempt.request,
            response=attempt.response, error=failure.message if failure else None,
            error_code=failure.code if failure else None, release_claim=release_claim,
        )  # fmt: skip


def finish_unsent(tenant: str, events: list[PendingEvent], status: str, reason: str) -> None:
    if events:
        with tenant_tx(tenant) as conn:
            conversions.finish_unsent(conn, [e.log_id for e in events], status, reason)


def release(tenant: str, events: list[PendingEvent]) -> None:
    with tenant_tx(tenant) as conn:
        conversions.release(conn, [e.log_id for e in events])


def alert_invalid_token(tenant: str, log_ids: list[int], failure: graph.GraphFailure) -> None:
    """Tell the operator once (not once per event) that Meta refuses the tenant's token."""
    from clawgate.core.notify import notify_operator

    with tenant_tx(tenant) as conn:
        alerted = conversions.failed_lately(conn, graph.INVALID_TOKEN, ALERT_ONCE_PER, other_than=log_ids)
    if not alerted:
        notify_operator(
            tenant,
            f"Meta refused the Conversions API access token (error 190: {failure.message}). Conversion events are"
            " marked failed until the token behind the tenant file's meta.access_token is renewed.",
        )
