"""The control plane's methods, for an authenticated, approved device. Each takes pydantic-validated params and
returns a JSON-able payload; a ProtocolError becomes an error frame `{code, message}`. The operator inbox's
`conversations.*` methods live in `inbox_methods`."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from clawgate.agent.data.sessions import session_key
from clawgate.channels.webchat import conversation
from clawgate.core.protocol import ProtocolError
from clawgate.db import registry_tx, tenant_tx
from clawgate.gateway import chat, reports
from clawgate.gateway import inbox_methods as inbox_methods  # registers the conversations.* methods
from clawgate.gateway.data import conversions, devices, dialogs, leads, sessions
from clawgate.gateway.method_registry import METHODS, Caller, method, page_method
from clawgate.tenancy import connections
from clawgate.tenancy.data import connections as connection_rows


class NoParams(BaseModel):
    echo: Any = None


@method("ping", NoParams)
def _ping(_: Caller, params: NoParams) -> Any:
    return {"pong": True, "echo": params.echo}


@method("agents.list", NoParams)
def _agents(caller: Caller, _: NoParams) -> Any:
    return {"agents": reports.agents(caller.tenant)}


def _check_agent(tenant: str, agent: str) -> None:
    if agent not in {a.id for a in reports.agents(tenant)}:
        raise ProtocolError("unknown_agent", f"tenant {tenant!r} has no agent {agent!r}")


@method("chat.send", chat.SendParams)
def _chat_send(caller: Caller, params: chat.SendParams) -> Any:
    _check_agent(caller.tenant, params.agent)
    provider_id = chat.enqueue(caller.tenant, caller.device, caller.device_name, caller.connection_id, params)
    return {"queued": True, "message_id": params.message_id, "provider_id": provider_id,
            "conversation": conversation(caller.tenant, caller.device)}  # fmt: skip


class HistoryParams(BaseModel):
    agent: str | None = Field(default=None, max_length=40, description="this device's chat with the agent")
    session_id: int | None = Field(default=None, description="or any session of the tenant (sessions.list)")
    limit: int = Field(default=50, ge=1, le=200)
    before: int | None = Field(default=None, description="a message id: older messages than it")


@method("chat.history", HistoryParams)
def _chat_history(caller: Caller, params: HistoryParams) -> Any:
    if params.session_id is None and params.agent is None:
        raise ProtocolError("bad_params", "give agent or session_id")
    key = session_key(params.agent, "webchat", caller.device) if params.agent else None
    with tenant_tx(caller.tenant, "ro") as conn:
        messages = sessions.transcript(conn, key, params.session_id, params.limit, params.before)
    return {"messages": messages}


page_method("sessions.list", sessions.SessionQuery, sessions.page)
page_method("leads.list", leads.LeadQuery, leads.page)
page_method("dialogs.list", dialogs.DialogQuery, dialogs.page)
page_method("capi.log", conversions.CapiQuery, conversions.page)


@method("metrics.summary", reports.MetricsQuery)
def _metrics(caller: Caller, params: reports.MetricsQuery) -> Any:
    return reports.metrics(caller.tenant, params)


class ChangeDecision(BaseModel):
    change_id: int = Field(gt=0)
    approve: bool


@method("ads.changes", NoParams)
def _ads_changes(caller: Caller, _: NoParams) -> Any:
    """Budget changes and resumes waiting for an operator's decision."""
    from clawgate.meta.marketing.approvals import pending_summary

    return {"changes": pending_summary(caller.tenant)}


@method("ads.decide", ChangeDecision)
def _ads_decide(caller: Caller, params: ChangeDecision) -> Any:
    """Approve or deny a held change, applied in code (no model), audited as this device's operator."""
    from clawgate.meta.marketing.approvals import answer
    from clawgate.meta.marketing.audit import Actor

    actor = Actor(channel="webchat", operator=f"device:{caller.device_name or caller.device}")
    verdict = "approved" if params.approve else "denied"
    return {"result": answer(caller.tenant, actor, params.change_id, params.approve, f"operator {verdict} in the UI")}


@method("metrics.conversations", reports.MetricsQuery)
def _conversation_metrics(caller: Caller, params: reports.MetricsQuery) -> Any:
    return reports.conversations(caller.tenant, params)


@method("usage.summary", reports.UsageQuery)
def _usage(caller: Caller, params: reports.UsageQuery) -> Any:
    return reports.usage(caller.tenant, params)


class DeviceListParams(BaseModel):
    status: devices.DeviceStatus | None = None


class DeviceParams(BaseModel):
    device: str = Field(pattern=devices.DEVICE_ID_PATTERN)


@method("devices.list", DeviceListParams)
def _devices(caller: Caller, params: DeviceListParams) -> Any:
    with registry_tx() as conn:
        found = devices.list_devices(conn, caller.tenant, params.status)
    return {"devices": [d.as_json() | {"current": d.device_id == caller.device} for d in found]}


@method("devices.approve", DeviceParams)
def _approve(caller: Caller, params: DeviceParams) -> Any:
    with registry_tx() as conn:
        return devices.set_status(conn, caller.tenant, params.device, "approved").as_json()


@method("devices.revoke", DeviceParams)
def _revoke(caller: Caller, params: DeviceParams) -> Any:
    if params.device == caller.device:
        raise ProtocolError("bad_params", "a device cannot revoke itself; use another device or the CLI")
    with registry_tx() as conn:
        live = connection_rows.device_connections(conn, caller.tenant, params.device)
        revoked = devices.set_status(conn, caller.tenant, params.device, "revoked")
    for connection_id in live:
        connections.close(connection_id)
    return revoked.as_json()


__all__ = ["METHODS", "Caller", "method"]
