"""Why a login failed, in words a user can act on.

Salesforce's ``error``/``error_description`` stay verbatim (they are what a search or an
administrator recognises); ``hint`` adds what to do about it. Nothing here ever holds a
secret: the texts come from Salesforce's error JSON or from this module.
"""

from __future__ import annotations

from ..streaming.connectors import PASSWORD_REFUSED_HINT
from ..streaming.errors import AuthenticationError

# Where a refused login came from; the same words are the profile's auth kinds.
WEB, REFRESH, JWT, CLIENT_CREDENTIALS, PASSWORD, SF_CLI = (
    "web",
    "refresh-token",
    "jwt",
    "client-credentials",
    "password",
    "sf-cli",
)


class LoginError(AuthenticationError):
    """A login that failed for a reason the user must act on; ``hint`` says how."""


class LoginRequired(LoginError):
    """The saved login stopped working (revoked or expired): an interactive login is needed."""


class BrowserLoginError(LoginError):
    """The browser part of a web login failed: denied, wrong state, port in use, timeout."""


def relogin_command(profile: str | None) -> str:
    return f"sfmonitor profiles login {profile or 'PROFILE'}"


_APP_KEY = (
    "Salesforce does not know this consumer key: copy it again from the app's OAuth "
    "settings (a new app can take up to 10 minutes to be known)"
)
_NEEDS_SECRET = {
    WEB: "The app requires a consumer secret for the web-server flow, and sfmonitor logs in "
    "as a public client without one: in the app's OAuth settings turn off 'Require secret "
    "for Web Server Flow' and 'Require secret for Refresh Token Flow' (keep PKCE required)",
    REFRESH: "The app requires a consumer secret to refresh: turn off 'Require secret for "
    "Refresh Token Flow' in its OAuth settings, or use a refresh-token profile with a secret",
}
_BY_DESCRIPTION: dict[tuple[str, str], str] = {
    (WEB, "invalid code verifier"): "Salesforce did not accept the PKCE verifier: start the "
    "login again",
    (WEB, "expired authorization code"): "The browser's answer came too late or was used "
    "already: start the login again",
    (WEB, "invalid authorization code"): "The browser's answer came too late or was used "
    "already: start the login again",
    (JWT, "user hasn't approved this consumer"): "The user is not pre-authorized for this "
    "app: set its policy to 'Admin approved users are pre-authorized' and add the user's "
    "profile or a permission set (the user must also have logged in to the org once)",
    (JWT, "invalid assertion"): "Salesforce did not accept the signed assertion: upload the "
    "certificate of this key file to the app ('Use digital signatures') and check the "
    "consumer key and the username",
    (JWT, "audience validation failed"): "Use the login URL as audience: "
    "https://login.salesforce.com, https://test.salesforce.com or the org's My Domain URL",
    (JWT, "expired authorization code"): "Salesforce considers the assertion expired: check "
    "this computer's clock and time zone",
    (PASSWORD, "authentication failure"): PASSWORD_REFUSED_HINT,
    (CLIENT_CREDENTIALS, "no client credentials user enabled"): "Enable the Client "
    "Credentials Flow in the app and choose its 'Run As' user",
    (CLIENT_CREDENTIALS, "request not supported on this domain"): "The client credentials "
    "flow needs the org's My Domain URL as login URL (https://NAME.my.salesforce.com)",
}
_BY_ERROR = {
    "invalid_app_access": "An administrator must allow this app for your user (install it, "
    "or grant 'Approve Uninstalled Connected Apps')",
    "OAUTH_APP_ACCESS_DENIED": "The org does not let your user use this app (its Permitted "
    "Users policy, its IP restrictions or your profile): ask an administrator",
    "OAUTH_APP_BLOCKED": "This app is blocked in the org: ask an administrator",
    "inactive_user": "This Salesforce user is deactivated",
    "inactive_org": "The org is locked, closed or suspended",
    "rate_limit_exceeded": "Too many logins in a short time: wait a few minutes",
    "unsupported_grant_type": "This login URL does not offer this kind of login",
}


def explain(kind: str, exc: AuthenticationError, profile: str | None = None) -> LoginError:
    """The refusal ``exc`` of a ``kind`` login, as a LoginError carrying a hint.

    A refused refresh token means the saved login is gone: ``LoginRequired`` says which
    command logs in again.
    """
    if isinstance(exc, LoginError):
        return exc
    error, description = exc.error, exc.description
    if kind == REFRESH and error == "invalid_grant":
        hint = (
            "The saved login was revoked or has expired (an administrator, a password change "
            f"or the app's refresh-token policy): log in again with `{relogin_command(profile)}`"
        )
        return LoginRequired(error, description, exc.status, hint)
    hint = _BY_DESCRIPTION.get((kind, description.lower()), "")
    if not hint and error == "invalid_client_id":
        hint = _APP_KEY
    if not hint and error == "invalid_client" and kind in _NEEDS_SECRET:
        hint = _NEEDS_SECRET[kind]
    if not hint:
        hint = _BY_ERROR.get(error, "")
    return LoginError(error, description, exc.status, hint)
