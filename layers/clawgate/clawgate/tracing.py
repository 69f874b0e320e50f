"""Powertools Tracer for the functions that do real work (turn steps, workers). Webhook functions do not import
this module: the X-Ray SDK pulls in botocore (~250 ms of cold start), and Lambda's active tracing already records
their invocations without it."""

from aws_lambda_powertools import Tracer

tracer = Tracer(service="clawgate")
