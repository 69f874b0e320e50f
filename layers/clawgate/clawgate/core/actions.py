"""Operator buttons handled in code: a Telegram callback whose data starts with a registered prefix (e.g.
`cg:change:<id>:approve`) is answered by its domain's handler, without the model, and the handler's text is the
reply. Only operator channels reach a handler, after the channel's DM policy admitted the presser.

`ACTION_MODULES` names the modules that register handlers, loaded on first use (a plugin list, like the tool
registry's), so the agent layer knows their names and none of their code."""

from __future__ import annotations

import importlib
from collections.abc import Callable

Handler = Callable[[str, str, str], str]  # (tenant, operator peer id, callback data) -> the reply
ACTION_MODULES = ("clawgate.meta.marketing.approvals",)
_HANDLERS: dict[str, Handler] = {}
_loaded = False


def action(prefix: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        _HANDLERS[prefix] = handler
        return handler

    return register


def handler_for(data: str) -> Handler | None:
    global _loaded
    if not _loaded:
        for module in ACTION_MODULES:
            importlib.import_module(module)
        _loaded = True
    return next((h for prefix, h in _HANDLERS.items() if data.startswith(prefix + ":")), None)
