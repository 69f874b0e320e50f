"""The after-commit event hub: how the domains meet without importing one another.

A domain publishes what happened (`InboundStored`, `ChannelNotice`, `ReplySent`, `MilestoneReached`,
`BudgetSpent`) with the
connection of the transaction it happened in. Subscribers come in two kinds:

- `in_transaction=True`: bookkeeping that must commit or roll back with the event (Meta's dialog upsert, its lead,
  the Conversions API milestone row). They run at once, on the publisher's connection, and may register effects
  with `after_commit`.
- the default: effects that must not happen unless the transaction commits (a queue message, a Telegram notice).
  They run after the publisher's transaction has committed, in publishing order, and not at all if it rolls back.

`db.tx.scoped_tx` opens a `unit_of_work()` around every transaction, so a publisher never has to think about when
its subscribers run. Published outside any transaction, after-commit work runs at once.

Subscribers register with `@subscribe(EventType)` in the modules named by `SUBSCRIBER_MODULES`, imported on the
first publish (a plugin list, like entry points: this module knows their names, none of their code).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:  # the webhook functions import db, not pydantic: keep this module light
    from psycopg import Connection

    from clawgate.core.channels import InboundMessage

SUBSCRIBER_MODULES = ("clawgate.conversations.subscribers", "clawgate.meta.subscribers", "clawgate.channels.operator",
                      "clawgate.gateway.inbox_live")  # fmt: skip


@dataclass(frozen=True)
class InboundStored:
    """A customer's message was stored for the first time (not a status, an edit or a retry)."""

    tenant: str
    account_config: dict[str, Any]  # the channel account's config from the tenant file
    message: InboundMessage


@dataclass(frozen=True)
class ChannelNotice:
    """The channel says something about a user that is not a message (WhatsApp `user_changed_user_id`)."""

    tenant: str
    account_id: str
    message: InboundMessage


@dataclass(frozen=True)
class ReplySent:
    """One message (a chunk of a reply, an operator's or a tool's message) went out to a peer."""

    tenant: str
    channel: str
    account_id: str | None
    peer_id: str
    turn_id: int | None
    chunk_index: int


@dataclass(frozen=True)
class MilestoneReached:
    """A conversation reached a conversion level: 1 (message threshold), 2 (interested), 3 (scheduled)."""

    tenant: str
    dialog_id: int
    level: int


@dataclass(frozen=True)
class BudgetSpent:
    """The tenant's daily model budget was found spent for the first time today."""

    tenant: str
    tenant_name: str
    spent_usd: float
    budget_usd: float


@dataclass(frozen=True)
class ConversationMessage:
    """A message joined a conversation (stored from the customer, or sent by the agent, an operator, a job), as the
    operator inbox shows it: pushed live as `conversation.message`."""

    tenant: str
    conversation_id: int
    item: dict[str, Any]


@dataclass(frozen=True)
class ConversationUpdated:
    """A conversation changed (mode, assignee, labels, note, unread): pushed live as `conversation.updated`."""

    tenant: str
    conversation_id: int


Event = (
    InboundStored
    | ChannelNotice
    | ReplySent
    | MilestoneReached
    | BudgetSpent
    | ConversationMessage
    | ConversationUpdated
)
E = TypeVar(
    "E",
    InboundStored,
    ChannelNotice,
    ReplySent,
    MilestoneReached,
    BudgetSpent,
    ConversationMessage,
    ConversationUpdated,
)
InTransaction = Callable[["Connection[Any]", Any], None]
AfterCommit = Callable[[Any], None]


@dataclass
class _Subscribers:
    in_transaction: dict[type, list[InTransaction]] = field(default_factory=dict)
    after_commit: dict[type, list[AfterCommit]] = field(default_factory=dict)
    loaded: bool = False


_subscribers = _Subscribers()
_pending: ContextVar[list[Callable[[], None]] | None] = ContextVar("clawgate_after_commit", default=None)


def subscribe(event_type: type[E], *, in_transaction: bool = False) -> Callable[[Callable[..., None]], Any]:
    """Register the decorated function for `event_type`: `(conn, event)` in the transaction, or `(event)` after."""

    def register(function: Callable[..., None]) -> Callable[..., None]:
        table: dict[type, list[Any]] = (
            _subscribers.in_transaction if in_transaction else _subscribers.after_commit
        )  # fmt: skip
        table.setdefault(event_type, []).append(function)
        return function

    return register


def _load() -> None:
    if not _subscribers.loaded:
        _subscribers.loaded = True
        for module in SUBSCRIBER_MODULES:
            importlib.import_module(module)


def publish(conn: Connection[Any], event: Event) -> None:
    """Tell the subscribers; `conn` is the transaction the event happened in."""
    _load()
    for handler in _subscribers.in_transaction.get(type(event), []):
        handler(conn, event)
    for effect in _subscribers.after_commit.get(type(event), []):
        after_commit(lambda effect=effect: effect(event))  # type: ignore[misc]


def after_commit(effect: Callable[[], None]) -> None:
    """Run `effect` once the current transaction has committed (at once outside a transaction)."""
    pending = _pending.get()
    if pending is None:
        effect()
    else:
        pending.append(effect)


@contextmanager
def unit_of_work() -> Iterator[None]:
    """Collect after-commit effects while the block runs; run them if it ends without an exception (the transaction
    committed), drop them if it raises (it rolled back). Nested units (a transaction opened inside another's block)
    keep their own effects: each follows its own transaction."""
    pending: list[Callable[[], None]] = []
    token = _pending.set(pending)
    try:
        yield
    finally:
        _pending.reset(token)
    for effect in pending:
        effect()
