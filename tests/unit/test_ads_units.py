"""The pure parts of ads management: Graph insights parsing, money in minor units, the budget guardrail decision,
Graph's rate-limit headers, cron schedules in the tenant's timezone, and the report chart's Cyrillic text."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from clawgate.jobs.charts import HEIGHT, WIDTH, Day, font, report_chart
from clawgate.jobs.schedules import due_jobs, schedules_for
from clawgate.meta.marketing.budgets import confirmation_needs
from clawgate.meta.marketing.calls import GraphRateLimited, UsageGate, parse_usage
from clawgate.meta.marketing.insights import parse_row
from clawgate.meta.marketing.money import display, to_major, to_minor
from clawgate.tenancy.cron import CronError, parse_cron
from clawgate.tenancy.model import TenantFileError, parse_tenant
from PIL import Image, ImageDraw

from tests.conftest import tenant_data


def test_an_insights_row_of_strings_becomes_numbers_and_leads_come_from_actions() -> None:
    row = parse_row(
        {"date_start": "2026-05-01", "date_stop": "2026-05-01", "adset_id": "23850", "adset_name": "Implants",
         "campaign_id": "c1", "impressions": "12000", "clicks": "180", "spend": "15000.50", "ctr": "1.5",
         "cpm": "1250.04", "reach": "9000", "optimization_goal": "CONVERSATIONS",
         "actions": [{"action_type": "lead", "value": "2"}, {"action_type": "link_click", "value": "180"},
                     {"action_type": "onsite_conversion.messaging_conversation_started_7d", "value": "5"}]},
        "adset",
    )  # fmt: skip
    assert (row.object_id, row.name, row.impressions, row.clicks, row.reach) == ("23850", "Implants", 12000, 180, 9000)
    assert (row.spend, row.ctr, row.cpm, row.leads) == (Decimal("15000.50"), Decimal("1.5"), Decimal("1250.04"), 2)
    assert row.cost_per_lead == Decimal("7500.2500")  # a conversation is not a lead
    assert (row.conversations, row.result_action, row.results) == (
        5,
        "onsite_conversion.messaging_conversation_started_7d",
        5,
    )
    empty = parse_row({"date_start": "2026-05-01", "account_id": "42", "spend": "0"}, "account")
    assert (empty.object_id, empty.leads, empty.cost_per_lead, empty.ctr) == ("act_42", 0, None, None)


def test_money_uses_the_currency_offset_of_the_marketing_api() -> None:
    assert to_minor(Decimal("12000.50"), "KZT") == 1200050 and to_minor(5000, "JPY") == 5000
    assert to_major("1200050", "KZT") == Decimal("12000.5") and to_major(5000, "jpy") == Decimal(5000)
    assert display(Decimal("12.5"), "usd") == "12.50 USD" and display(Decimal(5000), "JPY") == "5,000 JPY"


@pytest.mark.parametrize(
    ("old", "new", "cap", "scheduled", "needs"),
    [
        (10_000, 13_000, None, False, []),  # +30%: on the limit
        (10_000, 7_000, None, False, []),  # -30%
        (10_000, 13_001, None, False, ["beyond"]),
        (10_000, 6_999, None, False, ["beyond"]),
        (10_000, 12_000, 11_000, False, ["cap"]),
        (10_000, 10_500, None, True, ["scheduled"]),
        (0, 5_000, None, False, ["no daily budget"]),
    ],
)
def test_the_budget_guardrail_decision(old: int, new: int, cap: int | None, scheduled: bool, needs: list[str]) -> None:
    found = confirmation_needs(old, new, Decimal("0.30"), cap, scheduled)
    assert len(found) == len(needs) and all(word in text for word, text in zip(needs, found, strict=True))


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


class Answer:
    def __init__(self, **headers: str) -> None:
        self.headers = headers


def test_rate_limit_headers_throttle_then_block_until_access_returns() -> None:
    usage = parse_usage({"x-business-use-case-usage": '{"123": [{"type": "ads_management", "call_count": 85,'
                                                      ' "total_cputime": 20, "total_time": 30,'
                                                      ' "estimated_time_to_regain_access": 0}]}'})  # fmt: skip
    assert usage.percent == 85 and usage.delay_s() == pytest.approx(2.5) and not usage.blocked
    clock = Clock()
    gate = UsageGate(sleep=clock.sleep, clock=clock)
    gate.before_call()
    gate.observe(Answer(**{"X-Ad-Account-Usage": '{"acc_id_util_pct": 85}'}))
    gate.before_call()
    assert clock.slept == [pytest.approx(2.5)]
    gate.observe(Answer(**{"x-business-use-case-usage": '{"1": [{"call_count": 100,'
                                                           ' "estimated_time_to_regain_access": 5}]}'}))  # fmt: skip
    with pytest.raises(GraphRateLimited) as blocked:
        gate.before_call()
    assert blocked.value.retry_after_s == 300
    clock.now += 301
    gate.before_call()  # the window passed: one call may go and refresh the figures
    assert parse_usage({"x-app-usage": "not json"}).percent == 0
    insights = parse_usage({"x-fb-ads-insights-throttle": '{"app_id_util_pct": 96.5, "acc_id_util_pct": 40,'
                                                         ' "ads_api_access_tier": "standard_access"}'})  # fmt: skip
    assert insights.percent == 96.5 and insights.blocked


def test_cron_expressions_of_eventbridge_match_in_the_tenants_timezone() -> None:
    weekly = parse_cron("cron(0 9 ? * MON *)")
    assert weekly.matches(datetime(2026, 5, 4, 9, 0)) and not weekly.matches(datetime(2026, 5, 5, 9, 0))
    assert sorted(parse_cron("cron(*/20 8-10 1,15 * ? *)").minutes) == [0, 20, 40]
    for bad in ("cron(0 9 * * * *)", "cron(0 9 L * ? *)", "cron(0 25 * * ? *)", "rate(5 minutes)"):
        with pytest.raises(CronError):
            parse_cron(bad)
    tenant = parse_tenant(tenant_data("crons", meta={"ad_account_id": "act_1", "access_token": "secret:x/meta"},
                                      ads={"schedules": {"mapping_sync": "off"}, "heartbeat": True}))  # fmt: skip
    assert "mapping_sync" not in schedules_for(tenant) and schedules_for(tenant)["heartbeat"]
    almaty_nine = datetime(2026, 5, 4, 4, 0, tzinfo=UTC)  # 09:00 in Asia/Almaty (UTC+5), a Monday
    assert due_jobs(tenant, almaty_nine) == ["morning_report", "weekly_report", "heartbeat", "inbox"]
    assert due_jobs(parse_tenant(tenant_data("noads")), almaty_nine) == ["inbox"]  # WhatsApp: follow-ups, resume
    assert due_jobs(parse_tenant(tenant_data("nowa", channels={})), almaty_nine) == []


def test_a_wrong_schedule_in_the_tenant_file_is_refused_with_the_field() -> None:
    with pytest.raises(TenantFileError) as refused:
        parse_tenant(tenant_data("bad", ads={"schedules": {"scoring": "cron(0 6 * * * *)"}}))
    assert refused.value.problems[0][0] == "ads.schedules.scoring"


KAZAKH = "АӘБВГҒДЕЁЖЗИЙКҚЛМНҢОӨПРСТУҰҮФХҺЦЧШЩЪЫІЬЭЮЯаәбвгғдеёжзийкқлмнңоөпрстуұүфхһцчшщъыіьэюя"


def test_the_chart_font_draws_every_kazakh_and_russian_letter() -> None:
    def pixels(text: str) -> bytes:
        image = Image.new("L", (40, 40))
        ImageDraw.Draw(image).text((5, 5), text, fill=255, font=font(20))
        return image.tobytes()

    missing = pixels("\ue000")  # a private-use code point: the font's "no glyph" box
    drawn = {letter: pixels(letter) for letter in KAZAKH}
    assert [letter for letter, mask in drawn.items() if mask == missing or not any(mask)] == []


def test_a_cyrillic_title_is_drawn_as_itself() -> None:
    days = [Day(date(2026, 5, d), 1000.0 * d, d) for d in range(1, 8)]
    first, second = (report_chart(f"{name}: Апта есебі", days, "KZT") for name in ("Қарлығаш", "Жарлығаш"))
    assert first[:8] == b"\x89PNG\r\n\x1a\n" and first != second  # "????" would draw both alike
    assert Image.open(io.BytesIO(first)).size == (WIDTH, HEIGHT)
