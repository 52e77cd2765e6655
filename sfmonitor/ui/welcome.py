"""The first page, shown when there is no profile yet: connect, or try the demo."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget


class Welcome(QWidget):
    """Shown on a first run, when there is no profile yet."""

    def __init__(self) -> None:
        super().__init__()
        title = QLabel("<h2>Welcome to sfmonitor</h2>")
        text = QLabel(
            "Watch PushTopics, Platform Events, Change Data Capture and generic streaming "
            "events as they arrive. Every event is stored, and capture resumes where it stopped."
        )
        text.setWordWrap(True)
        self.connect_button = QPushButton("Connect to an org…")
        self.demo_button = QPushButton("Try the demo")
        buttons = QHBoxLayout()
        buttons.addStretch()
        buttons.addWidget(self.connect_button)
        buttons.addWidget(self.demo_button)
        buttons.addStretch()
        layout = QVBoxLayout(self)
        layout.addStretch()
        layout.addWidget(title, alignment=Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(text)
        layout.addLayout(buttons)
        layout.addStretch()
