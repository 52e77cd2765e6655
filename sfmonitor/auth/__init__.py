"""Logins: how sfmonitor gets a Salesforce access token, for every kind of profile.

No Qt, no store, no keyring: pure login mechanics. The window and the CLI call the
functions of ``login`` (``web_login``, ``sf_cli_login``, …); a running capture uses a token
source with ``sfmonitor.streaming.TokenSourceSalesforceStreaming``. Secrets only pass
through memory here: the caller keeps what must be kept (a refresh token) in the keyring.

Kinds: ``web`` (browser login with PKCE, the default), ``sf-cli`` (an org the Salesforce
CLI is logged in to), ``jwt`` (unattended, a certificate), ``client-credentials``
(integration user), and the legacy ``password`` and ``refresh-token`` connectors of
``sfmonitor.streaming``.
"""

from .errors import (
    CLIENT_CREDENTIALS,
    JWT,
    PASSWORD,
    REFRESH,
    SF_CLI,
    WEB,
    BrowserLoginError,
    LoginError,
    LoginRequired,
    explain,
)
from .http import OAuthHttp
from .identity import Identity, identify
from .login import (
    LoginResult,
    client_credentials_login,
    jwt_login,
    refresh_login,
    sf_cli_login,
    source_login,
    web_login,
)
from .loopback import DEFAULT_PATH, DEFAULT_PORT
from .sfcli import SfCli, SfCliSource, SfOrg, SfSession
from .sources import (
    ClientCredentialsSource,
    JwtSource,
    OAuthSource,
    PasswordSource,
    RefreshTokenSource,
)
from .tokens import Tokens
from .web import DEFAULT_SCOPE, DEFAULT_TIMEOUT, WebLogin, system_browser

__all__ = [
    "CLIENT_CREDENTIALS",
    "DEFAULT_PATH",
    "DEFAULT_PORT",
    "DEFAULT_SCOPE",
    "DEFAULT_TIMEOUT",
    "JWT",
    "PASSWORD",
    "REFRESH",
    "SF_CLI",
    "WEB",
    "BrowserLoginError",
    "ClientCredentialsSource",
    "Identity",
    "JwtSource",
    "LoginError",
    "LoginRequired",
    "LoginResult",
    "OAuthHttp",
    "OAuthSource",
    "PasswordSource",
    "RefreshTokenSource",
    "SfCli",
    "SfCliSource",
    "SfOrg",
    "SfSession",
    "Tokens",
    "WebLogin",
    "client_credentials_login",
    "explain",
    "identify",
    "jwt_login",
    "refresh_login",
    "sf_cli_login",
    "source_login",
    "system_browser",
    "web_login",
]
