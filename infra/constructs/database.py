"""Aurora Serverless v2 PostgreSQL with its master secret, allowed to scale to 0 ACU and pause. With RDS Proxy (the
default) the functions connect through the proxy, and Aurora never pauses: the proxy keeps connections to it open.
Without (`-c clawgate:rdsProxy=false`) they connect to the cluster endpoint, and the server closes sessions idle for
IDLE_SESSION_TIMEOUT, so that the pooled connection of a frozen Lambda does not keep Aurora awake
(docs/deploy.md, "RDS Proxy or a database that pauses").

A first deploy that fails must be retryable: the cluster and its secret get names CloudFormation generates, and
both are kept on stack deletion and update replacement but removed when their own creation is rolled back
(`RetainExceptOnCreate`). Deletion protection would block that rollback, so stack deletion is what `Retain` guards
against, and the cluster and its master secret share one policy (a kept cluster nobody can log in to is lost).

Logins (clawgate/db/logins.py): the master secret is for the migrator's bootstrap alone; the owner login
(migrations, provisioning) and the app login (every handler) each have a generated secret, which RDS Proxy serves as
one auth entry each; the tenants' query logins derive their passwords from one key secret, and connect to the
cluster itself (the proxy would need a secret per tenant)."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_logs as logs
from aws_cdk import aws_rds as rds
from aws_cdk import aws_secretsmanager as secretsmanager
from clawgate.db.names import APP_LOGIN, OWNER_ROLE
from constructs import Construct

from infra import nag
from infra.constructs.network import Network

# The default engine version; `-c clawgate:auroraVersion=17.x` picks another. `make preflight` checks that the
# region offers it with Serverless v2 scaling to 0 ACU and names the newest one that it does.
DEFAULT_ENGINE_VERSION = "17.7"
DATABASE_NAME = "clawgate"
MASTER_USER = "clawgate_admin"
MAX_CAPACITY_ACU = 4
AUTO_PAUSE_AFTER = Duration.minutes(10)
IDLE_SESSION_TIMEOUT = Duration.minutes(5)  # the pool pings a connection unused for a minute before using it
KEEP = RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE
QUERY_KEY_REFERENCE = "secret:platform/database-query-key"  # CLAWGATE_DATABASE_QUERY_KEY
QUERY_KEY_NAME = "clawgate/platform/database-query-key"


def engine_version(full_version: str) -> rds.AuroraPostgresEngineVersion:
    major = full_version.split(".")[0]
    if not major.isdigit():
        raise ValueError(f"clawgate:auroraVersion must look like 17.7, not {full_version!r}")
    return rds.AuroraPostgresEngineVersion.of(full_version, major)


class Database(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        network: Network,
        rds_proxy: bool = True,
        version: str = DEFAULT_ENGINE_VERSION,
    ) -> None:
        super().__init__(scope, id)
        self.version = version
        self.cluster = rds.DatabaseCluster(
            self,
            "Cluster",
            engine=rds.DatabaseClusterEngine.aurora_postgres(version=engine_version(version)),
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
            deletion_protection=False,  # it would block the rollback of a failed first deploy (see above)
            cloudwatch_logs_exports=["postgresql"],
            # The log group's name holds the generated cluster name, so CDK's log-retention resource sets it.
            cloudwatch_logs_retention=logs.RetentionDays.ONE_MONTH,
            backup=rds.BackupProps(retention=Duration.days(7)),
            copy_tags_to_snapshot=True,
            removal_policy=KEEP,
        )
        assert self.cluster.secret is not None
        self.secret = self.cluster.secret
        self._keep_master_secret()
        self.owner_secret = self._login_secret("OwnerLogin", OWNER_ROLE)
        self.app_secret = self._login_secret("AppLogin", APP_LOGIN)
        self.query_key = secretsmanager.Secret(
            self,
            "QueryKey",
            secret_name=QUERY_KEY_NAME,
            description="Clawgate: the key the tenants' db_query logins derive their passwords from",
            generate_secret_string=secretsmanager.SecretStringGenerator(exclude_punctuation=True, password_length=48),
            removal_policy=KEEP,
        )
        nag.acknowledge_as(self.query_key, "AwsSolutions-SMG4[database]", "AwsSolutions-SMG4")
        self.proxy = self._proxy(network) if rds_proxy else None
        nag.acknowledge_as(self.cluster, "AwsSolutions-SMG4[database]", "AwsSolutions-SMG4")
        nag.acknowledge(self.cluster, "AwsSolutions-RDS10")

    def _keep_master_secret(self) -> None:
        """The generated secret and its attachment to the cluster live as long as the cluster does."""
        self.secret.apply_removal_policy(KEEP)
        generated = self.cluster.node.try_find_child("Secret")
        if generated is not None:
            generated.node.default_child.apply_removal_policy(KEEP)  # type: ignore[union-attr]

    def _login_secret(self, id: str, username: str) -> rds.DatabaseSecret:
        secret = rds.DatabaseSecret(self, id, username=username, exclude_characters=" %+~`#$&*()|[]{}:;<>?!'/@\"\\")
        secret.apply_removal_policy(KEEP)
        nag.acknowledge_as(secret, "AwsSolutions-SMG4[database]", "AwsSolutions-SMG4")
        return secret

    @property
    def login_secrets(self) -> list[rds.DatabaseSecret | secretsmanager.ISecret]:
        return [self.secret, self.owner_secret, self.app_secret]

    def _proxy(self, network: Network) -> rds.DatabaseProxy:
        assert network.proxy is not None
        return self.cluster.add_proxy(
            "Proxy",
            secrets=self.login_secrets,
            vpc=network.vpc,
            vpc_subnets=network.app_subnets,  # the proxy fetches the secret from Secrets Manager through the NAT
            security_groups=[network.proxy],
            require_tls=True,
            idle_client_timeout=Duration.minutes(10),
        )

    @property
    def cluster_host(self) -> str:
        """The writer endpoint: where the tenants' query logins connect, proxy or not."""
        return self.cluster.cluster_endpoint.hostname

    @property
    def endpoint(self) -> str:
        """What the functions connect to: the proxy, or the cluster's writer endpoint."""
        return self.proxy.endpoint if self.proxy else self.cluster.cluster_endpoint.hostname


def _milliseconds(duration: Duration) -> str:
    return str(int(duration.to_milliseconds()))
