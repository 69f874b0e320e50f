"""Aurora Serverless v2 PostgreSQL with its master secret, allowed to scale to 0 ACU and pause. With RDS Proxy (the
default) the functions connect through the proxy, and Aurora never pauses: the proxy keeps connections to it open.
Without (`-c clawgate:rdsProxy=false`) they connect to the cluster endpoint, and the server closes sessions idle for
IDLE_SESSION_TIMEOUT, so that the pooled connection of a frozen Lambda does not keep Aurora awake
(docs/deploy.md, "RDS Proxy or a database that pauses")."""

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
IDLE_SESSION_TIMEOUT = Duration.minutes(5)  # the pool pings a connection unused for a minute before using it


class Database(Construct):
    def __init__(self, scope: Construct, id: str, *, network: Network, rds_proxy: bool = True) -> None:
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
            parameters=None if rds_proxy else {"idle_session_timeout": _milliseconds(IDLE_SESSION_TIMEOUT)},
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
        self.proxy = self._proxy(network) if rds_proxy else None
        nag.acknowledge_as(self.cluster, "AwsSolutions-SMG4[database]", "AwsSolutions-SMG4")

    def _proxy(self, network: Network) -> rds.DatabaseProxy:
        assert network.proxy is not None
        return self.cluster.add_proxy(
            "Proxy",
            secrets=[self.secret],
            vpc=network.vpc,
            vpc_subnets=network.app_subnets,  # the proxy fetches the secret from Secrets Manager through the NAT
            security_groups=[network.proxy],
            require_tls=True,
            idle_client_timeout=Duration.minutes(10),
        )

    @property
    def endpoint(self) -> str:
        """What the functions connect to: the proxy, or the cluster's writer endpoint."""
        return self.proxy.endpoint if self.proxy else self.cluster.cluster_endpoint.hostname


def _milliseconds(duration: Duration) -> str:
    return str(int(duration.to_milliseconds()))
