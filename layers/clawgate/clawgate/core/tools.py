"""The tool registry. Tools are typed Python functions: a pydantic model of arguments (which becomes the JSON schema
the model sees), a risk class, and optionally the channels they make sense on. `@tool` registers one.

Tools live in the domain that owns what they touch (the agent's workspace tools in `agent`, the dialog and Marketing
API tools in `meta`); the agent offers and runs them through this registry without importing those domains.
`TOOL_MODULES` names the modules that register tools, loaded on the first `all_tools()`: a plugin list, like entry
points, so this module knows their names and none of their code."""

from __future__ import annotations

import importlib
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


TOOL_MODULES = ("clawgate.agent.tools.builtin", "clawgate.agent.tools.inbox_tools", "clawgate.meta.tools",
                "clawgate.meta.marketing.tools")  # fmt: skip
_TOOLS: dict[str, Tool] = {}
_loaded = False


def all_tools() -> dict[str, Tool]:
    """Every registered tool by name (the tool modules are imported on the first call)."""
    global _loaded
    if not _loaded:
        for module in TOOL_MODULES:
            importlib.import_module(module)
        _loaded = True
    return _TOOLS


def tool(
    name: str, description: str, risk: Risk, channels: set[str] | None = None
) -> Callable[[ToolFunction], ToolFunction]:
    def register(function: ToolFunction) -> ToolFunction:
        parameter = list(inspect.signature(function).parameters)[1]
        args = get_type_hints(function)[parameter]
        _TOOLS[name] = Tool(name, description, args, risk, function, frozenset(channels) if channels else None)
        return function

    return register
