"""A bare gRPC client of the emulator (no sfmonitor.pubsub logic): to test the server's
protocol exactly as any client sees it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import grpc
import grpc.aio

from sfmonitor.emulator import Emulator
from sfmonitor.pubsub import Credentials
from sfmonitor.pubsub.proto import pubsub_api_pb2 as pb
from sfmonitor.pubsub.proto import pubsub_api_pb2_grpc as pb_grpc
from tests.pubsub.helpers import login


class Raw:
    def __init__(self, channel: grpc.aio.Channel, creds: Credentials) -> None:
        self.stub = pb_grpc.PubSubStub(channel)
        self.creds = creds

    def meta(self, **override: str) -> tuple[tuple[str, str], ...]:
        base = dict(self.creds.metadata())
        base.update(override)
        return tuple((k, v) for k, v in base.items() if v is not None)

    def subscribe(self, **override: str) -> Any:
        return self.stub.Subscribe(metadata=self.meta(**override))


@asynccontextmanager
async def raw_client(emu: Emulator) -> AsyncIterator[Raw]:
    assert emu.pubsub is not None
    async with grpc.aio.insecure_channel(emu.pubsub.address) as channel:
        yield Raw(channel, await login(emu.url))


def fetch(topic: str = "", n: int = 0, preset: str = "LATEST", replay: bytes = b"") -> Any:
    return pb.FetchRequest(
        topic_name=topic, num_requested=n, replay_preset=preset, replay_id=replay
    )


def trailers(exc: grpc.aio.AioRpcError) -> dict[str, str]:
    return {str(k): str(v) for k, v in exc.trailing_metadata() or ()}
