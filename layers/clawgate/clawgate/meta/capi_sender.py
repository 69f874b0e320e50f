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

from psycopg.rows import class_row
from psycopg.types.json import Jsonb
from pydantic import BaseModel, ValidationError

from clawgate.db import tenant_tx
from clawgate.meta import graph
from clawgate.meta.capi_events import PendingEvent, readable, request_params
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


CLAIM = (  # the pending events among these ids, leased to this sender, with what building each event needs
    "WITH claimed AS (UPDATE capi_events_log SET claimed_until = now() + %s * interval '1 s',"
    " updated_at = now() WHERE id = ANY(%s) AND status = 'pending' AND (claimed_until IS NULL OR claimed_until < now())"
    " RETURNING id, dialog_id, lead_id, level, event_name, event_id, created_at)"
    " SELECT c.id AS log_id, c.level, c.event_name, c.event_id, extract(epoch FROM c.created_at)::bigint AS event_time,"
    " d.ctwa_clid, d.wa_id AS phone, l.leadgen_id, coalesce(s.enabled, false) AS enabled, s.dataset_id,"
    " s.test_event_code, s.currency, s.l3_value AS value, d.channel, d.phone_number_id AS account_id, d.user_id"
    " FROM claimed c LEFT JOIN wa_dialogs d ON d.id = c.dialog_id"
    " LEFT JOIN leads l ON l.id = c.lead_id LEFT JOIN capi_settings s ON s.id = 1 ORDER BY c.id"
)


def claim(tenant: str, log_ids: list[int]) -> list[PendingEvent]:
    with tenant_tx(tenant) as conn:
        events = conn.cursor(row_factory=class_row(PendingEvent))
        return events.execute(CLAIM, (LEASE_S, log_ids)).fetchall()


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
        conn.execute(
            "UPDATE capi_events_log SET attempts = attempts + 1, status = %(status)s, request = %(request)s,"
            " response = %(response)s, error = %(error)s, error_code = %(code)s, fbtrace_id = %(trace)s,"
            " sent_at = CASE WHEN %(status)s = 'sent' THEN now() ELSE sent_at END,"
            " claimed_until = CASE WHEN %(release)s THEN NULL ELSE claimed_until END,"
            " attempt_log = attempt_log || %(entry)s, updated_at = now() WHERE id = ANY(%(ids)s)",
            {"status": _STATUS[attempt.outcome], "request": Jsonb(attempt.request),
             "response": Jsonb(attempt.response) if attempt.response else None,
             "error": failure.message if failure else None, "code": failure.code if failure else None,
             "trace": attempt.entry()["fbtrace_id"], "release": release_claim, "entry": Jsonb([attempt.entry()]),
             "ids": [e.log_id for e in events]},
        )  # fmt: skip


def finish_unsent(tenant: str, events: list[PendingEvent], status: str, reason: str) -> None:
    if events:
        with tenant_tx(tenant) as conn:
            conn.execute(
                "UPDATE capi_events_log SET status = %s, error = %s, claimed_until = NULL, updated_at = now()"
                " WHERE id = ANY(%s)",
                (status, reason, [e.log_id for e in events]),
            )


def release(tenant: str, events: list[PendingEvent]) -> None:
    with tenant_tx(tenant) as conn:
        conn.execute(
            "UPDATE capi_events_log SET claimed_until = NULL WHERE id = ANY(%s)", ([e.log_id for e in events],)
        )


def alert_invalid_token(tenant: str, log_ids: list[int], failure: graph.GraphFailure) -> None:
    """Tell the operator once (not once per event) that Meta refuses the tenant's token."""
    from clawgate.core.notify import notify_operator

    with tenant_tx(tenant) as conn:
        earlier = conn.execute(
            "SELECT 1 FROM capi_events_log WHERE status = 'failed' AND error_code = %s"
            f" AND updated_at > now() - interval '{ALERT_ONCE_PER}' AND NOT (id = ANY(%s)) LIMIT 1",
            (graph.INVALID_TOKEN, log_ids),
        ).fetchone()
    if earlier is None:
        notify_operator(
            tenant,
            f"Meta refused the Conversions API access token (error 190: {failure.message}). Conversion events are"
            " marked failed until the token behind the tenant file's meta.access_token is renewed.",
        )
