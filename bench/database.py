"""The database a benchmark runs against: CLAWGATE_DATABASE_URL when set, else a throwaway embedded server."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from clawgate.local.postgres import start_embedded


def bench_database_url() -> str:
    """Exported for the process, so the package's pool uses it; the embedded server goes when the process exits."""
    url = os.environ.get("CLAWGATE_DATABASE_URL") or start_embedded(Path(tempfile.mkdtemp()) / "pg", keep_data=False)
    os.environ["CLAWGATE_DATABASE_URL"] = url
    return url
