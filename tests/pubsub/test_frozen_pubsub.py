"""The packaged app with gRPC in it stays within 170 MB, carries gRPC's C core, protobuf
and fastavro, and leaves out the code generator. ``pytest -m frozen`` (``.ci/run``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_frozen import frozen_app  # noqa: F401  (builds sfmonitor.spec once here)

pytestmark = [pytest.mark.frozen, pytest.mark.timeout(600)]
LIMIT_MB = 170


def test_frozen_app_has_grpc_and_stays_within_170_mb(frozen_app: Path) -> None:  # noqa: F811
    folder = frozen_app.parent
    size = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file() and not f.is_symlink())
    assert size <= LIMIT_MB * 1024 * 1024, f"{size / 2**20:.0f} MB"
    internal = folder / "_internal"
    assert list(internal.glob("grpc/_cython/cygrpc*.so")), "gRPC's C core is missing"
    assert (internal / "fastavro").is_dir()
    assert not (internal / "grpc_tools").exists()  # code generation is not shipped
