"""How the emulated CometD endpoint shapes its replies: each echoes the message's channel
and ``id`` (reference §2), and a batch of them is one JSON array."""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

JSON = "application/json"

Message = dict[str, Any]


def reply(msg: Message, **fields: Any) -> Message:
    """A reply to ``msg``: its channel and id, then ``fields`` in the order given."""
    out: Message = {"channel": msg.get("channel")}
    if "id" in msg:
        out["id"] = msg["id"]
    out.update(fields)
    return out


def json_response(payload: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(payload), status=status, content_type=JSON)
