"""facebook-business, set up in one place: the Graph base URL and version from settings, one API object per access
token, and what a Graph error means for the caller (retry, give up, or tell the operator the token is dead).

Use: `api = graph.api(tenant.meta.access_token)` (a `secret:` reference or a literal token), then pass it to every
SDK object: `Lead(leadgen_id, api=api)`, `AdAccount(act, api=api)`, `AdsPixel(dataset_id, api=api)`. The SDK's
process-wide default API (`FacebookAdsApi.init`) is never set: two tenants served by one warm process would share
whichever token was set last. No crash reporter is installed either (`init`'s default posts crashes to Graph).
`FacebookSession.GRAPH` is the class attribute the SDK builds every URL from (CAPI included); it follows
`CLAWGATE_GRAPH_URL`, so tests point the real SDK at the fake Graph with that setting and `reset_settings()`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from clawgate import secrets
from clawgate.settings import get_settings

if TYPE_CHECKING:
    from facebook_business.api import FacebookAdsApi
    from facebook_business.session import FacebookSession

    from clawgate.tenancy.model import TenantFile

TIMEOUT_S = 15.0
INVALID_TOKEN = 190
RATE_LIMIT_CODES = frozenset({4, 17, 32, 613, *range(80000, 80015)})
TRANSIENT_CODES = frozenset({1, 2})
_MAX_CACHED = 64
_apis: dict[tuple[str, str, str], FacebookAdsApi] = {}
_sessions: dict[int, FacebookSession] = {}
_lock = threading.Lock()


class MetaNotConfiguredError(LookupError):
    pass


def api(access_token: str) -> FacebookAdsApi:
    """The API object for one token (a `secret:` reference is resolved); reused while the settings stay the same,
    so a warm process keeps its HTTPS connections."""
    from facebook_business.api import FacebookAdsApi
    from facebook_business.session import FacebookSession

    settings = get_settings()
    token = secrets.resolve(access_token)
    key = (token, settings.graph_url, settings.graph_version)
    with _lock:
        FacebookSession.GRAPH = settings.graph_url.rstrip("/")
        cached = _apis.get(key)
        if cached is None:
            if len(_apis) >= _MAX_CACHED:
                _apis.clear()
                _sessions.clear()
            session = FacebookSession(access_token=token, timeout=TIMEOUT_S)
            cached = FacebookAdsApi(session, settings.graph_version)
            _apis[key] = cached
            _sessions[id(cached)] = session
        return cached


def session_of(api: FacebookAdsApi) -> FacebookSession:
    """The SDK session an API object of ours sends with (its `requests` session takes response hooks)."""
    return _sessions[id(api)]


def tenant_api(tenant: TenantFile) -> FacebookAdsApi:
    """The tenant's Marketing API / Conversions API token (`meta.access_token` of the tenant file)."""
    if tenant.meta is None:
        raise MetaNotConfiguredError(f"tenant {tenant.slug!r} has no `meta` section (ad account and access token)")
    return api(tenant.meta.access_token)


@dataclass(frozen=True)
class GraphFailure:
    """A failed Graph call, classified. `status` None: no HTTP answer (connection error, timeout)."""

    message: str
    status: int | None = None
    code: int | None = None
    subcode: int | None = None
    fbtrace_id: str | None = None
    transient: bool = False

    @property
    def invalid_token(self) -> bool:
        return self.code == INVALID_TOKEN

    @property
    def retryable(self) -> bool:
        if self.invalid_token:
            return False
        return (
            self.status is None
            or self.status >= 500
            or self.status == 429
            or self.transient
            or self.code in RATE_LIMIT_CODES
            or self.code in TRANSIENT_CODES
        )

    def as_dict(self) -> dict[str, Any]:
        return {"message": self.message, "status": self.status, "code": self.code, "subcode": self.subcode,
                "fbtrace_id": self.fbtrace_id}  # fmt: skip


def failure(error: Exception) -> GraphFailure:
    """What an exception raised by a facebook-business call means (anything not from Graph: no answer)."""
    from facebook_business.exceptions import FacebookRequestError

    if not isinstance(error, FacebookRequestError):
        return GraphFailure(f"Graph unreachable: {type(error).__name__}")
    body = error.body()
    details = body.get("error") if isinstance(body, dict) else None
    details = details if isinstance(details, dict) else {}
    return GraphFailure(
        message=str(error.api_error_message() or error.get_message())[:500],
        status=error.http_status(),
        code=_int(error.api_error_code()),
        subcode=_int(error.api_error_subcode()),
        fbtrace_id=details.get("fbtrace_id"),
        transient=bool(error.api_transient_error()),
    )


def _int(value: object) -> int | None:
    return int(value) if isinstance(value, int | str) and str(value).isdigit() else None
