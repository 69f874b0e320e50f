"""What the fake Graph refuses on create the way Meta does (v26), so tests see the errors production would:
an ad set without `targeting_automation.advantage_audience` (error 100, "Advantage Audience Flag Required", since
v23), special ad categories without `special_ad_category_country`, the removed CREDIT category, and Messenger
lead generation (destination MESSENGER with LEAD_GENERATION, refused since v24)."""

from __future__ import annotations

from typing import Any

CATEGORIES = frozenset({"NONE", "HOUSING", "EMPLOYMENT", "FINANCIAL_PRODUCTS_SERVICES", "ISSUES_ELECTIONS_POLITICS"})


def create_refusal(kind: str, fields: dict[str, Any]) -> str | None:
    if kind == "campaign":
        categories = fields.get("special_ad_categories") or []
        if any(category not in CATEGORIES for category in categories):
            return f"(#100) Invalid special_ad_categories: {categories}"
        if [c for c in categories if c != "NONE"] and not fields.get("special_ad_category_country"):
            return "(#100) special_ad_category_country is required with special_ad_categories"
    if kind == "adset":
        found = fields.get("targeting")
        targeting: dict[str, Any] = found if isinstance(found, dict) else {}
        automation = targeting.get("targeting_automation") or {}
        if automation.get("advantage_audience") not in (0, 1):
            return "(#100) Advantage Audience Flag Required: set targeting_automation.advantage_audience to 0 or 1"
        if automation.get("advantage_audience") == 1 and int(targeting.get("age_min") or 18) > 25:
            return "(#100) With Advantage+ audience, age_min cannot be above 25"
        if fields.get("destination_type") == "MESSENGER" and fields.get("optimization_goal") == "LEAD_GENERATION":
            return "(#100) Lead generation with the Messenger destination is no longer supported"
    return None
