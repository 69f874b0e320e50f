"""The channel adapter contract: what every messenger adapter provides and what the agent turn consumes.

Flow: a webhook function verifies and splits a provider POST into `Envelope`s (plain JSON on the queue, built
without pydantic to keep the webhook's cold start small, see `core.envelopes`); Ingest validates the envelope, asks
the channel's adapter to `parse` it into `InboundMessage`s, resolves the tenant, stores the raw update, applies the
DM policy and starts or folds into a turn, and asks the adapter to `show_activity` and `fetch_media`; CallModel asks
it for a `stream` sink for the reply's text as it is written; Deliver has it `chunk` and `send_text` the reply.

An adapter is the module `clawgate.channels.<name>` with a `CHANNEL` object whose `name` is `<name>` (a lower-case
word without underscores, so helper modules such as `whatsapp_parse` can never be taken for one). `get_adapter`
imports it on first use, so a new channel is one module in `channels/` (plus its webhook entry point) and nothing
here, in the agent or in tenancy changes. A channel whose accounts are written in the tenant file
(`channels.<name>: [...]`) says what one looks like with `CHANNEL.account_model`, an `AccountModel`: the tenant file
validates them with it and `clawgate tenants apply` registers each under its `routing_ids`.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from clawgate.core.turns import Turn

# whatsapp, telegram, webchat, …; `api` and `schedule` turns have no adapter (the caller reads the reply).
ChannelName = str
ADAPTER_PACKAGE = "clawgate.channels"
_ADAPTER_NAME = re.compile(r"^[a-z][a-z0-9]{1,30}$")
# unsupported: a user message we cannot read (the agent sees a placeholder); event: a provider update that is not a
# message (a bot added to a group, …), kept but never a turn.
InboundKind = Literal["message", "status", "callback", "edited", "unsupported", "event", "malformed"]


class Envelope(BaseModel):
    """One queue message: one provider update, untouched, with what routing needs."""

    channel: ChannelName = Field(pattern=_ADAPTER_NAME.pattern)
    kind: InboundKind = "message"
    account_id: str = ""  # WhatsApp phone_number_id; Telegram "<tenant>/<agent>"; webchat "<tenant>"
    provider_id: str = ""  # the exactly-once key: wamid, "<wamid>:<status>", "<bot>:<update_id>", …
    update: dict[str, Any] = {}  # the provider's own JSON for this one update
    context: dict[str, Any] = {}  # what the update needs from its batch (WhatsApp `value.metadata`, `contacts`)
    raw: str | None = None  # a body that could not be parsed, kept as received


class MediaRef(BaseModel):
    kind: Literal["image", "video", "audio", "voice", "document", "sticker"]
    provider_media_id: str
    mime_type: str | None = None
    filename: str | None = None
    size_bytes: int | None = None
    blob_key: str | None = None  # set once fetched into the blob store


class InboundMessage(BaseModel):
    """A message (or status) as the agent side understands it, whatever the channel."""

    channel: ChannelName
    kind: InboundKind
    account_id: str
    provider_id: str
    peer_id: str  # WhatsApp user_id (BSUID) or wa_id; Telegram chat id; webchat session/device
    conversation_key: str  # "<channel>:<account_id>:<peer_id>": the FIFO group and the session's peer
    sender_id: str | None = None  # who wrote (differs from peer_id in groups)
    sender_name: str | None = None
    wa_id: str | None = None
    sender_identity: dict[str, str] = {}  # more the channel knows of the sender: WhatsApp username, parent_bsuid
    text: str = ""  # what the model reads: body, caption, button title, or a placeholder naming the media
    media: list[MediaRef] = []
    reply_to_provider_id: str | None = None
    referral: dict[str, Any] | None = None  # WhatsApp CTWA referral, intact
    status: str | None = None  # for kind == "status": sent | delivered | read | failed
    error: dict[str, Any] | None = None
    is_group: bool = False
    mentioned: bool = True  # groups: the bot was mentioned or replied to
    sent_at: datetime | None = None
    agent_id: str | None = None  # an explicit target agent (the control UI picks one); else bindings decide
    turn_context: dict[str, Any] = {}  # what the adapter wants back in `Turn.context` (web chat: the asking tab)
    raw: dict[str, Any] = Field(default_factory=dict)


class SentMessage(BaseModel):
    provider_message_id: str | None
    chunk_index: int
    text: str


class DeliveryError(Exception):
    """A send the provider refused. `retryable` errors are retried with backoff; the others are recorded and
    surfaced to the operator (e.g. WhatsApp 131047, outside the 24-hour window)."""

    def __init__(self, message: str, *, code: int | None = None, retryable: bool, retry_after_s: float | None = None):
        super().__init__(message)
        self.code = code
        self.retryable = retryable
        self.retry_after_s = retry_after_s


class MediaError(Exception):
    pass


class MediaTooLargeError(MediaError):
    pass


TextSink = Callable[[str], None]  # receives the reply's text piece by piece while the model writes it


class AccountModel(BaseModel):
    """One account of a channel in the tenant file (`channels.<name>: [...]`): the agent that answers on it and what
    the adapter needs to reach the provider (tokens as `secret:<name>` references, never the secret). An adapter
    subclasses it as its `CHANNEL.account_model`. Applying the file routes each of `routing_ids` to the tenant in the
    registry, with the account's fields but `agent` as the config `send_text` gets (`account_config`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    agent: str

    def routing_ids(self, tenant: str) -> list[str]:
        """The ids the registry routes this account's updates on: the `Envelope.account_id` its webhook sets. By
        default the account is addressed by path (`/webhooks/<channel>/{tenant}/{agent}`): `<tenant>/<agent>`."""
        return [f"{tenant}/{self.agent}"]

    def answers_customers(self) -> bool:
        """Whether people the agency does not vouch for can write to this account's agent. An adapter that cannot
        say otherwise answers customers, so a rule that keeps operator work away from customers errs on its side."""
        return True


