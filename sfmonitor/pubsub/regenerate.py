"""Regenerate the committed Python modules of ``proto/pubsub_api.proto``.

    python sfmonitor/pubsub/regenerate.py          # rewrite the generated modules
    python sfmonitor/pubsub/regenerate.py --check  # exit 1 when they are not current

Needs ``grpcio-tools`` (a test dependency, pinned in pyproject.toml). The generated code
records the versions it was made with; the runtime pins of ``grpcio`` and ``protobuf`` in
pyproject.toml follow them. The proto is compiled from the repository root so that the
generated modules import each other as ``sfmonitor.pubsub.proto...``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROTO = Path("sfmonitor/pubsub/proto/pubsub_api.proto")
OUTPUTS = ("pubsub_api_pb2.py", "pubsub_api_pb2.pyi", "pubsub_api_pb2_grpc.py")


def generate(into: Path) -> dict[str, bytes]:
    """Compile the proto into ``into`` and return the generated files by name."""
    from grpc_tools import protoc  # dev/test dependency only

    args = [
        "grpc_tools.protoc",
        f"-I{ROOT}",
        f"--python_out={into}",
        f"--pyi_out={into}",
        f"--grpc_python_out={into}",
        str(PROTO),
    ]
    if protoc.main(args) != 0:
        raise RuntimeError("protoc failed")
    folder = into / PROTO.parent
    return {name: (folder / name).read_bytes() for name in OUTPUTS}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare, change nothing")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        fresh = generate(Path(tmp))
    target = ROOT / PROTO.parent
    stale = [
        name
        for name, data in fresh.items()
        if not (target / name).exists() or (target / name).read_bytes() != data
    ]
    if args.check:
        for name in stale:
            print(f"out of date: {PROTO.parent / name}", file=sys.stderr)
        return 1 if stale else 0
    for name in stale:
        (target / name).write_bytes(fresh[name])
        print(f"wrote {PROTO.parent / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
