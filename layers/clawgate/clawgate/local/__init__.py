"""The local runtime (`clawgate dev`): the same handlers behind an ASGI server, an in-process FIFO queue,
`@connections`, and the CDK state-machine definitions executed by moto's ASL interpreter."""
