"""Ads jobs through the `jobs` workflow of the local runtime (the ASL CDK deploys): metrics sync from the fake Graph,
creative-test verdicts, the morning report at the fake Telegram, and the heartbeat."""

from __future__ import annotations

import struct
import zlib
from datetime import date, timedelta
from decimal import Decimal

from clawgate.db import tenant_tx
from clawgate.jobs.charts import HEIGHT, WIDTH
from clawgate.local.fakes import FakeAnthropic
from clawgate.meta.marketing.context import load_context
from clawgate.tenancy.apply import apply_tenant
from clawgate.tenancy.registry import forget_cached_tenants

from tests.ads_fixtures import ADSET, OPERATOR_CHAT, Ads, ads_tenant, graph, insight, telegram  # noqa: F401


# metrics sync --------------------------------------------------------------------------------------------------------
def test_metrics_sync_writes_daily_rows_from_insights_strings_and_actions(ads: Ads) -> None:
    day = date(2026, 5, 1)
    ads.graph.add_insights(ads.account, [
        insight("adset", ADSET, day, impressions=12000, clicks=180, spend="15000.50", ctr="1.5", cpm="1250.04",
                leads=2, conversations=5),
        insight("adset", ADSET, day - timedelta(days=1), impressions=9000, clicks=90, spend="9000", ctr="1.0",
                cpm="1000"),
    ], level="adset")  # fmt: skip
    ads.graph.add_insights(ads.account, [insight("ad", "ad-1", day, impressions=7000, clicks=100, spend="8000.25",
                                                 ctr="1.43", cpm="1142.9", conversations=4)], level="ad")  # fmt: skip

    assert ads.job("metrics_sync", until="2026-05-01", days="2")["status"] == "succeeded"
    rows = ads.rows(
        "SELECT date, level, object_id, adset_id, impressions, clicks, spend, ctr, cpm, leads, cost_per_lead, currency"
        " FROM metrics_history ORDER BY level, date"
    )
    assert rows == [  # `leads` are Meta's lead actions only: conversations are not leads
        (day, "ad", "ad-1", ADSET, 7000, 100, Decimal("8000.2500"), Decimal("1.43"), Decimal("1142.9"), 0,
         None, "KZT"),
        (day - timedelta(days=1), "adset", ADSET, ADSET, 9000, 90, Decimal("9000.0000"), Decimal("1.0"),
         Decimal("1000"), 0, None, "KZT"),
        (day, "adset", ADSET, ADSET, 12000, 180, Decimal("15000.5000"), Decimal("1.5"), Decimal("1250.04"), 2,
         Decimal("7500.2500"), "KZT"),
    ]  # fmt: skip
    request = ads.graph.requests_to(f"/{ads.account}/insights")[0]
    assert request.query["level"] == "adset" and request.query["time_increment"] == "1"

    # A longer range runs as an async report job; the unique (date, level, object_id) keeps the rows single.
    assert ads.job("metrics_sync", until="2026-05-01", days="10")["status"] == "succeeded"
    assert ads.graph.requests_to(f"/{ads.account}/insights", method="POST")
    assert ads.rows("SELECT count(*) FROM metrics_history") == [(3,)]


# creative tests ------------------------------------------------------------------------------------------------------
def test_a_creative_test_gets_its_verdict_only_after_both_thresholds(ads: Ads, model: FakeAnthropic) -> None:
    today = load_context(ads.slug).today()
    with tenant_tx(ads.slug) as conn:  # 1 KZT = $0.002: $20 = 10,000 KZT
        conn.execute("INSERT INTO currency_rates (currency, date, rate_to_usd) VALUES ('KZT', %s, 0.002)", (today,))
    model.script_tool_use([("ads_start_creative_test", {"name": "Smile vs Doctor", "ad_ids": ["ad-a", "ad-b"],
                                                        "reason": "which creative brings cheaper leads"})])  # fmt: skip
    model.script_text("Test started.")
    ads.run("start a creative test")
    ads.graph.add_insights("ad-a", [insight("ad", "ad-a", today, impressions=1500, clicks=30, spend="9000", leads=4)])
    ads.graph.add_insights("ad-b", [insight("ad", "ad-b", today, impressions=900, clicks=9, spend="15000", leads=3)])

    ads.job("creative_tests")  # A: $18 < $20; B: 900 < 1,000 impressions
    assert ads.rows("SELECT status, verdict, analysis FROM creative_tests") == [("running", None, None)]
    assert model.message_requests()[-1]["messages"][0]["content"][0]["text"] == "start a creative test"

    ads.graph.add_insights("ad-a", [insight("ad", "ad-a", today, impressions=0, clicks=0, spend="2000")])
    ads.graph.add_insights("ad-b", [insight("ad", "ad-b", today, impressions=300, clicks=3, spend="0")])
    model.script_text("Variant A wins: leads cost 2,750 KZT against 5,000 KZT for B.")
    ads.job("creative_tests")

    [(status, verdict, winner, analysis)] = ads.rows(
        "SELECT status, verdict, winner_ad_id, analysis FROM creative_tests"
    )
    assert (status, winner, verdict["winner"]) == ("concluded", "ad-a", "A")
    assert verdict["rule"] == "lowest cost per lead"
    assert [(v["label"], v["impressions"], v["spend_usd"], v["cpl"]) for v in verdict["variants"]] == [
        ("A", 1500, 22.0, 2750.0), ("B", 1200, 30.0, 5000.0)]  # fmt: skip
    assert analysis == "Variant A wins: leads cost 2,750 KZT against 5,000 KZT for B."
    assert "Smile vs Doctor" in model.message_requests()[-1]["messages"][-1]["content"][0]["text"]


