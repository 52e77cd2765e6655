"""Every error the streaming client raises, under one base. Messages never contain secrets.

    StreamingError                      catch this to catch everything the client raises
    ├── UsageError (+ ValueError)       an argument the client cannot use (``stale_replay``,
    │   │                               a ``replay`` value)
    │   └── MissingCredentialsError     a connector built without its credentials
    │         (+ TypeError)             (a TypeError, as in aio-sf-streaming)
    ├── ClientStateError                a call the client's state does not allow: ``start()``
    │                                   twice, ``subscribe()`` before ``start()``, a session
    │                                   used after it was closed or failed
    ├── AuthenticationError             the OAuth endpoint refused to issue a token
    │   └── InsecureEndpointError       a login URL or instance_url the client will not use
    │                                   (``sfmonitor.auth``'s LoginError also derives here)
    ├── TransportError                  the HTTP exchange failed
    │   ├── HttpStatusError             a status other than 200 (``status``, ``snippet``)
    │   ├── MalformedResponseError      a reply that is not a Bayeux message array
    │   ├── ResponseTooLargeError       a reply over its size limit (not read into memory)
    │   └── RedirectRefusedError        a redirect (never followed)
    ├── BayeuxError                     an unsuccessful Bayeux reply, the server's words
    └── ConnectionFailedError           the client gave up (auto-reconnect off, stopped while
                                        connecting)

``UsageError`` and ``MissingCredentialsError`` keep their built-in bases so that code
written for aio-sf-streaming (``except ValueError``, ``except TypeError``) still works.
"""

from __future__ import annotations


class StreamingError(Exception):
    """Base class of every error raised by ``sfmonitor.streaming``."""


class UsageError(StreamingError, ValueError):
    """An argument the client cannot use; the message names it and what it accepts."""


class MissingCredentialsError(UsageError, TypeError):
    """A connector was built without one of its credentials (the seed raises TypeError)."""


class ClientStateError(StreamingError):
    """The call is not allowed in the client's (or its session's) current state; the
    message says which state and what to do instead."""


class AuthenticationError(StreamingError):
    """The OAuth endpoint refused to issue a token (bad credentials, revoked refresh token).

    ``error``/``description`` are Salesforce's words; ``hint`` (optional) is sfmonitor's
    advice on what the user can do about it, appended to the message.
    """

    def __init__(
        self, error: str, description: str, status: int | None = None, hint: str = ""
    ) -> None:
        self.error = error
        self.description = description
        self.status = status
        self.hint = hint
        text = f"{error}: {description}" if description else error
        super().__init__(f"{text}. {hint}" if hint else text)


class InsecureEndpointError(AuthenticationError):
    """The login URL or the ``instance_url`` a login returned is refused: plain http off
    loopback, an https login handing over to http, or a host that is not Salesforce's (nor
    the login host, nor one of the client's ``trusted_hosts``). Nothing was sent there."""

    def __init__(self, description: str) -> None:
        super().__init__("insecure_endpoint", description)


class TransportError(StreamingError):
    """The HTTP exchange failed: connection refused or reset, timeout, bad status or body."""


class HttpStatusError(TransportError):
    def __init__(self, status: int, snippet: str) -> None:
        self.status = status
        self.snippet = snippet
        super().__init__(f"HTTP {status}: {snippet}" if snippet else f"HTTP {status}")


class MalformedResponseError(TransportError):
    """The server answered with something that is not a Bayeux message array."""


class ResponseTooLargeError(TransportError):
    """A response exceeded its size limit (decoded or not); it was not read into memory."""


class RedirectRefusedError(TransportError):
    """The server answered with a redirect; the client never follows one (it would re-send
    credentials or a token to an address nobody configured)."""


class BayeuxError(StreamingError):
    """An unsuccessful Bayeux reply. ``text`` is the server's ``error`` verbatim; ``code``,
    ``args_text`` and ``message`` are its three parts (see ``parse_error``)."""

    def __init__(
        self, text: str, failure_reason: str | None = None, channel: str | None = None
    ) -> None:
        self.text = text
        self.failure_reason = failure_reason
        self.channel = channel
        code, args, message = parse_error(text)
        self.code = code
        self.args_text = args
        self.message = message
        detail = f" (failureReason: {failure_reason})" if failure_reason else ""
        super().__init__(f"{text}{detail}")


class ConnectionFailedError(StreamingError):
    """The client gave up: auto-reconnect is off, or it was stopped while connecting. The
    message says why, quoting the server where it spoke."""


def parse_error(text: str) -> tuple[int | None, str, str]:
    """Split a Bayeux error ``code:args:message`` on its first two colons only.

    Messages contain colons themselves (``URI format: '/cometd/62.0'``), so taking "the text
    after the last colon" would truncate them (reference §4.1).
    """
    parts = text.split(":", 2)
    if len(parts) < 3:
        return None, "", text
    code_text, args, message = parts
    try:
        code = int(code_text)
    except ValueError:
        return None, "", text
    return code, args, message
