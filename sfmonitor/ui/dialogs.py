"""Dialogs: a channel, removing a channel (the connection profile's is in
``profile_dialog``). Problems are shown inline, next to the field."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from sfmonitor.store.transports import subscription_problem
from sfmonitor.store.validation import CHANNEL_EXAMPLES, channel_name_problem

from .fields import error_label
from .profile_dialog import ProfileDialog

__all__ = ["ChannelDialog", "ProfileDialog", "remove_channel_box"]


class ChannelDialog(QDialog):
    """Add a channel: its name is checked as it is typed; examples of each kind are shown.
    With ``transports``, the API that carries it can be chosen (the profile's by default)."""

    def __init__(
        self,
        parent: QWidget | None = None,
        existing: frozenset[str] = frozenset(),
        transports: bool = False,
        default_transport: str = "cometd",
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Add a channel")
        self.existing = existing
        self.channel = QLineEdit()
        self.channel.setPlaceholderText("/event/Order_Placed__e")
        self.replay = QComboBox()
        self.replay.addItem("New events only", "new")
        self.replay.addItem("Every retained event (last 24-72 hours)", "all")
        self.transport = QComboBox()
        shown = "Pub/Sub API" if default_transport == "pubsub" else "CometD"
        self.transport.addItem(f"Profile default ({shown})", "")
        self.transport.addItem("CometD (Streaming API)", "cometd")
        self.transport.addItem("Pub/Sub API (gRPC)", "pubsub")
        self.transport.setToolTip(
            "Pub/Sub carries platform events and Change Data Capture; PushTopic and "
            "generic channels are on CometD only."
        )
        examples = QLabel("Examples: " + ", ".join(CHANNEL_EXAMPLES))
        examples.setWordWrap(True)
        self.errors = error_label()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self._accept)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow("Channel", self.channel)
        form.addRow("Start with", self.replay)
        if transports:
            form.addRow("Transport", self.transport)
        self.transport.setVisible(transports)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(examples)
        layout.addWidget(self.errors)
        layout.addWidget(self.buttons)
        self.channel.textChanged.connect(lambda _t: self._check(show_empty=False))
        self.transport.currentIndexChanged.connect(lambda _i: self._check(show_empty=False))

    def _check(self, show_empty: bool) -> bool:
        text = self.channel.text().strip()
        problem = channel_name_problem(text) if text or show_empty else None
        if problem is None and text in self.existing:
            problem = f"{text} is already in this profile."
        if problem is None and text:
            problem = subscription_problem(text, str(self.transport.currentData()))
        self.errors.setText(problem or "")
        self.errors.setVisible(problem is not None)
        return problem is None and bool(text)

    def _accept(self) -> None:
        if self._check(show_empty=True):
            self.accept()

    def value(self) -> tuple[str, str]:
        return self.channel.text().strip(), str(self.replay.currentData())

    def chosen_transport(self) -> str:
        """``cometd``, ``pubsub``, or "" for the profile's."""
        return str(self.transport.currentData())


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
