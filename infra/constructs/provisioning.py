"""Tenant provisioning and platform upgrades. Tenant stacks call `functions/tenant_provisioner` through one
custom-resource provider (the same code as `clawgate tenants apply`); after every deploy that changes the code or the
migrations, a trigger runs `functions/db_migrator`, which brings the registry and every tenant schema up to date."""

from __future__ import annotations

import hashlib

from aws_cdk import Duration, RemovalPolicy, triggers
from aws_cdk import aws_logs as logs
from aws_cdk import custom_resources as cr
from constructs import Construct

from infra import nag
from infra.constructs.database import Database
from infra.constructs.functions import Functions
from infra.project import DB_MIGRATOR, TENANT_PROVISIONER, Project


def migrations_digest(project: Project) -> str:
    hasher = hashlib.sha256()
    for path in sorted((project.package_dir / "db" / "migrations").rglob("*.sql")):
        hasher.update(path.relative_to(project.package_dir).as_posix().encode() + b"\0" + path.read_bytes())
    return hasher.hexdigest()[:16]


class Provisioning(Construct):
    def __init__(
        self, scope: Construct, id: str, *, project: Project, functions: Functions, database: Database
    ) -> None:
        super().__init__(scope, id)
        provisioner = functions.by_name[TENANT_PROVISIONER]
        self.provider = cr.Provider(
            self,
            "TenantProvider",
            on_event_handler=provisioner,
            log_group=logs.LogGroup(
                self, "TenantProviderLogs", retention=logs.RetentionDays.ONE_MONTH, removal_policy=RemovalPolicy.DESTROY
            ),
        )
        nag.acknowledge_as(self.provider, "ProviderInvoke", nag.resource_finding(provisioner, ":*"))
        migrator = functions.by_name[DB_MIGRATOR]
        migrator.add_environment("CLAWGATE_MIGRATIONS_DIGEST", migrations_digest(project))
        self.upgrade = triggers.Trigger(
            self,
            "UpgradeTenants",
            handler=migrator,
            execute_after=[database],
            execute_on_handler_change=True,
            timeout=Duration.minutes(15),
        )

    @property
    def service_token(self) -> str:
        return self.provider.service_token
