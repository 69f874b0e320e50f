from collections.abc import Iterator

import pytest

from tests.runtime import RunningRuntime, running_runtime


@pytest.fixture(scope="session")
def local(database: str) -> Iterator[RunningRuntime]:
    with running_runtime() as running:
        yield running
