""" "Log in with browser…" in the profile dialog: the browser login as a task on the
window's loop (capture and the window keep running while the user logs in), the address
shown to copy, a Cancel button, and the outcome or the refusal in words, inline."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from PySide6.QtCore import Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QPushButton, QVBoxLayout, QWidget

from sfmonitor.auth import LoginResult
from sfmonitor.capture.logins import browser_login, org_info
from sfmonitor.store import Profile
from sfmonitor.streaming import StreamingError

from .fields import error_label, note_label, show_error

log = logging.getLogger(__name__)


class BrowserLogin(QWidget):
    """``prepare`` gives the profile to log in (login URL, consumer key, callback port) or
    the problem that prevents it; ``result`` holds the last login that worked."""

    finished = Signal()  # a login ended (logged in, refused or cancelled)

    def __init__(self, prepare: Callable[[], Profile | str]) -> None:
        super().__init__()
        self.prepare = prepare
        self.result: LoginResult | None = None
        self.target: Profile | None = None  # what ``result`` logged in to
        self._task: asyncio.Task[None] | None = None
        self.button = QPushButton("Log in with browser…")
        self.button.setDefault(False)
        self.button.setAutoDefault(False)  # Enter accepts the dialog, never starts a login
        self.cancel_button = QPushButton("Cancel login")
        self.cancel_button.setAutoDefault(False)
        self.cancel_button.hide()
        self.url = QLineEdit()
        self.url.setReadOnly(True)
        self.url.setToolTip("Open this address in a browser if none opened")
        self.copy_button = QPushButton("Copy")
        self.copy_button.setAutoDefault(False)
        self.status = note_label()
        self.error = error_label()
        self.button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        self.copy_button.clicked.connect(self._copy)
        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        buttons.addWidget(self.button)
        buttons.addWidget(self.cancel_button)
        buttons.addStretch()
        self.address = QWidget()
        address = QHBoxLayout(self.address)
        address.setContentsMargins(0, 0, 0, 0)
        address.addWidget(self.url)
        address.addWidget(self.copy_button)
        self.address.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(buttons)
        layout.addWidget(self.address)
        layout.addWidget(self.status)
        layout.addWidget(self.error)
        self.status.hide()

    def _copy(self) -> None:
        QGuiApplication.clipboard().setText(self.url.text())

    def result_for(self, login_url: str, client_id: str) -> LoginResult | None:
        """The last login, if it was to this login URL with this consumer key (one made
        before they were changed in the form does not count)."""
        target = self.target
        if target is None or (target.login_url, target.client_id) != (login_url, client_id):
            return None
        return self.result

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Begin a browser login (the button)."""
        if self.running:
            return
        target = self.prepare()
        if isinstance(target, str):
            show_error(self.error, target)
            return
        self.result = self.target = None
        self._task = asyncio.ensure_future(self._run(target))

    def cancel(self) -> None:
        if self.running:
            assert self._task is not None
            self._task.cancel()

    async def stop(self) -> None:
        """Cancel a login under way and wait until its port is closed (the dialog ends)."""
        self.cancel()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self, target: Profile) -> None:
        self._busy(True, "Opening the browser…")
        try:
            result = await browser_login(target, on_url=self._show_url)
        except asyncio.CancelledError:
            self._busy(False, "Login cancelled.")
            return
        except StreamingError as exc:  # refused, denied, port in use, timeout: in words
            self._busy(False, "", str(exc))
            return
        except Exception as exc:  # a bug must say something, not leave a spinner
            log.exception("browser login failed")
            self._busy(False, "", f"{type(exc).__name__}: {exc}")
            return
        self.result, self.target = result, target
        org = org_info(result.identity).line() if result.identity else result.tokens.instance_url
        self._busy(False, f"Logged in as {org}")

    def _show_url(self, url: str) -> None:
        self.url.setText(url)
        self.url.setCursorPosition(0)
        self.address.show()
        self.status.setText(
            "Log in in the browser window that opened (or open the address above in one); "
            "sfmonitor waits 5 minutes."
        )

    def _busy(self, busy: bool, text: str, error: str = "") -> None:
        self.button.setEnabled(not busy)
        self.cancel_button.setVisible(busy)
        self.status.setText(text)
        self.status.setVisible(bool(text))
        show_error(self.error, error)
        if not busy:
            self.address.hide()
            self.finished.emit()  # the dialog fits itself to what is shown now
