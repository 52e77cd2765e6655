"""The connection profile's dialog: where to log in and how, with the browser login first.

The kinds (``AuthKind``) are offered as Salesforce recommends them today: the browser
login, an org of the Salesforce CLI, a certificate (JWT) and client credentials, then the
legacy password and refresh-token logins under their own heading. Each kind shows only
its fields. Secrets go to the keyring (or stay in memory if asked); an ``sf-cli`` or
``jwt`` profile keeps none (the CLI keeps its login; the key stays in its file).
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from sfmonitor.auth import LoginResult
from sfmonitor.capture.logins import org_info, secrets_after
from sfmonitor.store import AuthKind, Environment, OrgInfo, Profile, Secrets
from sfmonitor.store.models import DEFAULT_CALLBACK_PORT, PRODUCTION_URL, SANDBOX_URL

from .browser_login import BrowserLogin
from .fields import error_label, note_label, secret_field, show_error
from .modal import Dialogs
from .palette import MUTED, WARNING
from .sf_orgs import SfOrgPicker

KIND_LABELS = {
    AuthKind.WEB: "Browser (recommended): your usual Salesforce login",
    AuthKind.SF_CLI: "An org the Salesforce CLI (sf) is logged in to",
    AuthKind.JWT: "Certificate (JWT bearer), for unattended captures",
    AuthKind.CLIENT_CREDENTIALS: "Client credentials, for an integration user",
    AuthKind.PASSWORD: "Username and password",
    AuthKind.REFRESH_TOKEN: "Refresh token and consumer secret",
}
# which rows each kind shows (the name and "Sign in with" rows are always there)
ROWS = {
    "org": set(AuthKind) - {AuthKind.SF_CLI},
    "client_id": set(AuthKind) - {AuthKind.SF_CLI},
    "callback_port": {AuthKind.WEB},
    "browser": {AuthKind.WEB},
    "sf_org": {AuthKind.SF_CLI},
    "username": {AuthKind.JWT, AuthKind.PASSWORD},
    "key_file": {AuthKind.JWT},
    "password": {AuthKind.PASSWORD},
    "refresh_token": {AuthKind.REFRESH_TOKEN},
    "client_secret": {AuthKind.CLIENT_CREDENTIALS, AuthKind.PASSWORD, AuthKind.REFRESH_TOKEN},
}
KEY_FILES = "Private keys (*.key *.pem);;All files (*)"


class ProfileDialog(QDialog):
    """Where to log in and how. ``result_profile()`` gives the profile and its secrets."""

    def __init__(
        self,
        parent: QWidget | None = None,
        profile: Profile | None = None,
        keyring_problem: str = "",
        *,
        taken_names: frozenset[str] = frozenset(),
        secrets_stored: bool = False,
        title: str = "Connect to an org",
        settings: QSettings | None = None,
    ) -> None:
        """``taken_names``: names another profile has. ``secrets_stored``: empty secret
        fields keep the secrets already in the keyring (editing a profile)."""
        super().__init__(parent)
        self.setWindowTitle(title)
        self.original = profile
        self.taken_names = taken_names
        self.secrets_stored = secrets_stored
        self.dialogs = Dialogs(self, settings or QSettings())  # the key file's chooser
        self._tasks: set[asyncio.Task[None]] = set()
        self._make_fields(profile, keyring_problem)
        self._lay_out()
        self._fill(profile)
        self.environment.currentIndexChanged.connect(lambda _i: self._update())
        self.kinds.idToggled.connect(self._kind_toggled)
        self.browser.finished.connect(self._update)
        for field in (self.login_url, self.client_id):
            field.editingFinished.connect(self._update)
        self._update()

    # --- building ------------------------------------------------------------------------

    def _make_fields(self, profile: Profile | None, keyring_problem: str) -> None:
        self.name = QLineEdit(profile.name if profile else "")
        self.environment = QComboBox()
        self.environment.addItem("Production (login.salesforce.com)", Environment.PRODUCTION)
        self.environment.addItem("Sandbox (test.salesforce.com)", Environment.SANDBOX)
        self.environment.addItem("My Domain or another login URL", Environment.CUSTOM)
        self.login_url = QLineEdit()
        self.login_url.setPlaceholderText("https://acme.my.salesforce.com")
        self.production_note = QLabel("This is a production org.")
        self.production_note.setStyleSheet(f"color: {WARNING}; font-weight: bold")
        self.kinds = QButtonGroup(self)
        self.kind_buttons: dict[AuthKind, QRadioButton] = {}
        for number, kind in enumerate(AuthKind):
            button = QRadioButton(KIND_LABELS[kind])
            self.kinds.addButton(button, number)
            self.kind_buttons[kind] = button
        self.client_id = QLineEdit(profile.client_id if profile else "")
        self.client_id.setPlaceholderText("the consumer key of your app (3MVG9…)")
        self.callback_port = QSpinBox()
        self.callback_port.setRange(1, 65535)
        self.callback_port.setValue(profile.callback_port if profile else DEFAULT_CALLBACK_PORT)
        self.callback_port.setToolTip(
            "The app's callback URL must be http://localhost:PORT/OauthRedirect"
        )
        self.browser = BrowserLogin(self._browser_target)
        self.sf_org = SfOrgPicker(profile.sf_org if profile else "")
        self.username = QLineEdit(profile.username if profile else "")
        self.key_file = QLineEdit(profile.key_file if profile else "")
        self.key_file.setPlaceholderText("the private key (PEM) whose certificate the app has")
        self.choose_key = QPushButton("Choose…")
        self.choose_key.setAutoDefault(False)
        self.choose_key.clicked.connect(lambda: self._spawn(self._choose_key_file()))
        self.password = secret_field()
        self.security_token = secret_field()
        self.security_token.setPlaceholderText("appended to the password, if your org needs one")
        self.refresh_token = secret_field()
        self.client_secret = secret_field()
        self.session_only = QCheckBox("Keep the secrets for this session only (not in the keyring)")
        self.keyring_note = note_label()
        self.keyring_note.hide()
        if keyring_problem:
            self.show_keyring_problem(keyring_problem)
        self.errors = error_label()

    def _lay_out(self) -> None:
        form = self.form = QFormLayout()
        form.addRow("Name", self.name)
        form.addRow("Org", self.environment)
        form.addRow("Login URL", self.login_url)
        form.addRow("", self.production_note)
        kinds = QVBoxLayout()
        for kind in (AuthKind.WEB, AuthKind.SF_CLI, AuthKind.JWT, AuthKind.CLIENT_CREDENTIALS):
            kinds.addWidget(self.kind_buttons[kind])
        legacy = QLabel("Legacy (blocked or discouraged in new orgs)")
        legacy.setStyleSheet(f"color: {MUTED}")
        kinds.addSpacing(6)
        kinds.addWidget(legacy)
        for kind in (AuthKind.PASSWORD, AuthKind.REFRESH_TOKEN):
            kinds.addWidget(self.kind_buttons[kind])
        form.addRow("Sign in with", kinds)
        form.addRow("Consumer key", self.client_id)
        form.addRow("Callback port", self.callback_port)
        form.addRow("", self.browser)
        form.addRow("CLI org", self.sf_org)
        form.addRow("Username", self.username)
        self.key_row = QHBoxLayout()
        self.key_row.addWidget(self.key_file, 1)
        self.key_row.addWidget(self.choose_key)
        form.addRow("Key file", self.key_row)
        form.addRow("Password", self.password)
        form.addRow("Security token", self.security_token)
        form.addRow("Refresh token", self.refresh_token)
        form.addRow("Consumer secret", self.client_secret)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.session_only)
        layout.addWidget(self.keyring_note)
        layout.addWidget(self.errors)
        layout.addWidget(buttons)

    def _fill(self, profile: Profile | None) -> None:
        if profile is not None:
            index = self.environment.findData(profile.environment)
            self.environment.setCurrentIndex(max(index, 0))
            self.login_url.setText(profile.login_url)
        self.choose_kind(profile.auth_kind if profile else AuthKind.WEB)
        if self.secrets_stored:
            for field in (self.password, self.refresh_token, self.client_secret):
                field.setPlaceholderText("unchanged (kept in the keyring)")

    def _rows(self) -> dict[str, list[QWidget | QHBoxLayout]]:
        return {
            "org": [self.environment, self.login_url],
            "client_id": [self.client_id],
            "callback_port": [self.callback_port],
            "browser": [self.browser],
            "sf_org": [self.sf_org],
            "username": [self.username],
            "key_file": [self.key_row],
            "password": [self.password, self.security_token],
            "refresh_token": [self.refresh_token],
            "client_secret": [self.client_secret],
        }

    # --- state ---------------------------------------------------------------------------

    def kind(self) -> AuthKind:
        return list(AuthKind)[max(self.kinds.checkedId(), 0)]

    def choose_kind(self, kind: AuthKind) -> None:
        self.kind_buttons[kind].setChecked(True)

    def show_keyring_problem(self, text: str) -> None:
        """The keyring refused the secrets: say so, offer this session only, keep the input."""
        self.keyring_note.setText(text)
        self.keyring_note.show()
        self.session_only.setChecked(True)

    def _kind_toggled(self, _id: int, checked: bool) -> None:
        if checked:
            self._update()

    def _env(self) -> Environment:
        return Environment(self.environment.currentData())  # Qt hands back a plain str

    def _update(self) -> None:
        env, kind = self._env(), self.kind()
        self.login_url.setEnabled(env is Environment.CUSTOM)
        if env is Environment.PRODUCTION:
            self.login_url.setText(PRODUCTION_URL)
        elif env is Environment.SANDBOX:
            self.login_url.setText(SANDBOX_URL)
        for row, widgets in self._rows().items():
            for widget in widgets:
                self.form.setRowVisible(widget, kind in ROWS[row])
        production = kind in ROWS["org"] and self._org_kind() == "production"
        self.form.setRowVisible(self.production_note, production)
        self.session_only.setVisible(bool(kind.keyring_secrets))
        if kind is AuthKind.SF_CLI and not self.sf_org.loaded:
            self.sf_org.load()
        QTimer.singleShot(0, self, self.adjustSize)  # once the layout has taken the changes in

    def _org_kind(self) -> str:
        """What the org says it is (after a login here, or the profile's last one), else
        what the login URL says."""
        login = self._web_login()
        if self.kind() is AuthKind.WEB and login is not None and login.identity is not None:
            return login.identity.kind
        org = self._kept_org()
        if org.kind in ("production", "sandbox", "scratch"):
            return org.kind
        return "production" if self._env() is Environment.PRODUCTION else ""

    def _kept_org(self) -> OrgInfo:
        """The profile's last word from its org, while it still logs in to the same org."""
        before = self.original
        if before is None or before.auth_kind is not self.kind():
            return OrgInfo()
        if self.kind() is AuthKind.SF_CLI:
            return before.org if before.sf_org == self.sf_org.target() else OrgInfo()
        same = (before.login_url, before.client_id) == (self._url(), self.client_id.text().strip())
        return before.org if same else OrgInfo()

    def _url(self) -> str:
        return self.login_url.text().strip().rstrip("/")

    def _web_login(self) -> LoginResult | None:
        """The browser login made here, while the form still names its org and app."""
        return self.browser.result_for(self._url(), self.client_id.text().strip())

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _choose_key_file(self) -> None:
        path = await self.dialogs.open_path("The private key file", KEY_FILES)
        if path is not None:
            self.key_file.setText(str(path))

    async def close_tasks(self) -> None:
        """The dialog ends: a browser login, a CLI listing or a file choice under way stops."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, self.browser.stop(), self.sf_org.stop())

    # --- checking and the result ---------------------------------------------------------

    def _browser_target(self) -> Profile | str:
        """What "Log in with browser…" logs in to, or why it cannot yet."""
        found = self._where_problems() + self._client_problems()
        if found:
            return " ".join(found)
        return Profile(
            "login",
            self._env(),
            self._url(),
            AuthKind.WEB,
            client_id=self.client_id.text().strip(),
            callback_port=self.callback_port.value(),
        )

    def _where_problems(self) -> list[str]:
        url = self._url()
        if not url.startswith(("https://", "http://")) or len(url) < 10 or " " in url:
            return ["The login URL must look like https://acme.my.salesforce.com."]
        return []

    def _client_problems(self) -> list[str]:
        if not self.client_id.text().strip():
            return ["Enter the consumer key of your app."]
        return []

    def _kept(self) -> bool:
        """Empty secret fields keep the stored secrets (same kind as stored)."""
        before = self.original
        return self.secrets_stored and before is not None and before.auth_kind is self.kind()

    def problems(self) -> list[str]:
        found = []
        name = self.name.text().strip()
        if not name:
            found.append("Give the profile a name.")
        elif name in self.taken_names:
            found.append(f"Another profile is named {name!r}: choose another name.")
        elif len(name) > 100 or not name.isprintable():
            found.append("The name must be at most 100 printable characters.")
        kind = self.kind()
        if kind is not AuthKind.SF_CLI:
            found += self._where_problems() + self._client_problems()
        return found + self._kind_problems(kind)

    def _kind_problems(self, kind: AuthKind) -> list[str]:
        kept, found = self._kept(), []
        logged_in = self._web_login() is not None or (kept and self._kept_org().org_id)
        if kind is AuthKind.WEB and not logged_in:
            again = " again (the org or the app changed)" if self.browser.result else ""
            found.append(f"Log in with the browser (the button above){again} first.")
        if kind is AuthKind.SF_CLI and not self.sf_org.target():
            found.append("Choose an org of the Salesforce CLI.")
        if kind in (AuthKind.JWT, AuthKind.PASSWORD) and not self.username.text().strip():
            found.append("Enter the username.")
        if kind is AuthKind.JWT and not Path(self.key_file.text().strip()).is_file():
            found.append("Choose the private key file (it must exist).")
        if kind is AuthKind.PASSWORD and not (self.password.text() or kept):
            found.append("Enter the password.")
        if kind is AuthKind.REFRESH_TOKEN and not (self.refresh_token.text() or kept):
            found.append("Enter the refresh token.")
        if kind in ROWS["client_secret"] and not (self.client_secret.text() or kept):
            found.append("Enter the consumer secret of your app.")
        return found

    def _accept(self) -> None:
        found = self.problems()
        show_error(self.errors, "\n".join(found))
        if not found:
            self.accept()

    def result_profile(
        self, existing_id: int | None = None, stored: Secrets | None = None
    ) -> tuple[Profile, Secrets]:
        """The profile and its secrets; a secret field left empty takes ``stored``'s."""
        kind = self.kind()
        base = self.original or Profile("", Environment.CUSTOM, "")
        env, url = self._env(), self._url()
        if kind is AuthKind.SF_CLI:
            env = Environment.CUSTOM
            url = self.sf_org.instance_url() or (base.login_url if self._kept_org().org_id else "")
        profile = replace(
            base,
            name=self.name.text().strip(),
            environment=env,
            login_url=url,
            auth_kind=kind,
            username=self.username.text().strip() if kind in ROWS["username"] else "",
            client_id=self.client_id.text().strip() if kind in ROWS["client_id"] else "",
            id=existing_id,
            callback_port=self.callback_port.value(),
            sf_org=self.sf_org.target() if kind is AuthKind.SF_CLI else "",
            key_file=self.key_file.text().strip() if kind is AuthKind.JWT else "",
            org=self._kept_org(),
        )
        before = stored if self._kept() and stored is not None else Secrets()
        typed = Secrets(
            password=(self.password.text() + self.security_token.text()) or before.password,
            client_secret=self.client_secret.text() or before.client_secret,
            refresh_token=self.refresh_token.text() or before.refresh_token,
        )
        keep = {key: getattr(typed, key) for key in kind.keyring_secrets}
        secrets = Secrets(**keep)
        login = self._web_login()
        if kind is AuthKind.WEB and login is not None:
            secrets = secrets_after(profile, secrets, login)
            if login.identity is not None:
                profile = replace(profile, org=org_info(login.identity))
        return profile, secrets
