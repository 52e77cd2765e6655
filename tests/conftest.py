"""Shared fixtures: a real emulator on 127.0.0.1:0 per test, and an in-memory keyring."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before any QApplication exists
