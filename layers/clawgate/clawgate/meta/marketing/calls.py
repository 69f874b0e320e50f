"""Calling the Marketing API for a tenant: the SDK session (from meta.graph, the one initialiser), Graph's rate-limit
headers respected, and Graph errors turned into errors the tools and jobs can act on.

Rate limits. Every response's `x-business-use-case-usage`, `x-ad-account-usage`, `x-app-usage` and, on insights,
`x-fb-ads-insights-throttle` (`app_id_util_pct`, `acc_id_util_pct`) headers are read (percentages of the quota
used, and `estimated_time_to_regain_access` in minutes). Before the next call: below 75% nothing happens; from 75%
to 95% the call waits, linearly up to 5 s; at 95% or with time to regain access no call is made for that time (at
least a minute) and GraphRateLimited says when to retry. Errors 4, 32, 613 and 80000–80014 are rate limits too (the
job workflow retries them later; a tool tells the model how long to wait); error 17 (user request limit) blocks
for an hour, and its budget variant (subcode 2446079) only that object's budget changes."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from clawgate.observability import logger

if TYPE_CHECKING:
    from facebook_business.api import FacebookAdsApi

    from clawgate.tenancy.model import TenantFile

THROTTLE_FROM_PCT = 75.0
BLOCK_FROM_PCT = 95.0
MAX_THROTTLE_S = 5.0
BLOCK_S = 60.0  # the shortest wait after a block
USER_LIMIT = 17  # "User request limit reached": Meta blocks for about an hour
USER_LIMIT_S = 3600.0
BUDGET_CHANGES_SUBCODE = 2446079  # error 17 for the 5th budget change of an ad set within an hour
FRESH_S = 300.0  # older usage figures no longer throttle
USAGE_HEADERS = ("x-business-use-case-usage", "x-ad-account-usage", "x-app-usage", "x-fb-ads-insights-throttle")


class GraphError(Exception):
    def __init__(self, message: str, code: int | None = None, subcode: int | None = None) -> None:
        super().__init__(message)
        self.code, self.subcode = code, subcode


class GraphRateLimited(GraphError):
    """Meta's quota is (nearly) used up; `retry_after_s` says when calls may resume."""

    def __init__(self, message: str, retry_after_s: float, code: int | None = None, subcode: int | None = None) -> None:
        super().__init__(message, code, subcode)
        self.retry_after_s = retry_after_s

    @property
    def per_object(self) -> bool:
        """Error 17 / 2446079: too many budget changes of one ad set; only that ad set waits."""
        return self.code == USER_LIMIT and self.subcode == BUDGET_CHANGES_SUBCODE


class GraphAuthError(GraphError):
    """Error 190: the tenant's token is invalid or expired; only a new token helps."""


@dataclass(frozen=True)
class Usage:
    percent: float = 0.0  # the highest of every counter in the headers
    regain_after_s: float = 0.0

    def delay_s(self) -> float:
        if self.percent < THROTTLE_FROM_PCT:
            return 0.0
        share = (self.percent - THROTTLE_FROM_PCT) / (BLOCK_FROM_PCT - THROTTLE_FROM_PCT)
        return min(share, 1.0) * MAX_THROTTLE_S

    @property
    def blocked(self) -> bool:
        return self.percent >= BLOCK_FROM_PCT or self.regain_after_s > 0


COUNTERS = ("call_count", "total_cputime", "total_time", "acc_id_util_pct", "app_id_util_pct")


def _counters(entry: dict[str, Any]) -> tuple[float, float]:
    percent = max(
        (float(entry.get(key) or 0) for key in COUNTERS),
        default=0.0,
    )
    regain_s = float(entry.get("estimated_time_to_regain_access") or 0) * 60
    if float(entry.get("acc_id_util_pct") or 0) >= 100:
        regain_s = max(regain_s, float(entry.get("reset_time_duration") or 0))
    return percent, regain_s


