"""Browser login: the OAuth 2.0 web-server flow with PKCE and a loopback redirect.

sfmonitor is a public client: the user gives the consumer key of their External Client App
(callback ``http://localhost:1717/OauthRedirect``, scopes ``api refresh_token``, PKCE
required, no secret). The flow:

1. a fresh verifier, challenge and ``state`` (``pkce``), a receiver on 127.0.0.1 (``loopback``);
2. the authorize URL, opened in the system browser and shown to copy;
3. the browser comes back to the receiver with a code (or an error), ``state`` checked;
4. the code and the verifier are exchanged for tokens at the token endpoint.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import webbrowser
from collections.abc import Awaitable, Callable
from urllib.parse import quote, urlencode

from ..streaming.errors import AuthenticationError
from .errors import WEB, BrowserLoginError, explain
from .http import OAuthHttp
from .loopback import DEFAULT_PATH, DEFAULT_PORT, Answer, LoopbackReceiver
from .pkce import Pkce
from .tokens import Tokens, parse_tokens

log = logging.getLogger(__name__)

DEFAULT_SCOPE = "api refresh_token"
DEFAULT_TIMEOUT = 300.0  # five minutes to log in in the browser

# url -> whether a browser could be asked to show it
OpenBrowser = Callable[[str], Awaitable[bool]]


async def system_browser(url: str) -> bool:
    """Open ``url`` with Python's ``webbrowser`` (so ``$BROWSER`` is honoured).

    ``webbrowser`` waits for a ``$BROWSER`` command to exit (a terminal browser may run
    for the whole login), so it runs on a daemon thread that never holds up the login or
    the program's exit; the answer is whether the browser started without an error.
    """
    loop = asyncio.get_running_loop()
    started: asyncio.Future[bool] = loop.create_future()

    def settle(ok: bool) -> None:
        if not started.done():
            started.set_result(ok)

    def run() -> None:
        try:
            ok = webbrowser.open(url)
        except Exception:  # a broken $BROWSER entry must not end the login
            log.warning("could not start the web browser", exc_info=True)
            ok = False
        with contextlib.suppress(RuntimeError):  # the loop may be gone by now
            loop.call_soon_threadsafe(settle, ok)

    threading.Thread(target=run, name="sfmonitor-browser", daemon=True).start()
    return await started


class WebLogin:
    """One browser login. ``start()`` returns the authorize URL to open; ``finish()``
    waits for the browser and returns the tokens.

    Split in two so that a window can show the URL (and a Cancel button) while waiting,
    and so that tests can register the receiver's URL with the emulator's app.
    """

    def __init__(
        self,
        login_url: str,
        client_id: str,
        *,
        port: int = DEFAULT_PORT,
        path: str = DEFAULT_PATH,
        scope: str = DEFAULT_SCOPE,
        timeout: float = DEFAULT_TIMEOUT,
        http: OAuthHttp | None = None,
    ) -> None:
        self.login_url = login_url.rstrip("/")
        self.client_id = client_id
        self.scope = scope
        self.timeout = timeout
        self.http = http or OAuthHttp()
        self._pkce = Pkce()
        self.receiver = LoopbackReceiver(self._pkce.state, port, path)

    def __repr__(self) -> str:
        return f"<WebLogin {self.login_url} via {self.receiver.redirect_uri}>"

    @property
    def redirect_uri(self) -> str:
        return self.receiver.redirect_uri

    @property
    def authorize_url(self) -> str:
        query = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": self.scope,
            "state": self._pkce.state,
            "code_challenge": self._pkce.challenge,
            "code_challenge_method": self._pkce.method,
            "prompt": "login",
        }
        return f"{self.login_url}/services/oauth2/authorize?{urlencode(query, quote_via=quote)}"

    async def start(self) -> str:
        """Listen for the browser's answer; the authorize URL to open."""
        await self.receiver.start()
        return self.authorize_url

    async def finish(self) -> Tokens:
        """Wait for the browser (``timeout``), then exchange the code for tokens."""
        try:
            answer = await self.receiver.wait(self.timeout)
        finally:
            await self.receiver.close()
        return await self.exchange(_code_of(answer))

    async def exchange(self, code: str) -> Tokens:
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "code_verifier": self._pkce.verifier,
        }
        try:
            data = await self.http.post_form(f"{self.login_url}/services/oauth2/token", form)
        except AuthenticationError as exc:
            raise explain(WEB, exc) from None
        return parse_tokens(data, self.login_url)

    async def close(self) -> None:
        await self.receiver.close()

    async def __aenter__(self) -> WebLogin:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def _code_of(answer: Answer) -> str:
    """The code of an answer, or the error it carries, in words."""
    if answer.code:
        return answer.code
    if answer.error == "state_mismatch":
        raise BrowserLoginError(
            "state_mismatch",
            "the browser came back with an answer that does not belong to this login",
            hint="Start the login again and finish it in the newest browser tab",
        )
    if answer.error == "access_denied":
        raise BrowserLoginError(
            "access_denied",
            answer.description or "the login was denied in the browser",
            hint="Start the login again and choose Allow to let sfmonitor read the org's events",
        )
    refused = explain(WEB, AuthenticationError(answer.error or "error", answer.description))
    raise BrowserLoginError(refused.error, refused.description, hint=refused.hint)
