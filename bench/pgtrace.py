"""Database round trips, counted from libpq's own protocol trace: each switch from sending (F) to receiving (B) is
the client waiting on the server once."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from clawgate.db import pool as db_pool


class RoundTrips:
    def __init__(self) -> None:
        self.path = Path(tempfile.mkstemp(prefix="clawgate-pgtrace-")[1])
        self._file = self.path.open("w")
        self._seen = 0

    def configure(self, conn: psycopg.Connection) -> None:
        conn.pgconn.trace(self._file.fileno())
        conn.pgconn.set_trace_flags(psycopg.pq.Trace.SUPPRESS_TIMESTAMPS | psycopg.pq.Trace.REGRESS_MODE)

    def take(self) -> int:
        """Round trips since the last call."""
        self._file.flush()
        lines = self.path.read_text().splitlines()
        fresh, self._seen = lines[self._seen :], len(lines)
        count, previous = 0, ""
        for line in fresh:
            direction = line[:1]
            if direction == "B" and previous == "F":
                count += 1
            previous = direction
        return count

    def close(self) -> None:
        self._file.close()
        os.unlink(self.path)


@contextmanager
def traced_pool() -> Iterator[RoundTrips]:
    """Swap the process pool for one whose connections trace the protocol."""
    trips = RoundTrips()
    db_pool.close_pool()
    db_pool._pool = db_pool.new_pool(configure=trips.configure, min_size=1, max_size=4)  # the app login's pool
    try:
        yield trips
    finally:
        db_pool.close_pool()
        trips.close()
