"""Alarms (dead letters, failed workflow executions, HTTP 4xx/5xx, Aurora capacity) to one SNS topic, and one
dashboard with the same signals plus per-function errors and durations."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_sns as sns
from constructs import Construct

from infra.constructs.apis import Apis
from infra.constructs.database import MAX_CAPACITY_ACU, Database
from infra.constructs.functions import Functions, construct_id
from infra.constructs.queues import Queues
from infra.constructs.workflows import Workflows

FIVE_MINUTES = Duration.minutes(5)
CLIENT_ERRORS_PER_5_MIN = 100  # bad signatures and probes are expected; a flood is not
SERVER_ERRORS_PER_5_MIN = 5


class Monitoring(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        queues: Queues,
        workflows: Workflows,
        apis: Apis,
        database: Database,
        functions: Functions,
    ) -> None:
        super().__init__(scope, id)
        self.topic = sns.Topic(self, "Alarms", display_name="Clawgate alarms", enforce_ssl=True)
        self._action = actions.SnsAction(self.topic)
        self.alarms: list[cloudwatch.Alarm] = []
        for name, dead_letters in queues.dead_letters.items():
            depth = dead_letters.metric_approximate_number_of_messages_visible(period=FIVE_MINUTES, statistic="Maximum")
            self._alarm(f"{construct_id(name)}DeadLetters", depth, 1, f"messages in the {name} dead-letter queue")
        for name, state_machine in workflows.by_name.items():
            failed = state_machine.metric_failed(period=FIVE_MINUTES, statistic="Sum")
            self._alarm(f"{construct_id(name)}Failed", failed, 1, f"failed {name} executions")
        client_errors = apis.http.metric_client_error(period=FIVE_MINUTES, statistic="Sum")
        server_errors = apis.http.metric_server_error(period=FIVE_MINUTES, statistic="Sum")
        self._alarm("Http4xx", client_errors, CLIENT_ERRORS_PER_5_MIN, "HTTP API 4xx (webhooks, operator API)")
        self._alarm("Http5xx", server_errors, SERVER_ERRORS_PER_5_MIN, "HTTP API 5xx (webhooks, operator API)")
        capacity = database.cluster.metric_serverless_database_capacity(period=FIVE_MINUTES, statistic="Maximum")
        self._alarm("AuroraCapacity", capacity, MAX_CAPACITY_ACU * 0.8, "Aurora near its maximum ACU")
        self.dashboard = self._dashboard(apis, database, queues, workflows, functions)

    def _alarm(self, id: str, metric: cloudwatch.IMetric, threshold: float, description: str) -> None:
        alarm = cloudwatch.Alarm(
            self,
            id,
            alarm_description=f"Clawgate: {description}",
            metric=metric,
            threshold=threshold,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(self._action)
        self.alarms.append(alarm)

    def _dashboard(
        self, apis: Apis, database: Database, queues: Queues, workflows: Workflows, functions: Functions
    ) -> cloudwatch.Dashboard:
        dashboard = cloudwatch.Dashboard(self, "Dashboard", default_interval=Duration.hours(24))
        dashboard.add_widgets(
            _graph(
                "HTTP API", [apis.http.metric_count(), apis.http.metric_client_error(), apis.http.metric_server_error()]
            ),
            _graph("HTTP latency p95", [apis.http.metric_latency(statistic="p95")]),
            _graph("Aurora ACU", [database.cluster.metric_serverless_database_capacity(statistic="Maximum")]),
        )
        dashboard.add_widgets(
            _graph("Queue depth", [q.metric_approximate_number_of_messages_visible() for q in queues.by_name.values()]),
            _graph(
                "Dead letters",
                [q.metric_approximate_number_of_messages_visible() for q in queues.dead_letters.values()],
            ),
            _graph(
                "Workflows",
                [m for sm in workflows.by_name.values() for m in (sm.metric_succeeded(), sm.metric_failed())],
            ),
        )
        dashboard.add_widgets(
            _graph("Function errors", [fn.metric_errors() for fn in functions.by_name.values()]),
            _graph("Function duration p95", [fn.metric_duration(statistic="p95") for fn in functions.by_name.values()]),
            cloudwatch.AlarmStatusWidget(title="Alarms", alarms=self.alarms, width=8),
        )
        return dashboard


def _graph(title: str, metrics: list[cloudwatch.IMetric]) -> cloudwatch.GraphWidget:
    return cloudwatch.GraphWidget(title=title, left=metrics, width=8)
