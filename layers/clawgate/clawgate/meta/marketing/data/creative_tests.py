"""The creative tests aggregate (`creative_tests`): variants (one ad set each) compared until a verdict or the time
limit, with the thresholds every variant must reach first (spend in US dollars, impressions). The ads tools start
them; the daily creative-test job reads the running ones, counts what a verdict needs from our own rows — the leads
and qualified leads (dialog or lead status `interested`/`scheduled`) that came from an ad set's ads since the test
started — and records the verdict."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from clawgate.db import Conn

RUNNING = (
    "SELECT id, name, variants, budget_per_variant, min_impressions, started_at, ends_at FROM creative_tests"
    " WHERE status = 'running' ORDER BY id"
)
LEADS_SINCE = (
    "SELECT count(*) AS leads, count(*) FILTER (WHERE d.qualification IN ('interested', 'scheduled')"
    " OR l.status IN ('interested', 'scheduled')) AS qualified"
    " FROM leads l LEFT JOIN wa_dialogs d ON d.id = l.dialog_id LEFT JOIN ad_creative_mapping m ON m.ad_id = l.ad_id"
    " WHERE coalesce(l.adset_id, m.adset_id) = %s AND l.created_at >= %s"
)


@dataclass(frozen=True)
class CreativeTest:
    id: int
    name: str
    variants: list[dict[str, Any]]  # {label, adset_id, name?}, one ad set each
    budget_per_variant: Decimal  # US dollars each variant must spend before a verdict
    min_impressions: int
    started_at: datetime
    ends_at: datetime | None  # the time limit


@dataclass(frozen=True)
class StartedTest:
    id: int
    budget_per_variant: Decimal
    min_impressions: int
    ends_at: datetime


@dataclass(frozen=True)
class LeadCount:
    leads: int
    qualified: int


def start(
    conn: Conn, name: str, direction_id: int | None, variants: list[dict[str, Any]], max_days: int
) -> StartedTest:
    started = (
        conn.cursor(row_factory=class_row(StartedTest))
        .execute(
            "INSERT INTO creative_tests (direction_id, name, variants, ends_at) VALUES (%s, %s, %s,"
            " now() + make_interval(days => %s)) RETURNING id, budget_per_variant, min_impressions, ends_at",
            (direction_id, name, Jsonb(variants), max_days),
        )
        .fetchone()
    )
    assert started is not None
    return started


def running(conn: Conn) -> list[CreativeTest]:
    return conn.cursor(row_factory=class_row(CreativeTest)).execute(RUNNING).fetchall()


def leads_since(conn: Conn, adset_id: str, since: datetime) -> LeadCount:
    """Our leads from the ad set's ads since `since`, and how many of them are qualified."""
    count = conn.cursor(row_factory=class_row(LeadCount)).execute(LEADS_SINCE, (adset_id, since)).fetchone()
    return count or LeadCount(0, 0)


def conclude(
    conn: Conn, test_id: int, verdict: dict[str, Any], winner_adset_id: str | None, analysis: str | None
) -> None:
    """Record the verdict of a test still running (a concluded test is left as it is)."""
    conn.execute(
        "UPDATE creative_tests SET status = 'concluded', verdict = %s, winner_ad_id = %s, analysis = %s,"
        " concluded_at = now() WHERE id = %s AND status = 'running'",
        (Jsonb(verdict), winner_adset_id, analysis, test_id),
    )
