"""The theme: light, dark and the system's scheme on real widgets (offscreen, where the
platform cannot switch, so the Fusion dark palette is what applies)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QLabel, QWidget

from sfmonitor.ui import theme
from sfmonitor.ui.theme import DARK, LIGHT, ThemeManager, apply_theme, colors, contrast_ratio

FOREGROUNDS = (
    "text",
    "error",
    "warning",
    "live",
    "pending",
    "muted",
    "production",
    "json_string",
    "json_key",
    "json_number",
    "json_literal",
    "json_record_id",
)


@pytest.fixture
def manager(qapp: QApplication) -> Iterator[ThemeManager]:
    original = qapp.palette().color(QPalette.ColorRole.Window).name()
    yield apply_theme(qapp, "light")
    apply_theme(qapp, "system")  # offscreen's scheme is unknown: the platform's palette
    qapp.processEvents()
    assert qapp.palette().color(QPalette.ColorRole.Window).name() == original


def window_color(widget: QWidget) -> QColor:
    return widget.grab().toImage().pixelColor(1, 1)


def test_dark_and_light_switch_the_palette_and_the_colours(
    manager: ThemeManager, qapp: QApplication, qtbot: Any
) -> None:
    widget = QLabel("x")
    qtbot.addWidget(widget)
    widget.resize(40, 20)
    seen: list[bool] = []
    manager.changed.connect(seen.append)
    light = window_color(widget)
    assert light.lightness() > 200 and colors() is LIGHT and LIGHT.error == theme.ERROR

    apply_theme(qapp, "dark")
    qapp.processEvents()  # the widgets' PaletteChange
    assert window_color(widget).lightness() < 60
    assert colors() is DARK and manager.dark and DARK.error == theme.ERROR
    assert qapp.style().name().lower() == "fusion"

    apply_theme(qapp, "light")
    qapp.processEvents()
    assert window_color(widget) == light and colors() is LIGHT
    assert seen == [True, False]


def test_system_follows_the_platform_scheme_as_it_changes(
    manager: ThemeManager, qapp: QApplication, qtbot: Any
) -> None:
    class Watcher(QWidget):
        palette_changes = 0

        def changeEvent(self, event: QEvent) -> None:
            if event.type() == QEvent.Type.PaletteChange:
                Watcher.palette_changes += 1
            super().changeEvent(event)

    widget = Watcher()
    qtbot.addWidget(widget)
    apply_theme(qapp, "system")
    assert not manager.dark
    hints = qapp.styleHints()
    hints.colorSchemeChanged.emit(Qt.ColorScheme.Dark)  # as the platform does
    qapp.processEvents()
    assert manager.dark and colors() is DARK and Watcher.palette_changes >= 1
    hints.colorSchemeChanged.emit(Qt.ColorScheme.Light)
    qapp.processEvents()
    assert not manager.dark and colors() is LIGHT
    apply_theme(qapp, "dark")
    hints.colorSchemeChanged.emit(Qt.ColorScheme.Light)  # not followed: the user chose dark
    assert manager.dark


def test_one_manager_per_application(manager: ThemeManager, qapp: QApplication) -> None:
    assert apply_theme(qapp, "dark") is manager
    assert qapp.findChildren(ThemeManager) == [manager]


def test_a_wrong_name_is_refused_clearly(manager: ThemeManager) -> None:
    with pytest.raises(ValueError, match="unknown theme 'blue': choose one of light, dark, system"):
        manager.set_theme("blue")
    assert manager.name == "light"
    assert theme.parse_theme(" Dark ") == "dark"
    with pytest.raises(AttributeError):
        _ = theme.NOT_A_COLOUR


@pytest.mark.parametrize("scheme", [LIGHT, DARK], ids=["light", "dark"])
def test_every_colour_is_readable_in_its_scheme(scheme: theme.Colors) -> None:
    base = "#0d1117" if scheme.dark else "#ffffff"
    assert (theme.dark_palette().color(QPalette.ColorRole.Base).name() == base) == scheme.dark
    for name in FOREGROUNDS:
        value = getattr(scheme, name)
        assert contrast_ratio(value, base) >= 4.5, name
        assert contrast_ratio(value, scheme.timeline_background) >= 3.0, name
    assert contrast_ratio(scheme.text, scheme.gap_background) >= 4.5
    assert contrast_ratio(scheme.text, scheme.changed_background) >= 4.5
    for name in FOREGROUNDS[7:]:  # JSON text over a find match
        for background in (scheme.find_match, scheme.find_current):
            assert contrast_ratio(getattr(scheme, name), background) >= 3.0, name
    assert contrast_ratio(scheme.timeline_gap, scheme.timeline_background) >= 3.0
    assert (scheme.error, scheme.muted) == (scheme.ERROR, scheme.MUTED)


def test_contrast_ratio_matches_wcag() -> None:
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)
