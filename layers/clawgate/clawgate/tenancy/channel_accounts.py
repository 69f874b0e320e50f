"""The tenant file's channel accounts (`channels:`). Six channels are typed here, for the code that reads their
accounts from the file (the Meta tools, jobs, the CDK app); any other key is a channel whose adapter declares its
`account_model` (core/channels.py), validated and registered the same way, so a new channel edits nothing here."""

from __future__ import annotations

from functools import cache
from types import GenericAlias
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, create_model, model_validator

from clawgate.core.channels import AccountModel, account_model, find_adapter
from clawgate.secrets import SECRET_PREFIX

DmPolicy = Literal["open", "allowlist", "pairing"]
TURN_SOURCES = ("api", "schedule")  # turns that come through no channel adapter


def _secret_reference(value: str) -> str:
    if not value.startswith(SECRET_PREFIX) or len(value) <= len(SECRET_PREFIX):
        raise ValueError("must be a `secret:<name>` reference; secrets never go in tenant files")
    return value


SecretRef = Annotated[str, AfterValidator(_secret_reference)]


def _channel_name(value: str) -> str:
    """A channel of `model_by_channel`: a typed channel of the file, a turn source, or any other adapter's name."""
    if value not in Channels.model_fields and value not in TURN_SOURCES and find_adapter(value) is None:
        known = ", ".join(repr(name) for name in (*Channels.model_fields, "webchat", *TURN_SOURCES))
        raise ValueError(f"{value!r} is not a channel: {known}, or another channel adapter's name")
    return value


ChannelName = Annotated[str, AfterValidator(_channel_name)]


class WhatsAppAccount(AccountModel):
    phone_number_id: str = Field(pattern=r"^\d+$")
    waba_id: str = Field(pattern=r"^\d+$")
    access_token: SecretRef
    dm_policy: DmPolicy = "open"
    allow_from: list[str] = Field(default_factory=list)
    organic_leads: bool = False  # a conversation that starts without an ad is also a lead (source `organic`)

    def routing_ids(self, tenant: str) -> list[str]:
        return [self.phone_number_id]  # the webhook's `metadata.phone_number_id`


# Meta asks bots to say they are automated where the law requires it (Messenger policy): sent once per conversation,
# before the first bot message, in the tenant's words (`automation_disclosure: null` turns it off).
DEFAULT_AUTOMATION_DISCLOSURE = "You are chatting with an automated assistant. Ask for a person at any time."


class MetaMessagingAccount(AccountModel):
    """What a Messenger Page and an Instagram account share: the agent, the account's token and who may write."""

    access_token: SecretRef
    dm_policy: DmPolicy = "open"
    allow_from: list[str] = Field(default_factory=list)
    organic_leads: bool = False
    automation_disclosure: str | None = Field(default=DEFAULT_AUTOMATION_DISCLOSURE, max_length=640)


class MessengerAccount(MetaMessagingAccount):
    """A Facebook Page answering on Messenger with its Page access token."""

    page_id: str = Field(pattern=r"^\d+$")

    def routing_ids(self, tenant: str) -> list[str]:
        return [self.page_id]


class InstagramAccount(MetaMessagingAccount):
    """An Instagram professional account on the Instagram API with Instagram Login (its own user token)."""

    ig_user_id: str = Field(pattern=r"^\d+$")

    def routing_ids(self, tenant: str) -> list[str]:
        return [self.ig_user_id]


class TelegramAccount(AccountModel):
    """A bot, addressed by path (`/webhooks/telegram/{tenant}/{agent}`): routed as `<tenant>/<agent>`."""

    bot_token: SecretRef
    dm_policy: DmPolicy = "open"
    allow_from: list[int] = Field(default_factory=list)
    operator: bool = False  # its chats get the operator profile: ads, SQL, send_message, workspace tools

    def answers_customers(self) -> bool:
        """An operator bot admits only people the agency lists or pairs; any other bot open to anyone does not."""
        return not self.operator and self.dm_policy == "open"

    @model_validator(mode="after")
    def _operator_bots_are_closed(self) -> TelegramAccount:
        if self.operator and self.dm_policy == "open":
            raise ValueError(
                "operator: true needs dm_policy allowlist or pairing: an open bot gives anyone who finds it the"
                " operator tools"
            )
        return self


class SlackAccount(AccountModel):
    """One Slack app per tenant (Events API over HTTP at /webhooks/slack/{tenant}/{agent}). Members of the workspace
    `team_id` get the operator profile (it is the agency's), or only those in `allow_from` when it is set; guests and
    Slack Connect users get the customer profile."""

    team_id: str = Field(pattern=r"^[TE][A-Z0-9]{2,20}$")
    bot_token: SecretRef
    signing_secret: SecretRef
    allow_from: list[Annotated[str, Field(pattern=r"^[UW][A-Z0-9]{2,20}$")]] = Field(default_factory=list)


class DiscordAccount(AccountModel):
    """A Discord application's interactions endpoint (/webhooks/discord/{tenant}/{agent}) and its `/ask` command.
    Servers are often public: the customer profile, unless `operator: true`, and then only for the user ids in
    `allow_from` (which `operator: true` requires)."""

    application_id: str = Field(pattern=r"^\d{5,25}$")
    public_key: str = Field(pattern=r"^[0-9a-fA-F]{64}$")
    bot_token: SecretRef
    operator: bool = False
    allow_from: list[Annotated[str, Field(pattern=r"^\d{5,25}$")]] = Field(default_factory=list)

    @model_validator(mode="after")
    def _operators_are_listed(self) -> DiscordAccount:
        if self.operator and not self.allow_from:
            raise ValueError("operator: true needs allow_from, the Discord user ids who are operators")
        return self


class Channels(BaseModel):
    """The tenant's channel accounts by adapter name: the six typed channels, and any other adapter's accounts."""

    model_config = ConfigDict(extra="allow", frozen=True)

    whatsapp: list[WhatsAppAccount] = []
    telegram: list[TelegramAccount] = []
    slack: list[SlackAccount] = []
    discord: list[DiscordAccount] = []
    messenger: list[MessengerAccount] = []
    instagram: list[InstagramAccount] = []

    @model_validator(mode="before")
    @classmethod
    def _adapters_accounts(cls, data: Any) -> Any:
        """Any other key is validated by its adapter's `account_model`; a key no adapter declares accounts for is
        refused as an extra input, as before."""
        if not isinstance(data, dict) or all(key in cls.model_fields for key in data):
            return data
        others = {str(key): value for key, value in data.items() if key not in cls.model_fields}
        models = tuple((name, model) for name in sorted(others) if (model := account_model(name)) is not None)
        validated = _adapter_channels(models).model_validate(others)
        return {**{key: value for key, value in data.items() if key in cls.model_fields}, **dict(validated)}

    def accounts(self) -> list[tuple[str, AccountModel]]:
        """Every account with its channel: the typed channels first, then the others by name."""
        typed: dict[str, list[AccountModel]] = {name: getattr(self, name) for name in type(self).model_fields}
        return [(name, a) for name, accounts in {**typed, **(self.model_extra or {})}.items() for a in accounts]


@cache
def _adapter_channels(models: tuple[tuple[str, type[AccountModel]], ...]) -> type[BaseModel]:
    """A model with a list of accounts for each (channel, account model) of `models`; any other key is refused."""
    fields: dict[str, Any] = {name: (GenericAlias(list, (model,)), []) for name, model in models}
    return create_model("AdapterChannels", __config__=ConfigDict(extra="forbid", frozen=True), **fields)
