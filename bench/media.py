"""What a media preview costs the operator API in AWS before S3 serves the bytes: finding the blob store (its S3
client is created once per process) and signing the URL (no network: SigV4 over the key and the response headers)."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable

SAMPLES = 2000
KEY = "tbench/media/whatsapp/ab/wamid.HBgLNzcwMTAwMDA1MDAVAgASGBQzQUQ2"


def median_us(samples: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1_000_000


def main() -> None:
    os.environ.update({"AWS_REGION": "eu-central-1", "AWS_DEFAULT_REGION": "eu-central-1",
                       "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "example",
                       "CLAWGATE_BLOB_BUCKET": "clawgate-blobs-bench"})  # fmt: skip
    from clawgate.core.blobs import blob_store
    from clawgate.core.channels import MediaRef
    from clawgate.gateway.inbox_media import headers
    from clawgate.settings import reset_settings

    reset_settings()
    started = time.perf_counter()
    store = blob_store()
    first = (time.perf_counter() - started) * 1000
    safe = headers(MediaRef(kind="document", provider_media_id="x", mime_type="text/html", filename='"><b>a.html'))
    type_, disposition = safe["Content-Type"], safe["Content-Disposition"]
    found = median_us(SAMPLES, blob_store)
    signed = median_us(SAMPLES, lambda: store.presigned_get(KEY, type_, disposition, 60))
    print("media previews (operator API, S3 blob store)")
    print(f"  first blob_store() (creates the S3 client)  {first:8.1f} ms")
    print(f"  later blob_store() (the cached client)      {found:8.1f} µs  (median of {SAMPLES})")
    print(f"  presigned URL signed                        {signed:8.1f} µs  (median of {SAMPLES}; no network)")