class Channel(Protocol):
    """What every adapter provides. Optional: `account_model: type[AccountModel]` (accounts in the tenant file),
    `sender_profile(account, message)` (a tool profile per sender, see docs/architecture.md)."""

    name: ChannelName
    max_text: int

    def parse(self, envelope: Envelope) -> list[InboundMessage]: ...

    def chunk(self, text: str) -> list[str]:
        """The pieces a reply is sent in, in order, each within the channel's limit (idempotent on a piece)."""
        ...

    def send_text(
        self, account: dict[str, Any], peer_id: str, text: str, reply_to: str | None = None, *, turn: Turn | None = None
    ) -> list[SentMessage]:
        """Send one piece of text (a chunk); `account` is the channel account's config (`account_config`), `turn`
        the turn it answers (None for an operator's or a tool's message). Raises `DeliveryError` when refused."""
        ...

    def stream(self, turn: Turn) -> TextSink | None:
        """Where the reply's text goes while the model writes it (web chat's `chat.delta`); None: not streamed."""
        ...

    def fetch_media(self, account: dict[str, Any], media: MediaRef, *, tenant: str) -> MediaRef:
        """Download an inbound attachment into the blob store; the returned ref has `blob_key`. Raises MediaError."""
        ...

    def show_activity(self, account: dict[str, Any], message: InboundMessage) -> None:
        """Read receipt + typing indicator (WhatsApp), `typing` (Telegram); best effort, never raises."""
        ...


@runtime_checkable
class TemplateSender(Protocol):
    """A channel that sends pre-approved templates outside its service window (WhatsApp)."""

    def send_template(
        self, account: dict[str, Any], peer_id: str, name: str, language: str, parameters: list[str]
    ) -> SentMessage: ...


class UnknownChannelError(LookupError):
    pass


def find_adapter(name: str) -> Channel | None:
    """The adapter of channel `name`, or None when there is none (`api`, `schedule`)."""
    if not _ADAPTER_NAME.match(name):
        return None
    try:
        module = importlib.import_module(f"{ADAPTER_PACKAGE}.{name}")
    except ModuleNotFoundError as error:
        if error.name != f"{ADAPTER_PACKAGE}.{name}":
            raise  # the adapter exists and one of its own imports is missing: a bug, not an unknown channel
        return None
    adapter: Channel | None = getattr(module, "CHANNEL", None)
    return adapter if adapter is not None and adapter.name == name else None


def account_model(name: str) -> type[AccountModel] | None:
    """The model of channel `name`'s accounts in the tenant file; None when it has no adapter or no such accounts."""
    model = getattr(find_adapter(name), "account_model", None)
    return model if isinstance(model, type) and issubclass(model, AccountModel) else None


def get_adapter(name: str) -> Channel:
    adapter = find_adapter(name)
    if adapter is None:
        raise UnknownChannelError(f"no channel adapter {name!r}")
    return adapter
