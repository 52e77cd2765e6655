"""The one-shot HTTP receiver on 127.0.0.1 where the browser brings back the login's answer.

It serves one path (``/OauthRedirect`` by default, the Salesforce CLI's), accepts the first
answer whose ``state`` matches, shows the browser tab a small page saying it can be closed,
and hands the code (or Salesforce's error) to whoever waits. Nothing of the answer is
logged: the code is a secret until it is exchanged.
"""

from __future__ import annotations

import asyncio
import errno
import html
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field

from aiohttp import web

from .errors import BrowserLoginError

log = logging.getLogger(__name__)

DEFAULT_PORT = 1717
DEFAULT_PATH = "/OauthRedirect"
PORT_SETTING = "the profile's callback port (--callback-port)"

_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>sfmonitor login</title>
<style>body{{font-family:sans-serif;margin:4em auto;max-width:34em;color:#222}}</style>
</head><body><h2>{title}</h2><p>{text}</p><p>You can close this tab.</p></body></html>
"""


@dataclass(frozen=True)
class Answer:
    """What the browser brought back: a code, or Salesforce's error."""

    code: str | None = field(repr=False, default=None)
    error: str | None = None
    description: str = ""


def page(title: str, text: str, status: int = 200) -> web.Response:
    body = _PAGE.format(title=html.escape(title), text=html.escape(text))
    return web.Response(
        text=body, status=status, content_type="text/html", headers={"Connection": "close"}
    )


class LoopbackReceiver:
    """``async with LoopbackReceiver(state, port) as r: answer = await r.wait(timeout)``.

    Port 0 picks a free port (tests); ``redirect_uri`` is then the one to register.
    """

    def __init__(self, state: str, port: int = DEFAULT_PORT, path: str = DEFAULT_PATH) -> None:
        self._state = state
        self.port = port
        self.path = path
        self._answer: asyncio.Future[Answer] | None = None
        self._runner: web.AppRunner | None = None

    def __repr__(self) -> str:
        return f"<LoopbackReceiver {self.redirect_uri}>"

    @property
    def redirect_uri(self) -> str:
        """The callback URL as registered in the app (``localhost``, as the CLI uses)."""
        return f"http://localhost:{self.port}{self.path}"

    async def start(self) -> None:
        """Listen on 127.0.0.1; BrowserLoginError naming the port when it is taken."""
        self._answer = asyncio.get_running_loop().create_future()
        app = web.Application()
        app.router.add_get(self.path, self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        try:
            await site.start()
        except OSError as exc:
            await self.close()
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                raise BrowserLoginError(
                    "port_in_use",
                    f"port {self.port} on 127.0.0.1 is in use by another program",
                    hint=f"Close it (another login in progress?) or choose another port in "
                    f"{PORT_SETTING}, and add http://localhost:PORT{self.path} to the "
                    "app's callback URLs",
                ) from None
            raise
        self.port = self._runner.addresses[0][1]
        log.debug("waiting for the browser on %s", self.redirect_uri)

    async def wait(self, timeout: float) -> Answer:
        """The browser's answer; BrowserLoginError after ``timeout`` seconds."""
        assert self._answer is not None, "start() first"
        try:
            return await asyncio.wait_for(asyncio.shield(self._answer), timeout)
        except TimeoutError:
            raise BrowserLoginError(
                "timeout",
                f"no answer from the browser within {_duration(timeout)}",
                hint="Start the login again and finish it in the browser",
            ) from None

    async def close(self) -> None:
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def __aenter__(self) -> LoopbackReceiver:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if self._answer is None or self._answer.done():
            return page("This login is finished", "Start a new login from sfmonitor.", 410)
        answer, response = self._read(request.query)
        # the page reaches the browser before the waiter closes this server
        await response.prepare(request)
        await response.write_eof()
        if answer is not None and not self._answer.done():
            self._answer.set_result(answer)
        return response

    def _read(self, query: Mapping[str, str]) -> tuple[Answer | None, web.Response]:
        state = query.get("state", "")
        error = query.get("error")
        # Salesforce may leave out ``state`` on an error; any other answer must carry ours
        if not secrets.compare_digest(state.encode(), self._state.encode()) and (
            state or not error
        ):
            text = "This answer does not belong to the login sfmonitor started."
            return Answer(error="state_mismatch"), page("Login refused", text, 400)
        if error:
            description = query.get("error_description", "")
            text = f"Salesforce answered: {error} {description}"
            return Answer(error=error, description=description), page("Login not completed", text)
        code = query.get("code")
        if not code:
            return None, page("Login not completed", "The answer holds no code.", 400)
        return Answer(code=code), page("You are logged in", "sfmonitor has received the login.")


def _duration(seconds: float) -> str:
    """``5 minutes`` for the default, ``0.2 seconds`` for a test's."""
    if seconds >= 60 and seconds % 60 == 0:
        minutes = int(seconds // 60)
        return f"{minutes} minute" + ("s" if minutes != 1 else "")
    return f"{seconds:g} seconds"
