"""The operator notifier port: telling a tenant's operator something (a reply the channel refused, a handoff, a
pairing request, a failed conversion event). Domains call `notify_operator`; the implementation is installed by the
wiring (`install`) or, by default, the Telegram one named by `DEFAULT_NOTIFIER` (imported on first use, a plugin
name like an entry point). Best effort by contract: it logs and returns False, it never raises."""

from __future__ import annotations

import importlib
from typing import Protocol

Buttons = list[tuple[str, str]]  # (label, callback data): an operator's answer handled in code (core.actions)


class Notifier(Protocol):
    def __call__(self, tenant_slug: str, text: str, buttons: Buttons | None = None) -> bool: ...


DEFAULT_NOTIFIER = "clawgate.channels.operator"  # its `notify_operator`
_notifier: Notifier | None = None


def install(notifier: Notifier | None) -> None:
    """Replace the notifier (None: back to the default)."""
    global _notifier
    _notifier = notifier


def notify_operator(tenant_slug: str, text: str, buttons: Buttons | None = None) -> bool:
    """True when at least one operator got the message (with `buttons` under it, where the channel has them)."""
    global _notifier
    if _notifier is None:
        _notifier = importlib.import_module(DEFAULT_NOTIFIER).notify_operator
    return _notifier(tenant_slug, text, buttons) if buttons else _notifier(tenant_slug, text)
