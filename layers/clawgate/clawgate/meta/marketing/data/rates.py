"""Exchange rates (`currency_rates`): what one unit of a currency was worth in US dollars, one row per currency and
day. The `currency_rates` job stores them; `meta/marketing/money.py` converts with them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from psycopg.rows import scalar_row

from clawgate.db import Conn

UPSERT = (
    "INSERT INTO currency_rates (currency, date, rate_to_usd, source) VALUES (%s, %s, %s, %s)"
    " ON CONFLICT (currency, date) DO UPDATE SET rate_to_usd = EXCLUDED.rate_to_usd, source = EXCLUDED.source,"
    " fetched_at = now()"
)


def save_rates(conn: Conn, day: date, rates: dict[str, Decimal], source: str) -> None:
    """Store (or refresh) the day's rate of each currency."""
    with conn.cursor() as cursor:
        cursor.executemany(UPSERT, [(code, day, rate, source) for code, rate in rates.items()])


def rate_to_usd(conn: Conn, currency: str, on: date) -> Decimal | None:
    """The latest rate on or before `on`, else the first after it (rates began after that day); None when the
    tenant has no rate for the currency."""
    rate: Decimal | None = (
        conn.cursor(row_factory=scalar_row)
        .execute(
            "SELECT rate_to_usd FROM currency_rates WHERE currency = %s"
            " ORDER BY date <= %s DESC, abs(date - %s::date) LIMIT 1",
            (currency.upper(), on, on),
        )
        .fetchone()
    )
    return rate
