"""Tools are typed Python functions: a pydantic model of arguments (which becomes the JSON schema the model sees),
a risk class, and optionally the channels they make sense on. `@tool` registers one."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal, get_type_hints

from pydantic import BaseModel

# safe: touches only this conversation (customers may trigger it); operator: changes the workspace or talks to
# others; data: reads the tenant's tables; ads: the Marketing API (operators only).
Risk = Literal["safe", "operator", "data", "ads"]
Profile = Literal["customer", "operator"]


@dataclass(frozen=True)
class ToolContext:
    tenant: str
    agent_id: str
    channel: str
    account_id: str | None
    peer_id: str
    turn_id: int
    session_id: int
    profile: Profile


class ToolFailure(Exception):
    """An error the model should read (bad arguments, a refused action); not a bug."""


ToolFunction = Callable[[ToolContext, Any], Any]


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    args: type[BaseModel]
    risk: Risk
    run: ToolFunction
    channels: frozenset[str] | None = None

    def schema(self) -> dict[str, Any]:
        return _schema(self.name, self.description, self.args)


@lru_cache(maxsize=256)
def _schema(name: str, description: str, args: type[BaseModel]) -> dict[str, Any]:
    """pydantic builds a schema in about a millisecond: once per process is enough."""
    schema = args.model_json_schema()
    schema.pop("title", None)
    return {"name": name, "description": description, "input_schema": schema}


TOOLS: dict[str, Tool] = {}


def tool(
    name: str, description: str, risk: Risk, channels: set[str] | None = None
) -> Callable[[ToolFunction], ToolFunction]:
    def register(function: ToolFunction) -> ToolFunction:
        parameter = list(inspect.signature(function).parameters)[1]
        args = get_type_hints(function)[parameter]
        TOOLS[name] = Tool(name, description, args, risk, function, frozenset(channels) if channels else None)
        return function

    return register
