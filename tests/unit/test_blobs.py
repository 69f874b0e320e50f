"""Blob reads stay inside the tenant's prefix, whatever key a row or a tool argument names."""

from __future__ import annotations

from pathlib import Path

import pytest
from clawgate.core.blobs import ForeignBlobError, LocalBlobs, read_tenant_blob

from tests.channel_fixtures import environment


@pytest.mark.parametrize(
    "key", ["other/media/whatsapp/ab/x.jpg", "acme", "acme/../other/media/x", "acme//media", "/acme/media/x"]
)
def test_a_key_outside_the_tenants_prefix_is_refused(tmp_path: Path, key: str) -> None:
    LocalBlobs(tmp_path / "blobs").put("other/media/whatsapp/ab/x.jpg", b"someone else's photo")
    with environment(CLAWGATE_DATA_DIR=str(tmp_path)):
        with pytest.raises(ForeignBlobError):
            read_tenant_blob("acme", key)
        LocalBlobs(tmp_path / "blobs").put("acme/media/whatsapp/ab/y.jpg", b"ours")
        assert read_tenant_blob("acme", "acme/media/whatsapp/ab/y.jpg") == b"ours"