# reports -------------------------------------------------------------------------------------------------------------
def png_size(data: bytes) -> tuple[int, int]:
    """Decode a PNG far enough to prove it is one: signature, chunk CRCs, IHDR, and the inflated image size."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, chunks = 8, {}
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind, body = data[position + 4 : position + 8], data[position + 8 : position + 8 + length]
        (crc,) = struct.unpack(">I", data[position + 8 + length : position + 12 + length])
        assert zlib.crc32(kind + body) == crc, kind
        chunks[kind] = chunks.get(kind, b"") + body
        position += 12 + length
    width, height, depth, color_type = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (depth, color_type) == (8, 2)
    assert len(zlib.decompress(chunks[b"IDAT"])) == height * (1 + 3 * width)
    return width, height


def test_the_morning_report_sends_text_and_a_png_chart_to_the_operator_chat(ads: Ads) -> None:
    until = date(2026, 5, 14)
    with tenant_tx(ads.slug) as conn:
        conn.execute("INSERT INTO config (key, value) VALUES ('target_cpl', '\"1500\"')")
        for offset in range(14):
            day = until - timedelta(days=offset)
            conn.execute(
                "INSERT INTO metrics_history (date, level, object_id, adset_id, impressions, clicks, spend)"
                " VALUES (%s, 'adset', %s, %s, 10000, 120, %s)",
                (day, ADSET, ADSET, 10000 + 500 * offset),
            )
            conn.execute(  # our own leads of that day (noon in Almaty)
                "INSERT INTO leads (source, ad_id, leadgen_id, created_at) SELECT 'lead_form', 'ad-1',"
                " md5(random()::text), (%s::date + time '12:00') AT TIME ZONE 'Asia/Almaty'"
                " FROM generate_series(1, %s)",
                (day, 8 if offset else 10),
            )

    assert ads.job("morning_report", until=until.isoformat())["status"] == "succeeded"
    [message] = ads.telegram.sent_messages(OPERATOR_CHAT)
    assert "Spend: 10,000 KZT (-5%)" in message["text"] and "Leads: 10 (+25%), qualified 0" in message["text"]
    assert "Cost per lead: 1,000.00 KZT (-24%) (target 1,500.00 KZT)" in message["text"]
    [photo] = ads.telegram.sent_photos(OPERATOR_CHAT)
    assert png_size(photo["upload"].data) == (WIDTH, HEIGHT) == (900, 660)
    assert photo["message"]["photo"][0]["width"] == WIDTH
    [(status, result)] = ads.rows("SELECT status, result FROM jobs WHERE name = 'morning_report'")
    assert status == "succeeded" and result["sent_to"] == [OPERATOR_CHAT]


# heartbeat -----------------------------------------------------------------------------------------------------------
def test_the_heartbeat_runs_only_when_something_changed_and_never_past_the_budget(
    ads: Ads, model: FakeAnthropic
) -> None:
    assert ads.job("heartbeat")["status"] == "skipped"  # opt-in
    apply_tenant(ads.tenant.model_copy(update={"ads": ads.tenant.ads.model_copy(update={"heartbeat": True})}))
    forget_cached_tenants()
    model.script_text("Two new leads since this morning; ad set Implants is above target CPL.")
    assert ads.job("heartbeat")["status"] == "succeeded"
    [message] = ads.telegram.sent_messages(OPERATOR_CHAT)
    assert message["text"].startswith("Two new leads")

    calls = len(model.message_requests())
    assert ads.job("heartbeat")["reason"] == "nothing changed since the last heartbeat"
    with tenant_tx(ads.slug) as conn:
        conn.execute("INSERT INTO metrics_history (date, level, object_id) VALUES ('2026-05-01', 'adset', 'x')")
        conn.execute("INSERT INTO usage (model, cost_usd) VALUES ('claude-opus-4-1', 25)")  # over the $20 budget
    assert ads.job("heartbeat")["reason"] == "the daily model budget is spent"
    assert len(model.message_requests()) == calls
