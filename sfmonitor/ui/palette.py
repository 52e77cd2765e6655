"""Superseded by ``theme`` (colours for the light and the dark scheme); kept so that code
written against it still imports. ``theme.ERROR`` etc. give the scheme on screen; these
names are the light values, fixed at import."""

from __future__ import annotations

from .theme import ERROR, LIVE, MUTED, PENDING, WARNING

__all__ = ["ERROR", "LIVE", "MUTED", "PENDING", "WARNING"]
