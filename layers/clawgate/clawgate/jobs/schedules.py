"""When each job runs for a tenant: the defaults below, overridden per job by `ads.schedules` in the tenant file
(EventBridge cron in the tenant's timezone, or `off`). Ads jobs need a Meta ad account; the heartbeat is opt-in; the
inbox jobs (follow-ups and auto-resume, template sync) run for tenants with a WhatsApp number.
The deployed EventBridge schedules and the `clawgate dev` scheduler both come from `schedules_for`."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from clawgate.tenancy.cron import parse_cron
from clawgate.tenancy.model import TenantFile

DEFAULT_SCHEDULES: dict[str, str] = {
    "metrics_sync": "cron(0 5 * * ? *)",
    "mapping_sync": "cron(30 5 * * ? *)",
    "currency_rates": "cron(45 5 * * ? *)",
    "scoring": "cron(0 6 * * ? *)",
    "creative_tests": "cron(30 6 * * ? *)",
    "morning_report": "cron(0 9 * * ? *)",
    "weekly_report": "cron(0 9 ? * MON *)",
    "heartbeat": "cron(0 9-21 * * ? *)",
    "inbox": "cron(0/10 * * * ? *)",  # follow-ups due, conversations back to the agent after auto_resume_minutes
    "templates_sync": "cron(15 * * * ? *)",
}
INBOX_JOBS = ("inbox", "templates_sync")  # for tenants with a WhatsApp number
ADS_JOBS = tuple(name for name in DEFAULT_SCHEDULES if name not in ("heartbeat", *INBOX_JOBS))


def schedules_for(tenant: TenantFile) -> dict[str, str]:
    """Job name -> cron for this tenant (jobs that are off are absent)."""
    wanted = [*(ADS_JOBS if tenant.meta else ()), *(("heartbeat",) if tenant.ads.heartbeat else ()),
              *(INBOX_JOBS if tenant.channels.whatsapp else ())]  # fmt: skip
    overrides: dict[str, str] = {str(name): cron for name, cron in tenant.ads.schedules.items()}
    chosen = {name: overrides.get(name, DEFAULT_SCHEDULES[name]) for name in wanted}
    return {name: cron for name, cron in chosen.items() if cron != "off"}


def due_jobs(tenant: TenantFile, now: datetime) -> list[str]:
    """The jobs whose schedule fires in the minute of `now` (an aware datetime), in the tenant's timezone."""
    local = now.astimezone(ZoneInfo(tenant.timezone)).replace(second=0, microsecond=0)
    return [name for name, cron in schedules_for(tenant).items() if parse_cron(cron).matches(local)]
