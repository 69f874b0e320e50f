"""The VPC: public subnets for one NAT gateway, private subnets with egress for functions and RDS Proxy (they call
Meta, Telegram and Anthropic and need Secrets Manager), isolated subnets for Aurora. docs/deploy.md explains the
egress choice and its cost. Aurora accepts the proxy, or, in a deployment without one, the database clients."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from constructs import Construct

DATABASE_PORT = 5432


class Network(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        availability_zones: Sequence[str],
        rds_proxy: bool = True,
        nat_gateways: int = 1,
    ) -> None:
        super().__init__(scope, id)
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            availability_zones=list(availability_zones),
            nat_gateways=nat_gateways,
            subnet_configuration=[
                ec2.SubnetConfiguration(name="public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24),
                ec2.SubnetConfiguration(name="app", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=20),
                ec2.SubnetConfiguration(name="data", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=24),
            ],
            gateway_endpoints={"S3": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.S3)},
        )
        flow_log_group = logs.LogGroup(
            self, "FlowLogs", retention=logs.RetentionDays.ONE_MONTH, removal_policy=RemovalPolicy.DESTROY
        )
        self.vpc.add_flow_log(
            "FlowLog",
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_log_group),
            traffic_type=ec2.FlowLogTrafficType.REJECT,
        )
        self.database_clients = self._security_group("DatabaseClients", "Functions that may open database connections")
        # db_query connects as a tenant's query login to Aurora itself (never through the proxy), and to the proxy.
        self.query_clients = self._security_group("QueryClients", "Functions that run tenant SQL (db_query)")
        self.functions = self._security_group("Functions", "Functions in the VPC that need no database")
        self.proxy: ec2.SecurityGroup | None = None
        if rds_proxy:
            self.proxy = self._security_group("Proxy", "RDS Proxy: accepts the database clients")
            self.database = self._security_group("Database", "Aurora: accepts only RDS Proxy")
            self.proxy.add_ingress_rule(self.database_clients, ec2.Port.tcp(DATABASE_PORT), "database clients to proxy")
            self.proxy.add_ingress_rule(self.query_clients, ec2.Port.tcp(DATABASE_PORT), "query clients to proxy")
            self.database.add_ingress_rule(self.proxy, ec2.Port.tcp(DATABASE_PORT), "proxy to Aurora")
        else:
            self.database = self._security_group("Database", "Aurora: accepts only the database clients")
            self.database.add_ingress_rule(
                self.database_clients, ec2.Port.tcp(DATABASE_PORT), "database clients to Aurora"
            )
        self.database.add_ingress_rule(self.query_clients, ec2.Port.tcp(DATABASE_PORT), "tenant query logins to Aurora")

    @property
    def app_subnets(self) -> ec2.SubnetSelection:
        return ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)

    @property
    def data_subnets(self) -> ec2.SubnetSelection:
        return ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)

    def _security_group(self, id: str, description: str) -> ec2.SecurityGroup:
        return ec2.SecurityGroup(self, id, vpc=self.vpc, description=description, allow_all_outbound=True)
