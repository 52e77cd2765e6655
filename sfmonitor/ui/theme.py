"""Light, dark or the system's colour scheme, and every colour the window paints itself.

Qt follows the system's scheme where the platform can (``QStyleHints.colorScheme``);
where the platform style cannot (the offscreen platform, many Linux desktops, Windows'
classic style), the dark scheme is the Fusion style with ``dark_palette()``. Which scheme
is on screen is read from the application's palette, so ``colors()`` always matches what
the widgets paint, whoever set the palette.

``Colors`` holds the window's own colours (status, JSON highlighting, gap rows, production
marks, the timeline), one set per scheme. It succeeds ``palette.py``: ``theme.ERROR``,
``WARNING``, ``LIVE``, ``PENDING`` and ``MUTED`` give the current scheme's values, and
``from .theme import ERROR`` the value at import (the light one: palette's, with PENDING
darkened to a readable 5:1 on white).

Widgets that paint with ``colors()`` repaint on ``QEvent.PaletteChange`` (Qt sends it to
every widget when the palette changes); ``ThemeManager.changed`` is for code that keeps
colours in items (a list's foreground, a highlighter's formats).
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory

THEMES = ("light", "dark", "system")
DARK_LIGHTNESS = 128  # a window colour darker than this is a dark scheme


@dataclass(frozen=True)
class Colors:
    """The window's own colours for one scheme (hex text, as style sheets take)."""

    dark: bool
    text: str  # a list item's default foreground
    error: str
    warning: str
    live: str
    pending: str
    muted: str
    production: str  # production marks (title, status bar, profile form)
    gap_background: str  # a gap row in the table
    json_string: str
    json_key: str
    json_number: str
    json_literal: str
    json_record_id: str
    find_match: str  # background of every match of a find
    find_current: str  # background of the current match
    changed_background: str  # a changed field in the CDC view
    timeline_background: str
    timeline_grid: str
    timeline_gap: str
    timeline_selection: str  # #aarrggbb: the dragged range, over the bars
    chip_border: str  # #aarrggbb: the edge of a channel chip

    # palette.py's names
    @property
    def ERROR(self) -> str:
        return self.error

    @property
    def WARNING(self) -> str:
        return self.warning

    @property
    def LIVE(self) -> str:
        return self.live

    @property
    def PENDING(self) -> str:
        return self.pending

    @property
    def MUTED(self) -> str:
        return self.muted


LIGHT = Colors(
    dark=False,
    text="#24292f",
    error="#cf222e",
    warning="#9a6700",
    live="#1a7f37",
    pending="#8a6a00",
    muted="#6e7781",
    production="#bc4c00",
    gap_background="#fde2e1",
    json_string="#0a3069",
    json_key="#8250df",
    json_number="#0550ae",
    json_literal="#cf222e",
    json_record_id="#1a7f37",
    find_match="#fff1a8",
    find_current="#ffd6a5",
    changed_background="#fff8c5",
    timeline_background="#f6f8fa",
    timeline_grid="#d0d7de",
    timeline_gap="#cf222e",
    timeline_selection="#403d8bfd",
    chip_border="#50000000",
)
DARK = Colors(
    dark=True,
    text="#e6edf3",
    error="#ff7b72",
    warning="#d29922",
    live="#3fb950",
    pending="#e3b341",
    muted="#8b949e",
    production="#f0883e",
    gap_background="#5c1f1f",
    json_string="#a5d6ff",
    json_key="#d2a8ff",
    json_number="#79c0ff",
    json_literal="#ff7b72",
    json_record_id="#7ee787",
    find_match="#3d3a00",
    find_current="#6b3f00",
    changed_background="#3b3517",
    timeline_background="#161b22",
    timeline_grid="#30363d",
    timeline_gap="#ff7b72",
    timeline_selection="#5058a6ff",
    chip_border="#70ffffff",
)
_PALETTE_NAMES = {"ERROR", "WARNING", "LIVE", "PENDING", "MUTED"}


