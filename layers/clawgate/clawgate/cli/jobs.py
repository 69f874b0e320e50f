"""`clawgate jobs …`:

- `jobs run NAME --tenant T [--param key=value …]`: one job through the local runtime's `jobs` workflow (the ASL
  CDK deploys), e.g. `clawgate jobs run morning_report --tenant acme --param until=2026-05-01`;
- `jobs list --tenant T`: the latest runs with status and error;
- `jobs schedule --tenant T`: when each job runs for the tenant (its timezone).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def _database() -> None:
    from clawgate.cli.environment import database

    database()


def _params(pairs: list[str]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for pair in pairs:
        key, separator, value = pair.partition("=")
        if not separator or not key:
            raise ValueError(f"--param {pair!r} must be key=value")
        params[key] = value
    return params


def cmd_run(args: argparse.Namespace) -> int:
    from clawgate.cli.environment import state_machines
    from clawgate.jobs.runner import job_functions

    if args.name not in job_functions():
        raise LookupError(f"no job {args.name!r}; jobs: {', '.join(sorted(job_functions()))}")
    _database()
    with state_machines() as workflows:
        output = workflows.run("jobs", {"tenant": args.tenant, "job": args.name, "params": _params(args.param)})
    print(json.dumps(output, default=str))
    return 0 if output.get("status") in ("succeeded", "skipped", "duplicate") else 1


def cmd_list(args: argparse.Namespace) -> int:
    from clawgate.db import tenant_tx
    from clawgate.jobs.data import runs

    _database()
    with tenant_tx(args.tenant, "ro") as conn:
        latest = runs.latest(conn, args.limit)
    for run in latest:
        started, error = f"{run.started_at:%Y-%m-%d %H:%M:%S}", (run.error or "")[:120]
        print(f"{run.id}\t{run.name}\t{run.status}\t{started}\t{run.finished_at or '':}\t{error}")
    return 0


def cmd_schedule(args: argparse.Namespace) -> int:
    from clawgate.jobs.schedules import schedules_for
    from clawgate.tenancy.tenants import load_tenant

    _database()
    tenant = load_tenant(args.tenant)
    if tenant is None:
        raise LookupError(f"no tenant {args.tenant!r}")
    schedules = schedules_for(tenant)
    for name, cron in schedules.items():
        print(f"{name}\t{cron}\t{tenant.timezone}")
    if not schedules:
        print("no jobs are scheduled (no meta section, heartbeat off)", file=sys.stderr)
    return 0


def register(commands: Any) -> None:
    jobs = commands.add_parser("jobs", help="scheduled jobs (metrics, scoring, reports…)")
    sub = jobs.add_subparsers(dest="sub", required=True)
    run = sub.add_parser("run", help="run one job now through the jobs workflow")
    run.add_argument("name")
    run.add_argument("--tenant", required=True)
    run.add_argument("--param", action="append", default=[], help="key=value for the job (repeatable)")
    run.set_defaults(run=cmd_run)
    listing = sub.add_parser("list", help="the latest job runs of a tenant")
    listing.add_argument("--tenant", required=True)
    listing.add_argument("--limit", type=int, default=20)
    listing.set_defaults(run=cmd_list)
    schedule = sub.add_parser("schedule", help="when each job runs for a tenant")
    schedule.add_argument("--tenant", required=True)
    schedule.set_defaults(run=cmd_schedule)
