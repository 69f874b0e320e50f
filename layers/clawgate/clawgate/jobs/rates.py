"""Daily exchange rates into `currency_rates` for the currencies a tenant's numbers need: the ad account's (budgets
and spend) and the tenant file's display currency (reports), as US-dollar values of one unit (`rate_to_usd`). The
source is `CLAWGATE_FX_RATES_URL` (open.er-api.com's format: units per dollar). One row per currency and day, an
upsert: re-running the job refreshes the day's rate."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from clawgate.core import transport
from clawgate.db import tenant_tx
from clawgate.meta.marketing.context import load_context
from clawgate.meta.marketing.data.rates import save_rates
from clawgate.settings import get_settings

SOURCE = "open.er-api.com"


class RatesUnavailable(RuntimeError):
    """The source did not answer with rates (the job fails and is retried)."""


def fetch_rates() -> dict[str, Decimal]:
    """Units of each currency per US dollar."""
    answer = transport.client().get(get_settings().fx_rates_url, timeout=15)
    body = answer.json() if answer.content else {}
    if answer.status_code != 200 or body.get("result") != "success" or not isinstance(body.get("rates"), dict):
        raise RatesUnavailable(f"exchange rates unavailable (HTTP {answer.status_code})")
    return {str(code).upper(): Decimal(str(value)) for code, value in body["rates"].items() if value}


def run(slug: str, params: dict[str, Any]) -> dict[str, Any]:
    ctx = load_context(slug)
    wanted = sorted({ctx.currency.upper(), ctx.display_currency.upper()} - {"USD"})
    if not wanted:
        return {"date": ctx.today().isoformat(), "rates": {}}
    per_dollar = fetch_rates()
    missing = [code for code in wanted if code not in per_dollar]
    if missing:
        raise RatesUnavailable(f"the source has no rate for {', '.join(missing)}")
    day = ctx.today()
    rates = {code: (Decimal(1) / per_dollar[code]).quantize(Decimal("0.000000001")) for code in wanted}
    with tenant_tx(slug) as conn:
        save_rates(conn, day, rates, SOURCE)
    return {"date": day.isoformat(), "rates": {code: str(rate) for code, rate in rates.items()}}