def parse_usage(headers: dict[str, str]) -> Usage:
    """The rate-limit headers of one Graph response (names lower-case); unparsable headers count as no usage."""
    entries: list[dict[str, Any]] = []
    for name in USAGE_HEADERS:
        try:
            value = json.loads(headers.get(name) or "null")
        except ValueError:
            continue
        if isinstance(value, dict) and any(isinstance(v, list) for v in value.values()):
            entries += [e for items in value.values() if isinstance(items, list) for e in items if isinstance(e, dict)]
        elif isinstance(value, dict):
            entries.append(value)
    counters = [_counters(entry) for entry in entries]
    return Usage(max((c[0] for c in counters), default=0.0), max((c[1] for c in counters), default=0.0))


class UsageGate:
    """The last usage Graph reported for one session, and the decision before the next call. A block lasts for
    Graph's time to regain access (at least BLOCK_S); then one call goes through and its headers decide again."""

    def __init__(
        self, sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._usage, self._seen_at = Usage(), 0.0
        self._lock = threading.Lock()
        self._sleep, self._clock = sleep, clock

    def observe(self, response: Any, *args: Any, **kwargs: Any) -> None:
        """A `requests` response hook."""
        headers = {name.lower(): value for name, value in getattr(response, "headers", {}).items()}
        if any(name in headers for name in USAGE_HEADERS):
            with self._lock:
                self._usage, self._seen_at = parse_usage(headers), self._clock()

    def block(self, seconds: float) -> None:
        with self._lock:
            self._usage, self._seen_at = Usage(percent=100.0, regain_after_s=seconds), self._clock()

    def before_call(self) -> None:
        with self._lock:
            usage, age = self._usage, self._clock() - self._seen_at
        if usage.blocked:
            wait = max(usage.regain_after_s, BLOCK_S) - age
            if wait > 0:
                raise GraphRateLimited(f"Meta's rate limit is reached ({usage.percent:.0f}% used)", wait)
            return
        if age < FRESH_S and (delay := usage.delay_s()):
            logger.info("graph usage high: throttling", extra={"usage_pct": usage.percent, "sleep_s": delay})
            self._sleep(delay)


class OfTenant(Protocol):
    """Anything that knows its tenant (an AdsContext); calls.py needs no more of it."""

    @property
    def tenant(self) -> TenantFile: ...


def marketing_api(ctx: OfTenant) -> FacebookAdsApi:
    """The tenant's SDK session (meta.graph caches one per token), with the usage gate on it."""
    from clawgate.meta.graph import tenant_api

    api = tenant_api(ctx.tenant)
    gate_of(api)
    return api


def gate_of(api: FacebookAdsApi) -> UsageGate:
    """One gate per SDK session, fed by a response hook (requests' public hook API) on the session it sends with."""
    from clawgate.meta.graph import session_of

    session = session_of(api).requests
    gate = getattr(session, "clawgate_usage_gate", None)
    if gate is None:
        gate = UsageGate()
        session.hooks["response"].append(gate.observe)
        session.clawgate_usage_gate = gate
    return gate


@contextmanager
def graph_call(api: FacebookAdsApi) -> Iterator[None]:
    """Wrap SDK calls: wait or refuse on high usage first, and translate FacebookRequestError."""
    from facebook_business.exceptions import FacebookRequestError
    from requests import RequestException

    gate_of(api).before_call()
    try:
        yield
    except (FacebookRequestError, RequestException) as error:
        translated = translate(error)
        if isinstance(translated, GraphRateLimited) and not translated.per_object:
            gate_of(api).block(translated.retry_after_s)  # no call until Meta said access returns
        raise translated from None


def translate(error: Any) -> GraphError:
    from clawgate.meta.graph import RATE_LIMIT_CODES, failure

    found = failure(error)
    if found.status is None:
        return GraphError(found.message)
    message = f"Graph error {found.code}: {found.message}"
    if found.code in RATE_LIMIT_CODES:
        usage = parse_usage({k.lower(): v for k, v in (error.http_headers() or {}).items()})
        floor = USER_LIMIT_S if found.code == USER_LIMIT else BLOCK_S
        return GraphRateLimited(message, max(usage.regain_after_s, floor), found.code, found.subcode)
    if found.invalid_token:
        return GraphAuthError(message + " (the Meta token must be renewed)", found.code, found.subcode)
    return GraphError(message, found.code, found.subcode)
