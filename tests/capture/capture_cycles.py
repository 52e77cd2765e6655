"""A capture of the demo over both APIs started and stopped N times in one interpreter, on
plain asyncio and on the qasync loop the window uses, then exit: the Pub/Sub streams and
the gRPC channel must be closed by ``Capture.run`` itself (a gRPC channel left to the
garbage collector at interpreter exit can crash it).

    python -m tests.capture.capture_cycles N
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

from sfmonitor.capture import Capture
from sfmonitor.capture.demo import start_demo
from sfmonitor.store import CaptureStore
from tests.helpers.waiting import wait_until


async def cycle(folder: Path) -> None:
    with CaptureStore.open(folder) as store:
        demo = await start_demo(store, rate=50)
        try:
            assert demo.profile.id is not None
            subs = store.subscriptions(demo.profile.id)
            capture = Capture(store, demo.profile, demo.secrets, subs, transport="pubsub")
            task = asyncio.ensure_future(capture.run())
            await wait_until(lambda: capture.stats.stored > 0 or task.done(), 30)
            await capture.stop()
            await task
            assert capture.pubsub.conn is None and capture.pubsub.channels
        finally:
            await demo.emulator.stop()


def main(n: int) -> None:
    import qasync
    from PySide6.QtCore import QCoreApplication

    app = QCoreApplication.instance() or QCoreApplication(sys.argv)
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(n):
            folder = Path(tmp) / f"d{i}"
            if i % 2:
                with asyncio.Runner(loop_factory=lambda: qasync.QEventLoop(app)) as runner:
                    runner.run(cycle(folder))
            else:
                asyncio.run(cycle(folder))
    print(f"cycles ok: {n}", flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
