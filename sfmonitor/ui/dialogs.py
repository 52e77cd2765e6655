"""Dialogs: a connection profile, a channel. Problems are shown inline, next to the field."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from sfmonitor.store import AuthKind, Environment, Profile, Secrets
from sfmonitor.store.models import PRODUCTION_URL, SANDBOX_URL
from sfmonitor.store.validation import CHANNEL_EXAMPLES, channel_name_problem

from . import theme


def _error_label() -> QLabel:
    label = QLabel()
    label.setStyleSheet(f"color: {theme.ERROR}")
    label.setWordWrap(True)
    label.setTextFormat(label.textFormat().PlainText)
    label.hide()
    return label


def _secret_field() -> QLineEdit:
    field = QLineEdit()
    field.setEchoMode(QLineEdit.EchoMode.Password)
    return field


class ProfileDialog(QDialog):
    """Where to log in and how. Secrets go to the keyring (or stay in memory if asked)."""

    def __init__(
        self,
        parent: QWidget | None = None,
        profile: Profile | None = None,
        keyring_problem: str = "",
        *,
        taken_names: frozenset[str] = frozenset(),
        secrets_stored: bool = False,
        title: str = "Connect to an org",
    ) -> None:
        """``taken_names``: names another profile has. ``secrets_stored``: empty secret
        fields keep the secrets already in the keyring (editing a profile)."""
        super().__init__(parent)
        self.setWindowTitle(title)
        self.taken_names = taken_names
        self.secrets_stored = secrets_stored
        self._make_fields(profile, keyring_problem)
        self._lay_out()
        self._fill(profile)
        self.environment.currentIndexChanged.connect(lambda _i: self._update())
        self.password_auth.toggled.connect(lambda _on: self._update())
        self._update()

    def _make_fields(self, profile: Profile | None, keyring_problem: str) -> None:
        self.name = QLineEdit(profile.name if profile else "")
        self.environment = QComboBox()
        self.environment.addItem("Production (login.salesforce.com)", Environment.PRODUCTION)
        self.environment.addItem("Sandbox (test.salesforce.com)", Environment.SANDBOX)
        self.environment.addItem("My Domain or another login URL", Environment.CUSTOM)
        self.login_url = QLineEdit()
        self.login_url.setPlaceholderText("https://acme.my.salesforce.com")
        self.password_auth = QRadioButton("Username and password")
        self.token_auth = QRadioButton("Refresh token")
        group = QButtonGroup(self)
        group.addButton(self.password_auth)
        group.addButton(self.token_auth)
        self.username = QLineEdit(profile.username if profile else "")
        self.password = _secret_field()
        self.security_token = _secret_field()
        self.security_token.setPlaceholderText("appended to the password, if your org needs one")
        self.refresh_token = _secret_field()
        self.client_id = QLineEdit(profile.client_id if profile else "")
        self.client_secret = _secret_field()
        self.session_only = QCheckBox("Keep the secrets for this session only (not in the keyring)")
        self.keyring_note = QLabel()
        self.keyring_note.setWordWrap(True)
        self.keyring_note.setTextFormat(Qt.TextFormat.PlainText)
        self.keyring_note.hide()
        if keyring_problem:
            self.show_keyring_problem(keyring_problem)
        self.errors = _error_label()
        self.production_note = QLabel("This is a production org.")
        self.production_note.setStyleSheet(f"color: {theme.colors().production}; font-weight: bold")

    def _lay_out(self) -> None:
        form = QFormLayout()
        form.addRow("Name", self.name)
        form.addRow("Org", self.environment)
        form.addRow("Login URL", self.login_url)
        form.addRow("", self.production_note)
        form.addRow("Sign in with", self.password_auth)
        form.addRow("", self.token_auth)
        form.addRow("Username", self.username)
        form.addRow("Password", self.password)
        form.addRow("Security token", self.security_token)
        form.addRow("Refresh token", self.refresh_token)
        form.addRow("Consumer key", self.client_id)
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
        (
            self.token_auth
            if profile and profile.auth_kind is AuthKind.REFRESH_TOKEN
            else self.password_auth
        ).setChecked(True)
        if self.secrets_stored:
            for field in (self.password, self.refresh_token, self.client_secret):
                field.setPlaceholderText("unchanged (kept in the keyring)")

    def show_keyring_problem(self, text: str) -> None:
        """The keyring refused the secrets: say so, offer this session only, keep the input."""
        self.keyring_note.setText(text)
        self.keyring_note.show()
        self.session_only.setChecked(True)

    def _env(self) -> Environment:
        return Environment(self.environment.currentData())  # Qt hands back a plain str

    def _update(self) -> None:
        env = self._env()
        self.login_url.setEnabled(env is Environment.CUSTOM)
        if env is Environment.PRODUCTION:
            self.login_url.setText(PRODUCTION_URL)
        elif env is Environment.SANDBOX:
            self.login_url.setText(SANDBOX_URL)
        self.production_note.setVisible(env is Environment.PRODUCTION)
        password = self.password_auth.isChecked()
        for field in (self.username, self.password, self.security_token):
            field.setEnabled(password)
        self.refresh_token.setEnabled(not password)

    def problems(self) -> list[str]:
        found = []
        name = self.name.text().strip()
        if not name:
            found.append("Give the profile a name.")
        elif name in self.taken_names:
            found.append(f"Another profile is named {name!r}: choose another name.")
        elif len(name) > 100 or not name.isprintable():
            found.append("The name must be at most 100 printable characters.")
        url = self.login_url.text().strip()
        if not url.startswith(("https://", "http://")) or len(url) < 10 or " " in url:
            found.append("The login URL must look like https://acme.my.salesforce.com.")
        kept = self.secrets_stored
        if self.password_auth.isChecked():
            if not self.username.text().strip():
                found.append("Enter the username.")
            if not self.password.text() and not kept:
                found.append("Enter the password.")
        elif not self.refresh_token.text() and not kept:
            found.append("Enter the refresh token.")
        if not self.client_id.text().strip():
            found.append("Enter the connected app's consumer key.")
        if not self.client_secret.text() and not kept:
            found.append("Enter the connected app's consumer secret.")
        return found

    def _accept(self) -> None:
        found = self.problems()
        self.errors.setText("\n".join(found))
        self.errors.setVisible(bool(found))
        if not found:
            self.accept()

    def result_profile(
        self, existing_id: int | None = None, stored: Secrets | None = None
    ) -> tuple[Profile, Secrets]:
        """The profile and its secrets; a secret field left empty takes ``stored``'s."""
        password = self.password_auth.isChecked()
        profile = Profile(
            self.name.text().strip(),
            self._env(),
            self.login_url.text().strip().rstrip("/"),
            AuthKind.PASSWORD if password else AuthKind.REFRESH_TOKEN,
            self.username.text().strip() if password else "",
            self.client_id.text().strip(),
            id=existing_id,
        )
        before = stored or Secrets()
        typed_password = self.password.text() + self.security_token.text()
        secrets = Secrets(
            password=(typed_password or before.password) if password else "",
            client_secret=self.client_secret.text() or before.client_secret,
            refresh_token="" if password else (self.refresh_token.text() or before.refresh_token),
        )
        return profile, secrets


