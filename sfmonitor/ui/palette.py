"""The window's own colours, in one place (each readable on light and dark backgrounds)."""

from __future__ import annotations

ERROR = "#cf222e"
WARNING = "#9a6700"
LIVE = "#1a7f37"
PENDING = "#b07d00"
MUTED = "#6e7781"
