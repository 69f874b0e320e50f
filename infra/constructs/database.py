"""Aurora Serverless v2 PostgreSQL, reached only through RDS Proxy, with its master secret. It is allowed to scale to
0 ACU, but does not pause while the proxy holds connections to it (docs/deploy.md, "Monthly cost")."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_logs as logs
from aws_cdk import aws_rds as rds
from constructs import Construct

from infra import nag
from infra.constructs.network import Network

ENGINE_VERSION = rds.AuroraPostgresEngineVersion.VER_17_4
DATABASE_NAME = "clawgate"
MASTER_USER = "clawgate_admin"
MAX_CAPACITY_ACU = 4
AUTO_PAUSE_AFTER = Duration.minutes(10)


class Database(Construct):
    def __init__(self, scope: Construct, id: str, *, network: Network) -> None:
        super().__init__(scope, id)
        identifier = f"{Stack.of(self).stack_name.lower()}-database"
        # Created before the cluster so that the exported PostgreSQL log gets a retention.
        log_group = logs.LogGroup(
            self,
            "PostgresLog",
            log_group_name=f"/aws/rds/cluster/{identifier}/postgresql",
            retention=logs.RetentionDays.ONE_MONTH,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.cluster = rds.DatabaseCluster(
            self,
            "Cluster",
            cluster_identifier=identifier,
            engine=rds.DatabaseClusterEngine.aurora_postgres(version=ENGINE_VERSION),
            writer=rds.ClusterInstance.serverless_v2("Writer", auto_minor_version_upgrade=True),
            serverless_v2_min_capacity=0,
            serverless_v2_max_capacity=MAX_CAPACITY_ACU,
            serverless_v2_auto_pause_duration=AUTO_PAUSE_AFTER,
            credentials=rds.Credentials.from_generated_secret(MASTER_USER),
            default_database_name=DATABASE_NAME,
            vpc=network.vpc,
            vpc_subnets=network.data_subnets,
            security_groups=[network.database],
            storage_encrypted=True,
            iam_authentication=True,
            deletion_protection=True,
            cloudwatch_logs_exports=["postgresql"],
            backup=rds.BackupProps(retention=Duration.days(7)),
            copy_tags_to_snapshot=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.cluster.node.add_dependency(log_group)
        assert self.cluster.secret is not None
        self.secret = self.cluster.secret
        self.secret.apply_removal_policy(RemovalPolicy.RETAIN)
        self.proxy = self.cluster.add_proxy(
            "Proxy",
            secrets=[self.secret],
            vpc=network.vpc,
            vpc_subnets=network.app_subnets,  # the proxy fetches the secret from Secrets Manager through the NAT
            security_groups=[network.proxy],
            require_tls=True,
            idle_client_timeout=Duration.minutes(10),
        )
        nag.acknowledge_as(self.cluster, "AwsSolutions-SMG4[database]", "AwsSolutions-SMG4")

    @property
    def endpoint(self) -> str:
        return self.proxy.endpoint
