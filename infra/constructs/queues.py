"""SQS queues with their dead-letter queues, and the consumers of `entrypoints.QUEUE_CONSUMERS`: a consumer whose
target is `workflow:<name>` is an EventBridge Pipe that runs the Express workflow synchronously (REQUEST_RESPONSE
holds the FIFO message group until the turn ends); any other target is a Lambda event source.

A Pipe reads one message per execution: a batch would mix message groups, so one slow turn would hold unrelated
conversations and one failed turn would send all of them round again. The Pipe waits for its role's policy (Pipes
checks the role when the Pipe is created, and CloudFormation would otherwise create both at once)."""

from __future__ import annotations

from aws_cdk import (
    Duration,
    RemovalPolicy,
)
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_pipes as pipes
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from clawgate import entrypoints
from constructs import Construct

from infra.constructs.functions import Functions, construct_id
from infra.project import workflow_of

# The queues the package sends to (settings.py reads CLAWGATE_<QUEUE>_QUEUE_URL); True = FIFO.
PLATFORM_QUEUES: dict[str, bool] = {"inbound": True, "capi": False, "lead": False}
# Longer than an Express execution (5 min), so a turn in flight never becomes visible again.
VISIBILITY_TIMEOUT = Duration.minutes(6)
MAX_RECEIVES = 5
PIPE_BATCH_SIZE = 1  # one conversation per execution (above)


def queue_kinds() -> dict[str, bool]:
    kinds = dict(PLATFORM_QUEUES)
    kinds.update({consumer.queue: consumer.fifo for consumer in entrypoints.QUEUE_CONSUMERS})
    return kinds


def event_source(consumer: entrypoints.QueueConsumer, queue: sqs.IQueue) -> event_sources.SqsEventSource:
    """Lambda reads batches and is told which messages failed (the handlers answer `batchItemFailures`), so one bad
    message is retried alone and reaches the dead-letter queue after MAX_RECEIVES, without its batch."""
    window = Duration.seconds(consumer.batching_window_s) if consumer.batching_window_s else None
    return event_sources.SqsEventSource(
        queue, batch_size=consumer.batch_size, max_batching_window=window, report_batch_item_failures=True
    )


class Queues(Construct):
    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        self.by_name: dict[str, sqs.Queue] = {}
        self.dead_letters: dict[str, sqs.Queue] = {}
        for name, fifo in queue_kinds().items():
            self._add(name, fifo)

    def connect_consumers(self, functions: Functions, workflows: dict[str, sfn.StateMachine]) -> None:
        for consumer in entrypoints.QUEUE_CONSUMERS:
            queue = self.by_name[consumer.queue]
            workflow = workflow_of(consumer.target)
            if workflow is None:
                functions.by_name[consumer.target].add_event_source(event_source(consumer, queue))
            else:
                self._pipe(consumer, queue, workflows[workflow])

    def _add(self, name: str, fifo: bool) -> None:
        cid = construct_id(name)
        dead_letter = sqs.Queue(
            self,
            f"{cid}DeadLetters",
            fifo=fifo or None,
            retention_period=Duration.days(14),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.dead_letters[name] = dead_letter
        self.by_name[name] = sqs.Queue(
            self,
            cid,
            fifo=fifo or None,
            # Senders give a deduplication id (the provider's message id); content dedup covers any that do not.
            content_based_deduplication=fifo or None,
            deduplication_scope=sqs.DeduplicationScope.MESSAGE_GROUP if fifo else None,
            fifo_throughput_limit=sqs.FifoThroughputLimit.PER_MESSAGE_GROUP_ID if fifo else None,
            visibility_timeout=VISIBILITY_TIMEOUT,
            retention_period=Duration.days(4),
            dead_letter_queue=sqs.DeadLetterQueue(queue=dead_letter, max_receive_count=MAX_RECEIVES),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            removal_policy=RemovalPolicy.DESTROY,
        )

    def _pipe(
        self, consumer: entrypoints.QueueConsumer, queue: sqs.Queue, state_machine: sfn.StateMachine
    ) -> pipes.CfnPipe:
        cid = construct_id(consumer.queue)
        role = iam.Role(self, f"{cid}PipeRole", assumed_by=iam.ServicePrincipal("pipes.amazonaws.com"))
        queue.grant_consume_messages(role)
        role.add_to_policy(
            iam.PolicyStatement(actions=["states:StartSyncExecution"], resources=[state_machine.state_machine_arn])
        )
        log_group = logs.LogGroup(
            self, f"{cid}PipeLogs", retention=logs.RetentionDays.ONE_MONTH, removal_policy=RemovalPolicy.DESTROY
        )
        log_group.grant_write(role)
        pipe = pipes.CfnPipe(
            self,
            f"{cid}Pipe",
            description=f"{consumer.queue} queue -> {consumer.target} (synchronous, one execution per message group)",
            role_arn=role.role_arn,
            source=queue.queue_arn,
            source_parameters=pipes.CfnPipe.PipeSourceParametersProperty(
                sqs_queue_parameters=pipes.CfnPipe.PipeSourceSqsQueueParametersProperty(batch_size=PIPE_BATCH_SIZE)
            ),
            target=state_machine.state_machine_arn,
            target_parameters=pipes.CfnPipe.PipeTargetParametersProperty(
                step_function_state_machine_parameters=pipes.CfnPipe.PipeTargetStateMachineParametersProperty(
                    invocation_type="REQUEST_RESPONSE"
                )
            ),
            log_configuration=pipes.CfnPipe.PipeLogConfigurationProperty(
                level="ERROR",
                cloudwatch_logs_log_destination=pipes.CfnPipe.CloudwatchLogsLogDestinationProperty(
                    log_group_arn=log_group.log_group_arn
                ),
            ),
        )
        pipe.node.add_dependency(role)  # the role and its default policy
        return pipe
