"""Start and stop the emulator's gRPC server and our client 20 times in one interpreter,
on plain asyncio and on the qasync loop the app uses, then exit: a gRPC teardown crash at
interpreter exit (seen in a prototype) shows as a non-zero exit or "Fatal Python error".

    python -m tests.pubsub.cycles N
"""

from __future__ import annotations

import asyncio
import sys

from sfmonitor.emulator import Emulator
from sfmonitor.pubsub import EventQueue, PubSubConnection, ReplayFrom
from tests.pubsub.helpers import tokens_for


async def cycle(i: int) -> None:
    async with Emulator() as emu:
        address = await emu.start_pubsub()
        emu.org.publish_any("/event/Low_Ink__e", {"Ink_Percentage__c": i})
        async with PubSubConnection(await tokens_for(emu), address, tls=False) as conn:
            queue = EventQueue()
            conn.subscribe("/event/Low_Ink__e", queue, ReplayFrom.earliest())
            event = await asyncio.wait_for(queue.get(), 20)
            assert event.event.raw["data"]["payload"]["Ink_Percentage__c"] == i


def main(n: int) -> None:
    import qasync
    from PySide6.QtCore import QCoreApplication

    app = QCoreApplication.instance() or QCoreApplication(sys.argv)
    for i in range(n):
        if i % 2:
            with asyncio.Runner(loop_factory=lambda: qasync.QEventLoop(app)) as runner:
                runner.run(cycle(i))
        else:
            asyncio.run(cycle(i))
    print(f"cycles ok: {n}", flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