def contrast_ratio(first: str, second: str) -> float:
    """WCAG 2 contrast ratio of two colours (1 to 21; text wants 4.5, marks 3)."""

    def luminance(text: str) -> float:
        color = QColor(text)

        def channel(value: float) -> float:
            return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

        r, g, b = (channel(v) for v in (color.redF(), color.greenF(), color.blueF()))
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    high, low = sorted((luminance(first), luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def is_dark(palette: QPalette | None = None) -> bool:
    """Is ``palette`` (the application's by default) a dark scheme?"""
    palette = palette if palette is not None else QGuiApplication.palette()
    return palette.color(QPalette.ColorRole.Window).lightness() < DARK_LIGHTNESS


def colors() -> Colors:
    """The colours of the scheme on screen now (light before a QApplication exists)."""
    if QGuiApplication.instance() is None:
        return LIGHT
    return DARK if is_dark() else LIGHT


def __getattr__(name: str) -> str:
    """``theme.ERROR`` etc.: palette.py's names, in the scheme on screen."""
    if name in _PALETTE_NAMES:
        return str(getattr(colors(), name.lower()))
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def parse_theme(text: str) -> str:
    """A theme name from a command line or settings; a clear error otherwise."""
    name = text.strip().lower()
    if name not in THEMES:
        raise ValueError(f"unknown theme {text!r}: choose one of {', '.join(THEMES)}")
    return name


def dark_palette() -> QPalette:
    """A dark palette for the Fusion style (GitHub-dark-like greys, readable contrast)."""
    p = QPalette()
    roles = QPalette.ColorRole
    for role, color in (
        (roles.Window, "#24292f"),
        (roles.WindowText, "#e6edf3"),
        (roles.Base, "#0d1117"),
        (roles.AlternateBase, "#161b22"),
        (roles.ToolTipBase, "#30363d"),
        (roles.ToolTipText, "#e6edf3"),
        (roles.PlaceholderText, "#8b949e"),
        (roles.Text, "#e6edf3"),
        (roles.Button, "#30363d"),
        (roles.ButtonText, "#e6edf3"),
        (roles.BrightText, "#ff7b72"),
        (roles.Light, "#484f58"),
        (roles.Midlight, "#3b424a"),
        (roles.Mid, "#2d333b"),
        (roles.Dark, "#161b22"),
        (roles.Shadow, "#010409"),
        (roles.Highlight, "#1f6feb"),
        (roles.HighlightedText, "#ffffff"),
        (roles.Link, "#58a6ff"),
        (roles.LinkVisited, "#bc8cff"),
    ):
        p.setColor(role, QColor(color))
    disabled = QPalette.ColorGroup.Disabled
    for role in (roles.WindowText, roles.Text, roles.ButtonText):
        p.setColor(disabled, role, QColor("#6e7681"))
    p.setColor(disabled, roles.Highlight, QColor("#30363d"))
    return p


class ThemeManager(QObject):
    """The theme of one application: ``set_theme`` applies a name of ``THEMES``; in
    "system" it follows the platform's scheme as it changes."""

    changed = Signal(bool)  # the scheme on screen changed: dark or not

    def __init__(self, app: QApplication) -> None:
        super().__init__(app)
        self.app = app
        self.name = "system"
        self._style = app.style().name()  # the platform's style, restored for its palette
        self._overridden = False  # our palette (and Fusion) are set, not the platform's
        self._dark = is_dark()
        app.styleHints().colorSchemeChanged.connect(self._scheme_changed)

    @property
    def dark(self) -> bool:
        return self._dark

    def set_theme(self, name: str) -> None:
        """Apply "light", "dark" or "system" (ValueError for anything else)."""
        self.name = parse_theme(name)
        hints = self.app.styleHints()
        if self.name == "system":
            hints.unsetColorScheme()
        else:  # platforms that can switch do it here; _ensure covers the others
            hints.setColorScheme(
                Qt.ColorScheme.Dark if self.name == "dark" else Qt.ColorScheme.Light
            )
        self._ensure(hints.colorScheme())

    def _scheme_changed(self, scheme: Qt.ColorScheme) -> None:
        if self.name == "system":
            self._ensure(scheme)

    def _wanted_dark(self, scheme: Qt.ColorScheme) -> bool:
        if self.name == "system":
            return scheme == Qt.ColorScheme.Dark
        return self.name == "dark"

    def _ensure(self, scheme: Qt.ColorScheme) -> None:
        """Make the palette on screen the scheme wanted, overriding the platform's only
        where it did not follow."""
        wanted = self._wanted_dark(scheme)
        if self._overridden:  # give the platform its palette back, then look again
            self.app.setPalette(QPalette())
            self.app.setStyle(self._style)
            self._overridden = False
        if is_dark(self.app.palette()) != wanted:
            style = QStyleFactory.create("Fusion")
            self.app.setStyle(style)
            self.app.setPalette(dark_palette() if wanted else style.standardPalette())
            self._overridden = True
        if wanted != self._dark:
            self._dark = wanted
            self.changed.emit(wanted)


def theme_manager(app: QApplication | None = None) -> ThemeManager:
    """The application's one manager (made, with nothing applied, if there is none)."""
    if app is None:
        instance = QApplication.instance()
        assert isinstance(instance, QApplication)
        app = instance
    manager = app.findChild(ThemeManager)
    if manager is None:
        manager = ThemeManager(app)
    return manager


def apply_theme(app: QApplication, name: str) -> ThemeManager:
    """Apply ``name`` ("light", "dark", "system") to ``app``; the app's one manager."""
    manager = theme_manager(app)
    manager.set_theme(name)
    return manager
