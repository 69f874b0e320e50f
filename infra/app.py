"""The CDK app: `python -m infra.app` (what `make synth` and `cdk.json` run) synthesises the platform stack and one
stack per tenant file into cdk.out, in process, without Docker or an AWS account; cdk-nag checks run on synthesis."""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass
from typing import Any

from aws_cdk import App, Environment
from clawgate.tenancy.model import load_tenant_file

from infra import nag
from infra.assets import Assets, build_assets
from infra.function_settings import FUNCTION_SETTINGS
from infra.platform_stack import PlatformStack
from infra.project import REPO_ROOT, Project
from infra.tenant_stack import TenantStack, stack_name_for

CDK_JSON = REPO_ROOT / "cdk.json"
PLATFORM_STACK = "Clawgate"
REGION_KEY = "clawgate:region"
AVAILABILITY_ZONES_KEY = "clawgate:availabilityZones"
RDS_PROXY_KEY = "clawgate:rdsProxy"  # false: no RDS Proxy, so that Aurora can pause (docs/deploy.md)
AURORA_VERSION_KEY = "clawgate:auroraVersion"  # an Aurora PostgreSQL version the region offers (make preflight)


@dataclass
class ClawgateApp:
    app: App
    platform: PlatformStack
    tenants: list[TenantStack]
    assets: Assets


def cdk_json_context() -> dict[str, Any]:
    """The CDK CLI passes cdk.json's context itself; an in-process synthesis reads it here (lowest precedence)."""
    context: dict[str, Any] = json.loads(CDK_JSON.read_text())["context"]
    return context


def context_flag(app: App, key: str, *, default: bool) -> bool:
    """A boolean from cdk.json or `-c key=value` (the CLI passes command-line values as strings)."""
    value = app.node.try_get_context(key)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if str(value).lower() in ("true", "false"):
        return str(value).lower() == "true"
    raise ValueError(f"context {key} must be true or false, not {value!r}")


def build_app(
    project: Project | None = None,
    *,
    outdir: str | None = None,
    stub_dependencies: bool | None = None,
    context: dict[str, Any] | None = None,
) -> ClawgateApp:
    project = project or Project.at()
    app = App(outdir=outdir, context={**cdk_json_context(), **(context or {})})
    nag.enable_checks(app)
    env = Environment(account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region=app.node.get_context(REGION_KEY))
    assets = build_assets(project, stub_dependencies)
    platform = PlatformStack(
        app,
        PLATFORM_STACK,
        project=project,
        assets=assets,
        availability_zones=app.node.get_context(AVAILABILITY_ZONES_KEY),
        rds_proxy=context_flag(app, RDS_PROXY_KEY, default=True),
        aurora_version=app.node.try_get_context(AURORA_VERSION_KEY),
        env=env,
    )
    tenants = [
        TenantStack(app, stack_name_for(tenant.slug), tenant=tenant, platform=platform, env=env)
        for tenant in map(load_tenant_file, project.tenant_files())
    ]
    return ClawgateApp(app, platform, tenants, assets)


def warn_about_unused_settings(project: Project) -> None:
    """A settings entry for a function that does not exist usually means a function was renamed."""
    unused = sorted(set(FUNCTION_SETTINGS) - set(project.function_names()))
    if unused:
        print(f"note: infra/function_settings.py configures absent functions: {', '.join(unused)}", file=sys.stderr)


def main() -> None:
    warn_about_unused_settings(Project.at())
    started = time.perf_counter()
    built = build_app(outdir=os.environ.get("CDK_OUTDIR", str(REPO_ROOT / "cdk.out")))  # the CLI sets CDK_OUTDIR
    assembly = built.app.synth()
    names = ", ".join(stack.stack_name for stack in assembly.stacks)
    print(f"synthesised {names} into {assembly.directory} in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
