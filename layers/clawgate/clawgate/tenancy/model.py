"""The tenant file (`tenants/<slug>.yaml`), validated at the boundary. A wrong file is refused with the field and
the reason; secrets appear only as `secret:<name>` references."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, model_validator

from clawgate.tenancy.channel_accounts import ChannelName, Channels, SecretRef

BUILTIN_PROVIDERS = frozenset({"anthropic", "bedrock", "offline"})
APPLYING = "applying"  # validation context of a tenant file being applied, not a stored one being read
AGENT_ID = r"^[a-z0-9][a-z0-9_-]{0,39}$"
# Meta rejects `Lead` and `CompleteRegistration` for business messaging (REFERENCE.md, Conversions API).
BUSINESS_MESSAGING_EVENTS = frozenset(
    {
        "LeadSubmitted", "QualifiedLead", "Purchase", "InitiateCheckout", "AddToCart", "ViewContent", "OrderCreated",
        "OrderShipped", "OrderDelivered", "OrderCanceled", "OrderReturned", "CartAbandoned", "RatingProvided",
        "ReviewProvided",
    }
)  # fmt: skip


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"unknown IANA timezone {value!r}") from error
    return value


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Budget(Strict):
    daily_usd: float = Field(gt=0)


MODEL = r"^[a-z0-9_-]+/.+$"  # <provider>/<model>: anthropic/…, bedrock/…, offline/…, or a provider of the tenant


class AgentTools(Strict):
    allow: list[str] = []  # extra tools beyond the channel profile's (never widens a customer channel)
    deny: list[str] = []


class Agent(Strict):
    id: str = Field(pattern=AGENT_ID)
    name: str = Field(min_length=1)
    emoji: str | None = None
    model: str = Field(default="anthropic/claude-sonnet-4-5", pattern=MODEL)
    model_by_channel: dict[ChannelName, Annotated[str, Field(pattern=MODEL)]] = {}
    fallback_models: list[Annotated[str, Field(pattern=MODEL)]] = []
    description: str | None = None
    tools: AgentTools = AgentTools()
    max_steps: int = Field(default=8, ge=1, le=50)
    max_tokens: int = Field(default=1024, ge=64, le=32000)
    context_tokens: int = Field(default=200_000, ge=1_000)
    fallback_reply: str | None = "Sorry, I can't answer right now. A person from our team will get back to you."


class Provider(Strict):
    """A model endpoint of the tenant's own, e.g. an in-house LLM router speaking the OpenAI chat API:
    `providers: {router: {base_url: https://llm.example/v1, api_key: "secret:acme/router"}}` then
    `model: router/<model>`."""

    type: Literal["openai"] = "openai"
    base_url: str = Field(pattern=r"^https?://")
    api_key: SecretRef | None = None


class Meta(Strict):
    ad_account_id: str = Field(pattern=r"^act_\d+$")
    page_id: str | None = Field(default=None, pattern=r"^\d+$")
    access_token: SecretRef
    operator_chat_id: int | None = None


class CapiEvents(Strict):
    l1: str = "LeadSubmitted"
    l2: str = "QualifiedLead"
    l3: str = "Purchase"

    @model_validator(mode="after")
    def _accepted_by_meta(self) -> CapiEvents:
        for level in ("l1", "l2", "l3"):
            name = getattr(self, level)
            if name not in BUSINESS_MESSAGING_EVENTS:
                raise ValueError(f"{level}: {name!r} is not accepted by Meta for business messaging")
        return self


class Capi(Strict):
    enabled: bool = True
    dataset_id: str = Field(pattern=r"^\d+$")
    threshold: int = Field(default=3, ge=1)
    events: CapiEvents = CapiEvents()
    test_event_code: str | None = None
    crm_events: bool = False


AdsJob = Literal[
    "metrics_sync", "mapping_sync", "currency_rates", "scoring", "creative_tests", "morning_report", "weekly_report",
    "heartbeat", "inbox", "templates_sync",
]  # fmt: skip


def _schedule(value: str) -> str:
    if value != "off":
        from clawgate.tenancy.cron import parse_cron

        parse_cron(value)
    return value


class Ads(Strict):
    """Ads management: the guardrails the Marketing API tools enforce in code, the agent that scheduled ads turns
    run as (default: the first agent), where reports go (default: the operator chats), and job schedules
    (EventBridge `cron(...)` in the tenant's timezone, `off` disables one; defaults in clawgate/jobs/schedules.py)."""

    agent: str | None = None
    budget_step_limit: float = Field(default=0.30, gt=0, le=10)  # a change beyond ±30% needs a confirmation turn
    daily_budget_cap: float | None = Field(default=None, gt=0)  # per ad set, account currency; above: confirmation
    # The sum of the daily budgets of everything running in the ad account (account currency). Required in the file
    # whenever meta.ad_account_id is set, and checked again at spend time (a tenant stored before that rule gets no
    # budget increase and no ACTIVE until it is set). No chat and no confirmation can go past it.
    account_daily_cap: float | None = Field(default=None, gt=0)
    report_chat_id: int | None = None
    schedules: dict[AdsJob, Annotated[str, AfterValidator(_schedule)]] = {}
    heartbeat: bool = False  # opt-in: a scheduled turn when something changed, never past the daily budget


class Transcription(Strict):
    """Voice notes become text through any OpenAI-compatible `/audio/transcriptions` endpoint (Whisper, a router)."""

    base_url: str = Field(pattern=r"^https?://")
    api_key: SecretRef | None = None
    model: str = "whisper-1"


Qualification = Literal["new", "interested", "scheduled", "not_interested"]
# "Stop" in the languages of the first tenants; a tenant adds its own (`opt_out.keywords`).
DEFAULT_OPT_OUT = ("stop", "unsubscribe", "стоп", "отписаться", "отписка", "тоқта", "stopp", "baja", "parar")


class Handoff(Strict):
    """When a conversation goes to a person (`human` mode) and when it comes back to the agent."""

    auto_resume_minutes: int | None = Field(default=None, ge=1, le=43_200)  # unset: only an operator gives it back
    keywords: list[Annotated[str, Field(min_length=2, max_length=100)]] = []  # a customer message containing one
    on_qualification: list[Qualification] = []  # e.g. [scheduled]: a qualified lead goes to a person
    inbox_url: str | None = Field(default=None, pattern=r"^https?://")  # the link in notifications


class OptOut(Strict):
    """A customer whose whole message is one of `keywords` (any case) gets `confirmation` and nothing more: no
    follow-up, no template, until they write again."""

    keywords: list[Annotated[str, Field(min_length=1, max_length=40)]] = list(DEFAULT_OPT_OUT)
    confirmation: str = Field(
        default="You will not get more messages from us. Write to us any time if you need us again.",
        min_length=1, max_length=1000,
    )  # fmt: skip


class TenantFile(Strict):
    slug: str = Field(pattern=r"^[a-z0-9_]{1,40}$")
    name: str = Field(min_length=1)
    timezone: Annotated[str, AfterValidator(_timezone)] = "UTC"
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    budget: Budget = Budget(daily_usd=20)
    agents: list[Agent] = Field(min_length=1)
    channels: Channels = Channels()
    meta: Meta | None = None
    capi: Capi | None = None
    providers: dict[Annotated[str, Field(pattern=r"^[a-z0-9_-]+$")], Provider] = {}
    transcription: Transcription | None = None
    ads: Ads = Ads()
    handoff: Handoff = Handoff()
    opt_out: OptOut = OptOut()

    @model_validator(mode="after")
    def _ads_agent_exists(self) -> TenantFile:
        if self.ads.agent is not None and self.ads.agent not in {agent.id for agent in self.agents}:
            raise ValueError(f"ads.agent: {self.ads.agent!r} is not one of the agents")
        return self

    @model_validator(mode="after")
    def _ads_agent_answers_no_customer(self) -> TenantFile:
        """Scheduled ads turns run in the operator profile (ads, SQL, send_message): never as an agent that customers
        talk to, whose conversations could steer them."""
        if self.meta is None and not self.ads.heartbeat:
            return self
        customers = self.customer_channels(self.ads_agent)
        if customers:
            which = "ads.agent" if self.ads.agent else f"ads.agent (unset, so the first agent, {self.ads_agent!r})"
            raise ValueError(
                f"{which}: scheduled ads turns must not run as an agent that answers customers"
                f" ({', '.join(customers)}); set ads.agent to one reached only by operators"
            )
        return self

    @model_validator(mode="after")
    def _ad_account_has_a_cap(self, info: ValidationInfo) -> TenantFile:
        """Checked on a file being applied (`parse_tenant`). A tenant stored before this rule still loads from the
        registry, and its spend is refused at spend time until the agency sets the cap (meta/marketing/spend.py)."""
        applying = bool(info.context and info.context.get(APPLYING))
        if applying and self.meta is not None and self.ads.account_daily_cap is None:
            raise ValueError(
                f"ads.account_daily_cap: required because meta.ad_account_id ({self.meta.ad_account_id}) gives the ads"
                " tools an ad account; set the most its running daily budgets may add up to, in its currency"
            )
        return self

    @property
    def ads_agent(self) -> str:
        """The agent scheduled ads turns (reports, heartbeat, creative tests) run as."""
        return self.ads.agent or self.agents[0].id

    def customer_channels(self, agent_id: str) -> list[str]:
        """Where customers reach `agent_id`: every account of every channel bound to it that answers customers
        (WhatsApp, Messenger, Instagram, Slack guests, Discord, a Telegram bot open to anyone, any other adapter's)."""
        return [
            f"{channel} {', '.join(account.routing_ids(self.slug))}"
            for channel, account in self.channels.accounts()
            if account.agent == agent_id and account.answers_customers()
        ]

    @model_validator(mode="after")
    def _models_have_providers(self) -> TenantFile:
        known = BUILTIN_PROVIDERS | set(self.providers)
        for index, agent in enumerate(self.agents):
            for model in (agent.model, *agent.model_by_channel.values(), *agent.fallback_models):
                if model.split("/", 1)[0] not in known:
                    raise ValueError(f"agents.{index}: model {model!r} names no provider; known: {sorted(known)}")
        return self

    def agent(self, agent_id: str) -> Agent:
        return next(agent for agent in self.agents if agent.id == agent_id)

    @model_validator(mode="after")
    def _references_resolve(self) -> TenantFile:
        ids = [agent.id for agent in self.agents]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"agents: duplicate id {duplicates[0]!r}")
        for channel, account in self.channels.accounts():
            if account.agent not in ids:
                raise ValueError(f"channels.{channel}: agent {account.agent!r} is not one of the agents {ids}")
        return self


class TenantFileError(ValueError):
    """A tenant file that cannot be applied; `problems` are `(field, reason)` pairs."""

    def __init__(self, source: str, problems: list[tuple[str, str]]) -> None:
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  {field}: {reason}" for field, reason in problems)
        super().__init__(f"{source} is not a valid tenant file:\n{lines}")


def _field_name(location: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in location) or "(file)"


def parse_tenant(data: object, source: str = "tenant file") -> TenantFile:
    try:
        return TenantFile.model_validate(data, context={APPLYING: True})
    except ValidationError as error:
        problems = [(_field_name(e["loc"]), e["msg"].removeprefix("Value error, ")) for e in error.errors()]
        raise TenantFileError(source, problems) from None


def load_tenant_file(path: Path | str) -> TenantFile:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise TenantFileError(str(path), [("(file)", "no such file")]) from None
    except yaml.YAMLError as error:
        raise TenantFileError(str(path), [("(file)", f"not valid YAML: {error}")]) from None
    return parse_tenant(data, str(path))
