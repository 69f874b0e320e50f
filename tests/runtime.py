"""The local runtime as tests use it (started once per session on a free port): see clawgate.local.background."""

from clawgate.local.background import RunningRuntime, free_port, running_runtime

__all__ = ["RunningRuntime", "free_port", "running_runtime"]
