"""Slack through the local runtime: signed Events API callbacks in, `chat.postMessage` out at the fake Slack Web
API. Replies in the thread in mrkdwn, split when long; retries and repeated event ids change nothing; bots and edits
are never answered; bad signatures, stale timestamps and forged request URLs store nothing; members get the operator
profile and guests, Slack Connect users and those outside the allowlist the customer one; 429s are waited out."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from clawgate.channels.slack_webhook import signature
from clawgate.channels.webhook_seal import request_url
from clawgate.cli import main
from clawgate.db import owner_tx, tenant_tx
from clawgate.local.fakes import FakeAnthropic, FakeSlack
from clawgate.tenancy.apply import apply_tenant
from clawgate.tenancy.model import TenantFile

from tests.channel_fixtures import environment
from tests.runtime import RunningRuntime

TEAM = "T0AGENCY"
BOT_TOKEN = "xoxb-test-bot-token"
SIGNING_SECRET = "test-slack-signing-secret"
MEMBER, GUEST = "U0MEMBER", "U0GUEST"


@pytest.fixture
def slack(webhook_key: str) -> Iterator[FakeSlack]:
    with FakeSlack(token=BOT_TOKEN, team_id=TEAM) as fake, environment(CLAWGATE_SLACK_API_URL=fake.url):
        yield fake


@pytest.fixture
def slack_tenant(make_tenant: Callable[..., TenantFile]) -> Callable[..., TenantFile]:
    def make(**account: Any) -> TenantFile:
        tenant = make_tenant(channels={"slack": [{"team_id": TEAM, "agent": "director", "bot_token": "secret:s/bot",
                                                  "signing_secret": "secret:s/signing", **account}]})  # fmt: skip
        apply_tenant(tenant)
        return tenant

    with environment(CLAWGATE_SECRET_S_BOT=BOT_TOKEN, CLAWGATE_SECRET_S_SIGNING=SIGNING_SECRET):
        yield make


def callback(event: dict[str, Any], event_id: str) -> dict[str, Any]:
    return {"token": "x", "team_id": TEAM, "api_app_id": "A0APP", "type": "event_callback", "event_id": event_id,
            "event_time": int(time.time()), "authorizations": [{"team_id": TEAM, "user_id": "U0BOT", "is_bot": True}],
            "event": event}  # fmt: skip


def mention(text: str, ts: str = "1700000000.000100", user: str = MEMBER, **extra: Any) -> dict[str, Any]:
    return {"type": "app_mention", "user": user, "text": f"<@U0BOT> {text}", "ts": ts, "channel": "C0GENERAL",
            "team": TEAM, **extra}  # fmt: skip


def post(
    local: RunningRuntime, tenant: TenantFile, body: dict[str, Any], *, secret: str = SIGNING_SECRET,
    age_s: int = 0, headers: dict[str, str] | None = None, url: str | None = None,
) -> httpx.Response:  # fmt: skip
    raw = json.dumps(body).encode()
    timestamp = str(int(time.time()) - age_s)
    url = url or request_url(local.url, "slack", tenant.slug, "director", SIGNING_SECRET)
    answer = httpx.post(url, content=raw, timeout=30, headers={
        "content-type": "application/json", "x-slack-request-timestamp": timestamp,
        "x-slack-signature": signature(secret, timestamp, raw), **(headers or {})})  # fmt: skip
    assert local.runtime.queues.get("inbound").wait_idle(timeout=120)
    return answer


def rows(tenant: TenantFile, sql: str) -> list[tuple[Any, ...]]:
    with tenant_tx(tenant.slug) as conn:
        return conn.execute(sql).fetchall()


def offered(model: FakeAnthropic) -> set[str]:
    return {tool["name"] for tool in model.message_requests()[-1]["tools"]}


def test_url_verification_echoes_the_challenge(local: RunningRuntime, slack: FakeSlack, slack_tenant: Any) -> None:
    tenant = slack_tenant()
    answer = post(local, tenant, {"token": "x", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
                                  "type": "url_verification"})  # fmt: skip
    assert answer.status_code == 200
    assert answer.json() == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}


def test_a_mention_is_answered_in_its_thread_in_mrkdwn(
    local: RunningRuntime, slack: FakeSlack, slack_tenant: Any, model: FakeAnthropic
) -> None:
    tenant = slack_tenant()
    model.script_text("**Spend** is up. See [the report](https://example.com/r?a=1&b=2) <!channel>")
    assert post(local, tenant, callback(mention("how are the ads?"), "Ev001")).status_code == 200
    (posted,) = slack.posted()
    assert (posted["channel"], posted["thread_ts"]) == ("C0GENERAL", "1700000000.000100")
    assert posted["text"].startswith("*Spend* is up.")
    assert "<https://example.com/r?a=1&amp;b=2|the report>" in posted["text"]
    assert "<!channel>" not in posted["text"] and "&lt;!channel&gt;" in posted["text"]  # the model cannot ping all
    assert model.message_requests()[-1]["messages"][-1]["content"][-1]["text"].endswith("how are the ads?")
    assert "db_query" in offered(model)  # a member of the agency's workspace: the operator profile
    assert rows(tenant, "SELECT channel, peer_id, status FROM turns") == [
        ("slack", "C0GENERAL:1700000000.000100", "succeeded")
    ]


def test_a_direct_message_is_answered_in_the_dm(
    local: RunningRuntime, slack: FakeSlack, slack_tenant: Any, model: FakeAnthropic
) -> None:
    tenant = slack_tenant()
    model.script_text("Hi there.")
    dm = {"type": "message", "channel_type": "im", "channel": "D0DM", "user": MEMBER, "text": "hello", "ts": "1.2"}
    post(local, tenant, callback(dm, "Ev100"))
    assert [(p["channel"], p.get("thread_ts"), p["text"]) for p in slack.posted()] == [("D0DM", None, "Hi there.")]


def test_retries_and_repeated_event_ids_change_nothing(
    local: RunningRuntime, slack: FakeSlack, slack_tenant: Any, model: FakeAnthropic
) -> None:
    tenant = slack_tenant()
    body = callback(mention("once please"), "Ev200")
    post(local, tenant, body)
    for retry in ("1", "2"):
        assert post(local, tenant, body, headers={"x-slack-retry-num": retry, "x-slack-retry-reason": "http_timeout"})
    assert len(slack.posted()) == 1 and len(model.message_requests()) == 1
    assert rows(tenant, "SELECT count(*) FROM inbound_events") == [(1,)]


def test_bots_edits_and_unmentioned_channel_messages_are_stored_not_answered(
    local: RunningRuntime, slack: FakeSlack, slack_tenant: Any, model: FakeAnthropic
) -> None:
    tenant = slack_tenant()
    ours = {"type": "message", "channel_type": "im", "channel": "D0DM", "bot_id": "B0BOT", "text": "echo", "ts": "2"}
    edit = {"type": "message", "subtype": "message_changed", "channel": "D0DM", "channel_type": "im", "ts": "3",
            "message": {"user": MEMBER, "text": "edited"}}  # fmt: skip
    chatter = {"type": "message", "channel_type": "channel", "channel": "C0GENERAL", "user": MEMBER, "text": "hi",
               "ts": "4"}  # fmt: skip
    for index, event in enumerate((ours, edit, chatter)):
        post(local, tenant, callback(event, f"Ev30{index}"))
    assert slack.posted() == [] and model.message_requests() == []
    assert sorted(rows(tenant, "SELECT kind FROM inbound_events")) == [("edited",), ("event",), ("message",)]
    assert rows(tenant, "SELECT count(*) FROM turns") == [(0,)]


@pytest.mark.parametrize(
    ("problem", "kwargs"),
    [("wrong secret", {"secret": "not-the-secret"}), ("older than 5 minutes", {"age_s": 301}),
     ("no seal", {"url": "/webhooks/slack/{slug}/director"}),
     ("another account's seal", {"url": "/webhooks/slack/{slug}/assistant?k={seal}"})],
)  # fmt: skip
def test_a_request_that_fails_verification_is_401_and_stores_nothing(
    local: RunningRuntime, slack: FakeSlack, slack_tenant: Any, model: FakeAnthropic, problem: str, kwargs: Any
) -> None:
    tenant = slack_tenant()
    if "url" in kwargs:
        seal = request_url("", "slack", tenant.slug, "director", SIGNING_SECRET).partition("?k=")[2]
        kwargs = {"url": local.url + kwargs["url"].format(slug=tenant.slug, seal=seal)}
    answer = post(local, tenant, callback(mention("let me in"), "Ev400"), **kwargs)
    assert answer.status_code == 401, problem
    assert rows(tenant, "SELECT count(*) FROM inbound_events") == [(0,)]
    with owner_tx() as conn:  # the runtime's own login may only insert there
        assert conn.execute("SELECT count(*) FROM unrouted_events WHERE channel = 'slack'").fetchone() == (0,)
    assert slack.posted() == [] and model.message_requests() == []


@pytest.mark.parametrize(
    ("user", "account", "event_extra"),
    [(GUEST, {}, {}), (MEMBER, {}, {"user_team": "T0CUSTOMER"}), (MEMBER, {"allow_from": ["U0BOSS"]}, {})],
    ids=["guest", "slack-connect", "outside-the-allowlist"],
)
def test_guests_connect_users_and_the_unlisted_get_the_customer_profile(
    local: RunningRuntime, slack: FakeSlack, slack_tenant: Any, model: FakeAnthropic,
    user: str, account: dict[str, Any], event_extra: dict[str, Any],
) -> None:  # fmt: skip
    tenant = slack_tenant(**account)
    slack.add_user(GUEST, is_restricted=True)
    post(local, tenant, callback(mention("show me the SQL tables", user=user, **event_extra), "Ev500"))
    assert not {"db_query", "ads_set_budget", "workspace_write"} & offered(model)
    assert len(slack.posted()) == 1


def test_a_listed_member_gets_the_operator_profile(
    local: RunningRuntime, slack: FakeSlack, slack_tenant: Any, model: FakeAnthropic
) -> None:
    tenant = slack_tenant(allow_from=[MEMBER])
    post(local, tenant, callback(mention("budget?"), "Ev600"))
    assert "ads_set_budget" in offered(model)
    assert [r.params["user"] for r in slack.requests_to("/api/users.info")] == [MEMBER]


def test_a_long_answer_is_split_and_a_rate_limit_is_waited_out(
    local: RunningRuntime, slack: FakeSlack, slack_tenant: Any, model: FakeAnthropic
) -> None:
    tenant = slack_tenant()
    model.script_text("\n\n".join(f"Part {i}: " + "y" * 2000 for i in range(2)))  # within the agent's max_tokens
    slack.rate_limit(retry_after=1)
    post(local, tenant, callback(mention("write a report"), "Ev700"))
    posted = slack.posted()
    assert [p["text"].split(":")[0] for p in posted] == ["Part 0", "Part 1"]
    assert {p["thread_ts"] for p in posted} == {"1700000000.000100"} and all(len(p["text"]) <= 3000 for p in posted)
    assert len(slack.requests_to("/api/chat.postMessage")) == 3  # the 429, then the two parts
    assert rows(tenant, "SELECT count(*), min(status) FROM outbound_messages") == [(2, "sent")]


def test_request_url_prints_a_url_slack_can_verify(
    local: RunningRuntime, slack: FakeSlack, slack_tenant: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    tenant = slack_tenant()
    assert main(["channels", "slack", "request-url", "--tenant", tenant.slug, "--agent", "director",
                 "--url", local.url]) == 0  # fmt: skip
    url = capsys.readouterr().out.strip()
    assert url.startswith(f"{local.url}/webhooks/slack/{tenant.slug}/director?k=") and SIGNING_SECRET not in url
    answer = post(local, tenant, {"type": "url_verification", "challenge": "c-123"}, url=url)
    assert answer.json() == {"challenge": "c-123"}
    assert main(["channels", "slack", "request-url", "--tenant", tenant.slug, "--agent", "nobody", "--url", "x"]) == 1


def test_a_signed_body_that_is_not_an_event_is_acknowledged_and_kept_raw_even_with_a_nul(
    local: RunningRuntime, slack: FakeSlack, slack_tenant: Any, model: FakeAnthropic
) -> None:
    tenant = slack_tenant()
    raw = b"\x00{not json at all"
    timestamp = str(int(time.time()))
    headers = {"x-slack-request-timestamp": timestamp, "x-slack-signature": signature(SIGNING_SECRET, timestamp, raw)}
    url = request_url(local.url, "slack", tenant.slug, "director", SIGNING_SECRET)
    answer = httpx.post(url, content=raw, headers=headers, timeout=30)
    assert answer.status_code == 200
    assert local.runtime.queues.get("inbound").wait_idle(timeout=120)
    with owner_tx() as conn:
        kept = conn.execute("SELECT reason, payload FROM unrouted_events WHERE account_id = %s",
                            (f"{tenant.slug}/director",)).fetchall()  # fmt: skip
    assert [(reason, payload.endswith("{not json at all")) for reason, payload in kept] == [
        ("malformed provider body", True)
    ]
    assert slack.posted() == [] and model.message_requests() == []


def test_a_nul_in_a_message_is_answered_not_dead_lettered(
    local: RunningRuntime, slack: FakeSlack, slack_tenant: Any, model: FakeAnthropic
) -> None:
    """PostgreSQL's text and jsonb refuse U+0000: a hostile one must not fail every insert of the event."""
    tenant = slack_tenant()
    model.script_text("Got it.")
    post(local, tenant, callback(mention("zero \x00 byte"), "Ev800"))
    assert [p["text"] for p in slack.posted()] == ["Got it."]
    assert model.message_requests()[-1]["messages"][-1]["content"][-1]["text"].endswith("zero \ufffd byte")
