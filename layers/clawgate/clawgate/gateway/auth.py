"""The `connect` frame: the tenant's gateway token and a device id. Failed authentications are counted per source
address (`auth_failures`); a source past the limit is refused, at `$connect` and at `connect`, until its failures
age out of the window."""

from __future__ import annotations

import ipaddress
from datetime import datetime

from pydantic import BaseModel, Field, ValidationError

from clawgate.core.protocol import CONNECT_TIMEOUT_S, ProtocolError
from clawgate.db import registry_tx
from clawgate.gateway.data import devices
from clawgate.observability import bind
from clawgate.settings import get_settings
from clawgate.tenancy.data import connections
from clawgate.tenancy.data.connections import ConnectionState
from clawgate.tenancy.tokens import FAILURE_WINDOW, MAX_FAILURES, rate_limited, record_failure, verify_token


class ConnectParams(BaseModel):
    tenant: str = Field(pattern=r"^[a-z0-9_]{1,48}$")
    token: str = Field(min_length=1, max_length=256)
    device: str = Field(pattern=devices.DEVICE_ID_PATTERN)
    name: str | None = Field(default=None, max_length=200, description="how the device names itself")


class ConnectRefused(ProtocolError):
    """The socket closes after this error frame."""


__all__ = [
    "FAILURE_WINDOW",
    "MAX_FAILURES",
    "ConnectParams",
    "ConnectRefused",
    "connect",
    "rate_limited",
    "record_failure",
]


def approved_on_sight(source_ip: str) -> bool:
    """Under `clawgate dev` (CLAWGATE_DEV_AUTO_APPROVE_LOOPBACK=1) a device connecting from loopback is approved at
    once; only the dev server sets the switch, so tests and AWS never approve by address."""
    if not get_settings().dev_auto_approve_loopback:
        return False
    try:
        return ipaddress.ip_address(source_ip).is_loopback
    except ValueError:
        return False


def connect(state: ConnectionState, raw_params: dict[str, object], now: datetime) -> dict[str, object]:
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
    token_id = verify_token(params.tenant, params.token)
    if token_id is None:
        record_failure(source, "bad token")
        raise ConnectRefused("unauthorized", "the tenant or its gateway token is wrong")
    bind(tenant=params.tenant)
    with registry_tx() as conn:
        status = devices.register(conn, params.tenant, params.device, params.name, approve=approved_on_sight(source))
    if status == "pending":
        raise ConnectRefused(
            "device_pending",
            f"device {params.device} waits for approval: clawgate devices approve {params.device}"
            f" --tenant {params.tenant}",
        )
    if status != "approved":
        raise ConnectRefused("device_revoked", f"device {params.device} was revoked")
    with registry_tx() as conn:
        connections.authenticate(conn, state.connection_id, params.tenant, params.device, token_id)
    return {"tenant": params.tenant, "device": params.device, "status": status}
