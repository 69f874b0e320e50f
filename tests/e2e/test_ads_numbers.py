"""Numbers an agency trusts, through the jobs workflow and the fake Graph: each ad set's result is the action its
goal buys (a conversation is not a lead), insights ask for the unified attribution setting, ad sets and ads are
saved with names, learning phase and Meta's issues, exchange rates come from the rate job, and the report shows
cost per lead and per qualified lead (from our own leads and dialogs) by direction and creative, in the display
currency as well as the ad account's."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from clawgate.db import tenant_tx
from clawgate.local.fakes import FakeRates

from tests.ads_fixtures import ADSET, CONVERSATIONS, OPERATOR_CHAT, Ads, ads_tenant, graph, telegram  # noqa: F401
from tests.channel_fixtures import environment

WEBSITE_SET, WHITENING_SET = "23850000000000002", "23850000000000003"
DAY = date(2026, 5, 14)


def row(adset_id: str, goal: str, day: date, spend: str, **actions: int) -> dict[str, Any]:
    return {"date_start": day.isoformat(), "date_stop": day.isoformat(), "campaign_id": "c1", "adset_id": adset_id,
            "adset_name": f"set {adset_id[-1]}", "impressions": "10000", "clicks": "150", "spend": spend,
            "frequency": "2.4", "optimization_goal": goal,
            "actions": [{"action_type": kind, "value": str(value)} for kind, value in actions.items()]}  # fmt: skip


def test_metrics_sync_counts_each_ad_sets_result_and_saves_names_learning_and_issues(ads: Ads) -> None:
    acct = ads.account[4:]
    ads.graph.add_object(ADSET, "adset", account_id=acct, name="Almaty CTWA", campaign_id="c1", status="ACTIVE",
                         effective_status="ACTIVE", optimization_goal="CONVERSATIONS", destination_type="WHATSAPP",
                         daily_budget="1000000", learning_stage_info={"status": "LEARNING"})  # fmt: skip
    ads.graph.add_object(WEBSITE_SET, "adset", account_id=acct, name="Site leads", campaign_id="c1",
                         status="PAUSED", effective_status="PAUSED", optimization_goal="OFFSITE_CONVERSIONS",
                         destination_type="WEBSITE", daily_budget="500000")  # fmt: skip
    issue = {"error_code": 1815869, "error_summary": "Ad rejected", "level": "AD"}
    ads.graph.add_object("ad-1", "ad", account_id=acct, name="Smile", adset_id=ADSET, campaign_id="c1",
                         status="ACTIVE", effective_status="DISAPPROVED", issues_info=[issue])  # fmt: skip
    pixel = "offsite_conversion.fb_pixel_lead"
    ads.graph.add_insights(ads.account, [
        row(ADSET, "CONVERSATIONS", DAY, "15000", **{CONVERSATIONS: 9, "link_click": 150}),
        row(WEBSITE_SET, "OFFSITE_CONVERSIONS", DAY, "5000", **{"lead": 3, pixel: 3, "link_click": 90}),
    ], level="adset")  # fmt: skip

    assert ads.job("metrics_sync", until=DAY.isoformat(), days="1")["status"] == "succeeded"
    assert ads.rows("SELECT object_id, name, leads, conversations, results, result_action, frequency"
                    " FROM metrics_history WHERE level = 'adset' ORDER BY object_id") == [
        (ADSET, "set 1", 0, 9, 9, CONVERSATIONS, Decimal("2.4")),
        (WEBSITE_SET, "set 2", 3, 0, 3, pixel, Decimal("2.4")),
    ]  # fmt: skip
    assert ads.rows("SELECT object_id, level, name, status, effective_status, learning_stage, issues"
                    " FROM ads_objects ORDER BY level, object_id") == [
        ("ad-1", "ad", "Smile", "ACTIVE", "DISAPPROVED", None, [issue]),
        (ADSET, "adset", "Almaty CTWA", "ACTIVE", "ACTIVE", "LEARNING", []),
        (WEBSITE_SET, "adset", "Site leads", "PAUSED", "PAUSED", None, []),
    ]  # fmt: skip
    query = ads.graph.requests_to(f"/{ads.account}/insights")[0].query
    assert query["use_unified_attribution_setting"] == "true"
    assert {"frequency", "optimization_goal", "actions"} <= set(query["fields"].split(","))


@pytest.fixture
def rates() -> Iterator[FakeRates]:
    with FakeRates() as fake, environment(CLAWGATE_FX_RATES_URL=f"{fake.url}/v6/latest/USD"):
        yield fake


def lead(conn: Any, ad_id: str, qualification: str, n: int) -> None:
    dialog = conn.execute(
        "INSERT INTO wa_dialogs (phone_number_id, user_id, qualification, ad_id) VALUES ('pn', %s, %s, %s)"
        " RETURNING id",
        (f"u{ad_id}{qualification}{n}", qualification, ad_id),
    ).fetchone()[0]
    conn.execute(
        "INSERT INTO leads (source, dialog_id, ad_id, created_at) VALUES ('ctwa', %s, %s,"
        " (%s::date + time '12:00') AT TIME ZONE 'Asia/Almaty')",
        (dialog, ad_id, DAY),
    )


def test_the_report_shows_cost_per_qualified_lead_by_direction_and_creative_in_both_currencies(
    ads: Ads, rates: FakeRates
) -> None:
    ads.graph.objects[ads.account]["currency"] = "USD"  # billed in dollars; the tenant reads KZT
    rates.rates = {"USD": 1, "KZT": 500, "EUR": 0.9}
    result = ads.job("currency_rates")
    assert result["status"] == "succeeded", result
    assert ads.rows("SELECT currency, rate_to_usd, source FROM currency_rates") == [
        ("KZT", Decimal("0.002000000"), "open.er-api.com")]  # fmt: skip

    with tenant_tx(ads.slug) as conn:
        implants, whitening = (conn.execute("INSERT INTO directions (name) VALUES (%s) RETURNING id", (name,))
                               .fetchone()[0] for name in ("Implants", "Whitening"))  # fmt: skip
        for title in ("Smile", "Doctor", "Before/after"):
            conn.execute("INSERT INTO creatives (kind, title) VALUES ('image', %s)", (title,))
        ads_rows = (("ad-1", 1, implants, ADSET, 40), ("ad-2", 2, implants, ADSET, 30),
                    ("ad-3", 3, whitening, WHITENING_SET, 30))  # fmt: skip
        for ad_id, creative, direction, adset, spend in ads_rows:
            conn.execute("INSERT INTO ad_creative_mapping (ad_id, creative_id, direction_id, adset_id) VALUES"
                         " (%s, %s, %s, %s)", (ad_id, creative, direction, adset))  # fmt: skip
            conn.execute("INSERT INTO metrics_history (date, level, object_id, adset_id, spend, impressions, clicks)"
                         " VALUES (%s, 'ad', %s, %s, %s, 5000, 50)", (DAY, ad_id, adset, spend))  # fmt: skip
        for adset, spend in ((ADSET, 70), (WHITENING_SET, 30)):
            conn.execute("INSERT INTO metrics_history (date, level, object_id, adset_id, spend, impressions, clicks)"
                         " VALUES (%s, 'adset', %s, %s, %s, 10000, 100)", (DAY, adset, adset, spend))  # fmt: skip
        for ad_id, qualifications in (("ad-1", ["interested", "scheduled", "new", "not_interested"]),
                                      ("ad-2", ["new", "not_interested"]), ("ad-3", ["interested"])):  # fmt: skip
            for n, qualification in enumerate(qualifications):
                lead(conn, ad_id, qualification, n)
        conn.execute("INSERT INTO ads_objects (object_id, level, name) VALUES (%s, 'adset', 'Almaty 25-45')", (ADSET,))
        execution = conn.execute("INSERT INTO scoring_executions (status) VALUES ('succeeded') RETURNING id").fetchone()
        conn.execute("INSERT INTO scoring_history (execution_id, adset_id, date, score, recommendation)"
                     " VALUES (%s, %s, %s, 72, 'scale')", (execution[0], ADSET, DAY))  # fmt: skip

    assert ads.job("morning_report", until=DAY.isoformat())["status"] == "succeeded"
    [message] = ads.telegram.sent_messages(OPERATOR_CHAT)
    text = message["text"]
    assert "Spend: 100.00 USD (≈ 50,000 KZT)" in text
    assert "Leads: 7, qualified 3" in text
    assert "Cost per lead: 14.29 USD (≈ 7,145.00 KZT)" in text
    assert "Cost per qualified lead: 33.33 USD (≈ 16,665 KZT)" in text
    directions = text.split("By direction:\n")[1].split("\n\n")[0].splitlines()
    assert directions == [
        "• Whitening: 30.00 USD, 1 leads (30.00 USD each), 1 qualified (30.00 USD each)",
        "• Implants: 70.00 USD, 6 leads (11.67 USD each), 2 qualified (35.00 USD each)",
    ]
    creatives = text.split("Best creatives:\n")[1].split("\n\n")[0].splitlines()
    assert [line.split(":")[0] for line in creatives] == ["• Smile", "• Before/after", "• Doctor"]
    assert "best Almaty 25-45 72 (scale)" in text and ADSET not in text  # names, not ids
