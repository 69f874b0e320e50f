"""The `connect` frame: the tenant's gateway token and a device id. Failed authentications are counted per source
address (`auth_failures`); a source past the limit is refused, at `$connect` and at `connect`, until its failures
age out of the window."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, Field, ValidationError

from clawgate.core.protocol import CONNECT_TIMEOUT_S, ProtocolError
from clawgate.db import registry_tx
from clawgate.gateway import devices
from clawgate.observability import bind, logger
from clawgate.tenancy import connections
from clawgate.tenancy.tokens import verify_token

MAX_FAILURES = 10
FAILURE_WINDOW = timedelta(minutes=15)


class ConnectParams(BaseModel):
    tenant: str = Field(pattern=r"^[a-z0-9_]{1,48}$")
    token: str = Field(min_length=1, max_length=256)
    device: str = Field(pattern=devices.DEVICE_ID_PATTERN)
    name: str | None = Field(default=None, max_length=200, description="how the device names itself")


class ConnectRefused(ProtocolError):
    """The socket closes after this error frame."""


def rate_limited(source: str) -> bool:
    with registry_tx() as conn:
        row = conn.execute(
            "SELECT count(*) FROM auth_failures WHERE source = %s AND at > now() - %s", (source, FAILURE_WINDOW)
        ).fetchone()
    return bool(row and row[0] >= MAX_FAILURES)


def record_failure(source: str, reason: str) -> None:
    logger.warning("control-plane authentication failed", extra={"source": source, "reason": reason})
    with registry_tx() as conn:
        conn.execute("DELETE FROM auth_failures WHERE source = %s AND at <= now() - %s", (source, FAILURE_WINDOW))
        conn.execute("INSERT INTO auth_failures (source) VALUES (%s)", (source,))


def connect(state: connections.ConnectionState, raw_params: dict[str, object], now: datetime) -> dict[str, object]:
    """Authenticate the connection or raise ConnectRefused (the caller answers with the error and closes)."""
    source = state.source_ip or state.connection_id
    if (now - state.connected_at).total_seconds() > CONNECT_TIMEOUT_S:
        raise ConnectRefused("connect_timeout", f"the connect frame must come within {CONNECT_TIMEOUT_S:.0f} s")
    if rate_limited(source):
        raise ConnectRefused("rate_limited", "too many failed authentications from this address; try later")
    try:
        params = ConnectParams.model_validate(raw_params)
    except ValidationError as error:
        record_failure(source, "bad connect params")
        problem = error.errors()[0]
        raise ConnectRefused("bad_params", f"{'.'.join(map(str, problem['loc']))}: {problem['msg']}") from None
    if not verify_token(params.tenant, params.token):
        record_failure(source, "bad token")
        raise ConnectRefused("unauthorized", "the tenant or its gateway token is wrong")
    bind(tenant=params.tenant)
    status = devices.register(params.tenant, params.device, params.name, approve=devices.approved_on_sight(source))
    if status == "pending":
        raise ConnectRefused(
            "device_pending",
            f"device {params.device} waits for approval: clawgate devices approve {params.device}"
            f" --tenant {params.tenant}",
        )
    if status != "approved":
        raise ConnectRefused("device_revoked", f"device {params.device} was revoked")
    connections.authenticate(state.connection_id, params.tenant, params.device)
    return {"tenant": params.tenant, "device": params.device, "status": status}
