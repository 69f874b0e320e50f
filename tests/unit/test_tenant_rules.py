"""Tenant-file rules that keep customers away from operator tools: refused with the field and the reason."""

from __future__ import annotations

from pathlib import Path

import pytest
from clawgate.settings import PROJECT_ROOT
from clawgate.tenancy.model import TenantFile, TenantFileError, load_tenant_file, parse_tenant

from tests.conftest import tenant_data

META = {"ad_account_id": "act_1", "access_token": "secret:x/meta"}


def problems(data: dict[str, object]) -> dict[str, str]:
    with pytest.raises(TenantFileError) as raised:
        parse_tenant(data)
    return dict(raised.value.problems)


def test_scheduled_ads_turns_never_default_to_the_agent_customers_talk_to() -> None:
    data = tenant_data("ads_rule", meta=META)
    data.pop("ads")  # the first agent, `assistant`, answers WhatsApp
    reason = " ".join(problems(data).values())
    assert "ads.agent (unset, so the first agent, 'assistant')" in reason and "whatsapp" in reason


def test_an_explicit_ads_agent_must_not_answer_customers_either() -> None:
    data = tenant_data("ads_rule", meta=META, ads={"agent": "assistant"})
    assert "answers customers" in " ".join(problems(data).values())
    open_bot = tenant_data("ads_rule", meta=META)
    open_bot["channels"]["telegram"][0]["dm_policy"] = "open"  # the director's bot, open to anyone
    assert "telegram ads_rule/director" in " ".join(problems(open_bot).values())


@pytest.mark.parametrize(
    ("channel", "account"),
    [
        ("messenger", {"page_id": "153125381133", "access_token": "secret:x/page"}),
        ("instagram", {"ig_user_id": "17841400000000001", "access_token": "secret:x/ig"}),
        ("slack", {"team_id": "T0123ABCD", "bot_token": "secret:x/slack", "signing_secret": "secret:x/signing"}),
        ("discord", {"application_id": "123456789012", "public_key": "ab" * 32, "bot_token": "secret:x/discord",
                     "operator": True, "allow_from": ["123456789012"]}),
    ],
)  # fmt: skip
def test_an_ads_agent_customers_reach_on_any_channel_is_refused(channel: str, account: dict[str, object]) -> None:
    """Messenger and Instagram are public; Slack guests and Discord users outside `allow_from` are customers."""
    data = tenant_data("ads_rule", meta=META)
    data["channels"][channel] = [{"agent": "director", **account}]
    reason = " ".join(problems(data).values())
    assert "answers customers" in reason and channel in reason, reason


def test_an_ads_agent_reached_only_by_operators_is_accepted() -> None:
    tenant = parse_tenant(tenant_data("ads_rule", meta=META))
    assert tenant.ads_agent == "director"


def test_an_operator_bot_open_to_anyone_is_refused() -> None:
    data = tenant_data("open_op")
    data["channels"]["telegram"][0].update(dm_policy="open", operator=True)
    assert "operator: true needs dm_policy allowlist or pairing" in " ".join(problems(data).values())
    data["channels"]["telegram"][0].update(dm_policy="pairing")
    assert parse_tenant(data).channels.telegram[0].operator


def test_the_demo_tenant_names_its_ads_agent() -> None:
    demo = load_tenant_file(Path(PROJECT_ROOT) / "tenants" / "demo.yaml")
    assert demo.ads_agent == "director" and not demo.customer_channels("director")


def test_an_ad_account_without_an_account_wide_daily_cap_is_refused() -> None:
    data = tenant_data("no_cap", meta=META)
    data["ads"].pop("account_daily_cap")
    [(field, reason)] = problems(data).items()
    assert reason.startswith("ads.account_daily_cap: required because meta.ad_account_id (act_1)"), (field, reason)
    assert parse_tenant(tenant_data("no_cap", meta=META, ads={"account_daily_cap": 5000})).ads.account_daily_cap == 5000
    assert parse_tenant(tenant_data("no_meta")).ads.account_daily_cap is None  # no ad account: nothing to cap
    stored = TenantFile.model_validate(data)  # one applied before the rule still loads; spend is refused until set
    assert stored.meta is not None and stored.ads.account_daily_cap is None