class ChannelDialog(QDialog):
    """Add a channel: its name is checked as it is typed; examples of each kind are shown."""

    def __init__(
        self, parent: QWidget | None = None, existing: frozenset[str] = frozenset()
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Add a channel")
        self.existing = existing
        self.channel = QLineEdit()
        self.channel.setPlaceholderText("/event/Order_Placed__e")
        self.replay = QComboBox()
        self.replay.addItem("New events only", "new")
        self.replay.addItem("Every retained event (last 24-72 hours)", "all")
        examples = QLabel("Examples: " + ", ".join(CHANNEL_EXAMPLES))
        examples.setWordWrap(True)
        self.errors = _error_label()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self._accept)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow("Channel", self.channel)
        form.addRow("Start with", self.replay)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(examples)
        layout.addWidget(self.errors)
        layout.addWidget(self.buttons)
        self.channel.textChanged.connect(lambda _t: self._check(show_empty=False))

    def _check(self, show_empty: bool) -> bool:
        text = self.channel.text().strip()
        problem = channel_name_problem(text) if text or show_empty else None
        if problem is None and text in self.existing:
            problem = f"{text} is already in this profile."
        self.errors.setText(problem or "")
        self.errors.setVisible(problem is not None)
        return problem is None and bool(text)

    def _accept(self) -> None:
        if self._check(show_empty=True):
            self.accept()

    def value(self) -> tuple[str, str]:
        return self.channel.text().strip(), str(self.replay.currentData())


def remove_channel_box(
    parent: QWidget, channel: str
) -> tuple[QMessageBox, QAbstractButton, QAbstractButton]:
    """Stop capturing a channel: keep its events, or delete them too (Cancel: neither)."""
    box = QMessageBox(parent)
    box.setWindowTitle("Remove channel")
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setText(f"Stop capturing {channel}?")
    box.setInformativeText("Its captured events are kept unless you delete them too.")
    keep = box.addButton("Remove, keep events", QMessageBox.ButtonRole.AcceptRole)
    drop = box.addButton("Remove and delete events", QMessageBox.ButtonRole.DestructiveRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(keep)
    return box, keep, drop
