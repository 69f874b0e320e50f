"""The control plane's method registry: `@method(name, Params)` registers a function of (caller, validated
params); a validation error, a bad cursor or an unknown device becomes an error frame `{code, message}`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from clawgate.core.protocol import ProtocolError
from clawgate.db import Conn, tenant_tx
from clawgate.gateway.data import devices
from clawgate.gateway.data.pages import BadCursorError

Params = TypeVar("Params", bound=BaseModel)


@dataclass(frozen=True)
class Caller:
    connection_id: str
    tenant: str
    device: str
    device_name: str | None


Method = Callable[[Caller, dict[str, Any]], Any]
METHODS: dict[str, Method] = {}


def method(name: str, params_model: type[Params]) -> Callable[[Callable[[Caller, Params], Any]], None]:
    def register(function: Callable[[Caller, Params], Any]) -> None:
        def call(caller: Caller, raw: dict[str, Any]) -> Any:
            try:
                result = function(caller, params_model.model_validate(raw))
            except ValidationError as error:
                problem = error.errors()[0]
                raise ProtocolError("bad_params", f"{'.'.join(map(str, problem['loc']))}: {problem['msg']}") from None
            except BadCursorError as error:
                raise ProtocolError("bad_params", str(error)) from None
            except devices.UnknownDeviceError as error:
                raise ProtocolError("not_found", str(error)) from None
            return result  # pydantic serialises models and datetimes inside the response frame

        METHODS[name] = call

    return register


def page_method(name: str, params_model: type[Params], page: Callable[[Conn, Params], Any]) -> None:
    """A list of the control UI: one page of `page(conn, query)`, read in the caller's tenant."""

    def read(caller: Caller, query: Params) -> Any:
        with tenant_tx(caller.tenant, "ro") as conn:
            return page(conn, query)

    method(name, params_model)(read)
