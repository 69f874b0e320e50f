"""Ads jobs through the `jobs` workflow of the local runtime (the ASL CDK deploys): metrics sync from the fake Graph,
creative-test verdicts, the morning report at the fake Telegram, and the heartbeat."""

from __future__ import annotations

import struct
import uuid
import zlib
from datetime import date, timedelta
from decimal import Decimal

from clawgate.db import tenant_tx
from clawgate.jobs.charts import HEIGHT, WIDTH
from clawgate.local.fakes import FakeAnthropic
from clawgate.meta.marketing.context import load_context
from clawgate.tenancy.apply import apply_tenant
from clawgate.tenancy.tenants import forget_cached_tenants

from tests.ads_fixtures import ADSET, OPERATOR_CHAT, Ads, ads_tenant, graph, insight, operator_turn, telegram  # noqa: F401


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
S1, S2, S3, S4, S5, S6 = (f"2385000000000020{n}" for n in range(1, 7))


def qualified_leads(ads: Ads, adset: str, qualifications: list[str]) -> None:
    with tenant_tx(ads.slug) as conn:
        for qualification in qualifications:
            dialog = conn.execute(
                "INSERT INTO wa_dialogs (phone_number_id, user_id, qualification) VALUES ('pn', %s, %s) RETURNING id",
                (f"{adset}-{uuid.uuid4().hex}", qualification),
            )
            conn.execute("INSERT INTO leads (source, dialog_id, adset_id) VALUES ('ctwa', %s, %s)",
                         (dialog.fetchone()[0], adset))  # fmt: skip


def test_creative_tests_compare_equal_budget_ad_sets_and_end_with_a_winner_or_inconclusive(
    ads: Ads, model: FakeAnthropic
) -> None:
    today = load_context(ads.slug).today()
    with tenant_tx(ads.slug) as conn:  # 1 KZT = $0.002: $20 = 10,000 KZT
        conn.execute("INSERT INTO currency_rates (currency, date, rate_to_usd) VALUES ('KZT', %s, 0.002)", (today,))
    for adset, budget in ((S1, "1000000"), (S2, "1000000"), (S3, "1200000"), (S4, None), (S5, "800000"),
                          (S6, "800000")):  # fmt: skip
        ads.graph.add_object(
            adset, "adset", name=f"Variant {adset[-1]}", **({"daily_budget": budget} if budget else {})
        )
    why = {"reason": "which creative brings cheaper qualified leads"}
    results = operator_turn(
        ads, model,
        ("ads_start_creative_test", {"name": "Unequal", "adset_ids": [S1, S3], **why}),
        ("ads_start_creative_test", {"name": "Campaign budget", "adset_ids": [S1, S4], **why}),
        ("ads_start_creative_test", {"name": "Smile vs Doctor", "adset_ids": [S1, S2], "max_days": 7, **why}),
        ("ads_start_creative_test", {"name": "Blue vs green", "adset_ids": [S5, S6], "max_days": 5, **why}),
    )  # fmt: skip
    assert [status for _, status, _ in results] == ["error", "error", "ok", "ok"], results
    assert "budgets differ" in results[0][2] and "own daily budget" in results[1][2]
    qualified_leads(ads, S1, ["interested", "scheduled", "interested", "scheduled", "new", "new"])
    qualified_leads(ads, S2, ["interested", "new", "new", "not_interested", "new"])
    qualified_leads(ads, S5, ["interested", "new", "new"])
    qualified_leads(ads, S6, ["scheduled", "new", "new"])
    ads.graph.add_insights(S1, [insight("adset", S1, today, impressions=1500, clicks=30, spend="9000")], "adset")
    ads.graph.add_insights(S2, [insight("adset", S2, today, impressions=900, clicks=9, spend="15000")], "adset")
    for adset in (S5, S6):
        ads.graph.add_insights(adset, [insight("adset", adset, today, impressions=2000, clicks=20, spend="12000")],
                               "adset")  # fmt: skip

    assert ads.job("creative_tests")["status"] == "succeeded"  # A: $18 < $20, B: 900 < 1,000; blue and green alike
    [(result,)] = ads.rows("SELECT result FROM jobs WHERE name = 'creative_tests'")
    assert [t["status"] for t in result["tests"]] == ["running", "running"], result
    assert result["tests"][0]["waiting_for"] == ["A", "B"]
    assert "no variant is 20% better" in result["tests"][1]["why"]

    ads.graph.add_insights(S1, [insight("adset", S1, today, impressions=0, clicks=0, spend="2000")], "adset")
    ads.graph.add_insights(S2, [insight("adset", S2, today, impressions=300, clicks=3, spend="0")], "adset")
    model.script_text("Variant A wins: a qualified lead costs 2,750 KZT against 15,000 KZT for B.")
    model.script_text("Blue and green perform alike; test a new angle instead.")
    [(_, ends_at)] = ads.rows("SELECT id, ends_at FROM creative_tests WHERE name = 'Blue vs green'")
    ads.job("creative_tests", now=(ends_at + timedelta(hours=1)).isoformat())

    tests = ads.rows("SELECT name, status, verdict, winner_ad_id, analysis FROM creative_tests ORDER BY id")
    (_, status, verdict, winner, analysis), (_, late_status, late, _, late_analysis) = tests
    assert (status, winner, verdict["outcome"], verdict["winner"]) == ("concluded", S1, "winner", "A")
    assert verdict["rule"] == "lowest cost per qualified lead"
    assert [(v["label"], v["spend_usd"], v["leads"], v["qualified"], v["cpql"]) for v in verdict["variants"]] == [
        ("A", 22.0, 6, 4, 2750.0), ("B", 30.0, 5, 1, 15000.0)]  # fmt: skip
    assert analysis.startswith("Variant A wins")
    assert (late_status, late["outcome"], late["winner"]) == ("concluded", "inconclusive", None)
    assert "no variant is 20% better" in late["rule"] and late_analysis.startswith("Blue and green")


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


