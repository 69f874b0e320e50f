"""Money on the Marketing API: budgets and bids travel in the account currency's minor units (the "offset": 100 for
most currencies, 1 for zero-decimal ones), insights `spend` in major units as a string. US dollars come from the
tenant's `currency_rates` (one unit of a currency is worth `rate_to_usd` dollars on a date)."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from clawgate.db import Conn
from clawgate.meta.marketing.data.rates import rate_to_usd

# Marketing API currency table: offset 1 (no minor unit); every other currency has offset 100.
ZERO_DECIMAL = frozenset({"CLP", "COP", "CRC", "HUF", "IDR", "ISK", "JPY", "KRW", "PYG", "TWD", "VND"})


def offset(currency: str) -> int:
    return 1 if currency.upper() in ZERO_DECIMAL else 100


def to_minor(amount: Decimal | float | int | str, currency: str) -> int:
    scaled = Decimal(str(amount)) * offset(currency)
    return int(scaled.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def to_major(minor: int | str, currency: str) -> Decimal:
    return Decimal(int(minor)) / offset(currency)


def usd_rate(conn: Conn, currency: str, on: date) -> Decimal | None:
    """The latest rate on or before `on`, else the first after it (rates began after that day); USD is 1; None
    when the tenant has no rate for the currency."""
    if currency.upper() == "USD":
        return Decimal(1)
    return rate_to_usd(conn, currency, on)


def to_usd(conn: Conn, amount: Decimal, currency: str, on: date) -> Decimal | None:
    rate = usd_rate(conn, currency, on)
    return None if rate is None else (amount * rate).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def convert(conn: Conn, amount: Decimal, source: str, target: str, on: date) -> Decimal | None:
    """`amount` of `source` in `target` through both currencies' dollar rates; None when a rate is missing."""
    if source.upper() == target.upper():
        return amount
    source_rate, target_rate = usd_rate(conn, source, on), usd_rate(conn, target, on)
    if source_rate is None or target_rate is None:
        return None
    return (amount * source_rate / target_rate).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def display(amount: Decimal | None, currency: str) -> str:
    """`12,345 KZT`, `25.10 USD`: no decimals for zero-decimal currencies and for amounts of 10,000 and more."""
    if amount is None:
        return "–"
    places = 0 if offset(currency) == 1 or abs(amount) >= 10_000 else 2
    return f"{amount:,.{places}f} {currency.upper()}"
