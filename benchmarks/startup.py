"""The packaged app: size of dist/sfmonitor and launch to first painted window, frozen and
from source (the baseline, same run), medians of 5 alternating rounds, offscreen.

    python benchmarks/startup.py [--dist DIR]     (default: build sfmonitor.spec into a temp dir)
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ROUNDS = 5


def first_paint(command: list[str], env: dict[str, str]) -> float:
    """Seconds from starting ``command`` to its ``first paint`` line."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("first paint"):
            break
    else:
        raise RuntimeError(f"{command[0]} exited without painting")
    elapsed = time.perf_counter() - started
    proc.wait(30)
    return elapsed


def folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dist", type=Path, help="an existing dist folder (with sfmonitor/)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sfmonitor-startup-"))
    dist = args.dist
    if dist is None:
        t = time.perf_counter()
        subprocess.run(
            [
                str(Path(sys.executable).parent / "pyinstaller"),
                "--noconfirm",
                "--clean",
                "--distpath",
                str(work / "dist"),
                "--workpath",
                str(work / "build"),
                "sfmonitor.spec",
            ],
            check=True,
            capture_output=True,
            cwd=ROOT,
        )
        print(f"build: {time.perf_counter() - t:.0f} s")
        dist = work / "dist"
    app = dist / "sfmonitor"
    print(f"size: dist/sfmonitor {folder_size(app) / 1e6:.0f} MB (target <= 150 MB)")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env.update(QT_QPA_PLATFORM="offscreen", PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring")
    frozen, source = [], []
    for i in range(ROUNDS):
        data = str(work / f"data{i}")
        frozen.append(
            first_paint([str(app / "sfmonitor"), "--data-dir", data, "--quit-after-paint"], env)
        )
        source.append(
            first_paint(
                [sys.executable, "-m", "sfmonitor", "--data-dir", data, "--quit-after-paint"], env
            )
        )
    f, s = statistics.median(frozen), statistics.median(source)
    print(
        f"launch to first painted window: frozen {f:.2f} s (target < 2 s), from source {s:.2f} s; "
        f"ratio frozen / source {f / s:.2f}"
    )


if __name__ == "__main__":
    main()