# the weekly report's conversation numbers -----------------------------------------------------------------------------
SCRIPTED_DAY = """
INSERT INTO directions (id, name) VALUES (901, 'Implants'), (902, 'Whitening');
INSERT INTO ad_creative_mapping (ad_id, direction_id) VALUES ('ad-imp', 901), ('ad-white', 902);
INSERT INTO metrics_history (date, level, object_id, ad_id, spend, leads) VALUES
  ('2026-05-12', 'ad', 'ad-imp', 'ad-imp', 3000, 2), ('2026-05-12', 'ad', 'ad-white', 'ad-white', 500, 1);
INSERT INTO leads (source, leadgen_id, ad_id, created_at) VALUES ('lead_form', 'lg1', 'ad-imp', '2026-05-12 10:00+05'),
  ('lead_form', 'lg2', 'ad-imp', '2026-05-12 11:00+05'), ('lead_form', 'lg3', 'ad-white', '2026-05-13 09:00+05');
INSERT INTO conversations (id, channel, account_id, peer_id) VALUES (801, 'whatsapp', 'pn', 'US.a'),
  (802, 'whatsapp', 'pn', 'US.b');
INSERT INTO inbound_events (channel, account_id, provider_id, peer_id, payload, received_at, conversation_id) VALUES
  ('whatsapp', 'pn', 'w-a', 'US.a', '{}', '2026-05-12 10:00:00+05', 801),
  ('whatsapp', 'pn', 'w-b', 'US.b', '{}', '2026-05-12 11:00:00+05', 802);
INSERT INTO outbound_messages (channel, account_id, peer_id, idempotency_key, status, sent_at, author, conversation_id)
  VALUES ('whatsapp', 'pn', 'US.a', 'k-a', 'sent', '2026-05-12 10:00:30+05', 'agent', 801),
  ('whatsapp', 'pn', 'US.b', 'k-b', 'sent', '2026-05-12 11:01:00+05', 'agent', 802),
  ('whatsapp', 'pn', 'US.b', 'k-b2', 'sent', '2026-05-12 11:15:00+05', 'operator', 802);
INSERT INTO conversation_mode_changes (conversation_id, mode, changed_by, at)
  VALUES (802, 'human', 'agent', '2026-05-12 11:05:00+05');
"""


def test_the_weekly_report_counts_conversations_and_charts_cost_per_lead_by_direction(ads: Ads) -> None:
    with tenant_tx(ads.slug) as conn:
        conn.execute(SCRIPTED_DAY)
    assert ads.job("weekly_report", until="2026-05-14")["status"] == "succeeded"
    [message] = ads.telegram.sent_messages(OPERATOR_CHAT)
    text = message["text"]
    assert "• 2 conversations, 50% resolved without a person" in text
    assert "First response: agent 45 s (median), person 10 min after a hand-off" in text
    assert "• Hand-offs: 1" in text
    _, conversations = ads.telegram.sent_photos(OPERATOR_CHAT)  # the spend chart, then this one
    assert png_size(conversations["upload"].data)[0] == WIDTH
    assert conversations["params"]["caption"] == "Hand-offs per day, cost per lead by direction"
