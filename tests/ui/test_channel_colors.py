"""Channel colours: stable across restarts, spread within a profile, readable on both
schemes, overridable and persisted by the caller; chips drawn with them."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication, QColorDialog, QMenu, QWidget

from sfmonitor.ui.channel_colors import (
    PALETTE,
    ChannelColors,
    add_color_menu,
    chip_icon,
    chip_pixmap,
    choose_color,
    default_color,
    overrides_from_text,
    overrides_to_text,
    slot_of,
)
from sfmonitor.ui.modal import Dialogs
from sfmonitor.ui.theme import DARK, LIGHT, apply_theme, contrast_ratio, dark_palette
from tests.helpers.waiting import wait_until

CHANNELS = ["/topic/Accounts", "/data/ChangeEvents", "/event/Order_Placed__e", "/u/Notes", "/é/ü"]


def colliding_pair() -> tuple[str, str]:
    by_slot: dict[int, str] = {}
    for i in itertools.count():
        name = f"/topic/T{i}"
        if slot_of(name) in by_slot:
            return by_slot[slot_of(name)], name
        by_slot[slot_of(name)] = name
    raise AssertionError


def test_colours_are_the_same_in_another_process() -> None:
    """A fresh interpreter (another hash seed) gives every channel the same colour."""
    code = (
        "import json, sys\n"
        "from sfmonitor.ui.channel_colors import ChannelColors, default_color\n"
        "names = json.loads(sys.argv[1])\n"
        "c = ChannelColors(); c.set_channels(names)\n"
        "print(json.dumps([[default_color(n) for n in names], [c.name(n) for n in names]]))\n"
    )
    names = [*CHANNELS, *colliding_pair()]
    mine = ChannelColors()
    mine.set_channels(names)
    expected = [[default_color(n) for n in names], [mine.name(n) for n in names]]
    for seed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=seed, QT_QPA_PLATFORM="offscreen")
        out = subprocess.run(
            [sys.executable, "-c", code, json.dumps(names)],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=True,
        )
        assert json.loads(out.stdout) == expected


def test_colliding_channels_get_different_colours_and_earlier_ones_keep_theirs() -> None:
    first, second = colliding_pair()
    palette = ChannelColors()
    palette.set_channels([first, second])
    assert palette.name(first) == default_color(first)
    assert palette.name(second) != palette.name(first)
    before = {ch: palette.name(ch) for ch in (first, second)}
    palette.set_channels([first, second, *CHANNELS])  # channels added later
    assert {ch: palette.name(ch) for ch in (first, second)} == before
    names = [palette.name(ch) for ch in [first, second, *CHANNELS]]
    assert len(set(names)) == len(names)
    many = [f"/topic/N{i}" for i in range(20)]  # more channels than colours: still one each
    palette.set_channels(many)
    assert all(palette.name(ch) in PALETTE for ch in many)
    assert len({palette.name(ch) for ch in many[:12]}) == 12


def test_the_palette_reads_on_both_schemes_and_its_colours_differ() -> None:
    backgrounds = [
        "#ffffff",
        "#efefef",
        LIGHT.timeline_background,
        dark_palette().color(dark_palette().ColorRole.Base).name(),
        dark_palette().color(dark_palette().ColorRole.Window).name(),
        DARK.timeline_background,
    ]
    for value in PALETTE:
        for background in backgrounds:
            assert contrast_ratio(value, background) >= 3.0, (value, background)
    hues = sorted(QColor(v).hslHue() for v in PALETTE)
    gaps = [b - a for a, b in itertools.pairwise([*hues, hues[0] + 360])]
    assert len(set(PALETTE)) == 12 and min(gaps) >= 14


def test_overrides_win_and_are_persisted_by_the_caller(tmp_path: Path, qapp: QApplication) -> None:
    palette = ChannelColors()
    palette.set_channels(CHANNELS)
    changes: list[int] = []
    palette.changed.connect(lambda: changes.append(1))
    palette.set_override(CHANNELS[0], "#123456")
    palette.set_override(CHANNELS[1], QColor("#abcdef"))
    palette.set_override(CHANNELS[1], "#ABCDEF")  # the same colour: no change
    assert palette.name(CHANNELS[0]) == "#123456" and len(changes) == 2
    with pytest.raises(ValueError, match=r"colour of /u/Notes: 'red!' is not a colour"):
        palette.set_override("/u/Notes", "red!")
    with pytest.raises(ValueError, match="an invalid colour"):
        palette.set_override("/u/Notes", QColor())
    assert "/u/Notes" not in palette.overrides()

    path = tmp_path / "settings.ini"
    settings = QSettings(str(path), QSettings.Format.IniFormat)
    settings.setValue("profiles/Demo/channel_colors", overrides_to_text(palette.overrides()))
    settings.sync()
    again = QSettings(str(path), QSettings.Format.IniFormat)
    restored = ChannelColors(overrides_from_text(again.value("profiles/Demo/channel_colors")))
    restored.set_channels(CHANNELS)
    assert [restored.name(c) for c in CHANNELS] == [palette.name(c) for c in CHANNELS]

    palette.set_override(CHANNELS[0], None)
    assert palette.name(CHANNELS[0]) == default_color(CHANNELS[0]) and len(changes) == 3


def test_damaged_settings_give_defaults_not_an_error() -> None:
    assert overrides_from_text("{not json") == {}
    assert overrides_from_text("[1, 2]") == {}
    assert overrides_from_text(None) == {}
    palette = ChannelColors(overrides_from_text('{"/a": "#00ff00", "/b": "nope", "/c": 7}'))
    assert palette.overrides() == {"/a": "#00ff00"}


def test_chip_is_the_colour_with_an_edge_for_either_scheme(qapp: QApplication) -> None:
    color = QColor(PALETTE[0])
    image = chip_pixmap(color, 12, 1.0).toImage()
    assert image.pixelColor(6, 6) == color
    assert image.pixelColor(0, 0).alpha() < 255  # rounded corner
    light_edge = image.pixelColor(6, 0)
    apply_theme(qapp, "dark")
    try:
        dark_edge = chip_pixmap(color, 12, 1.0).toImage().pixelColor(6, 0)
        assert dark_edge != light_edge
    finally:
        apply_theme(qapp, "system")
    assert chip_icon(color).cacheKey() == chip_icon(color).cacheKey()  # cached


def test_colour_menu_sets_and_resets(qtbot: Any) -> None:
    palette = ChannelColors()
    menu = QMenu()
    sub = add_color_menu(menu, palette, ["/a", "/b"])
    actions = sub.actions()
    assert [a.text() for a in actions[:3]] == ["Blue", "Orange", "Green"]
    assert len(actions) == 14  # twelve colours, a separator, "Default colour"
    actions[3].trigger()
    assert palette.overrides() == {"/a": PALETTE[3], "/b": PALETTE[3]}
    actions[-1].trigger()  # Default colour
    assert palette.overrides() == {}


@pytest.mark.asyncio
async def test_choose_colour_awaits_the_dialog(tmp_path: Path) -> None:
    parent = QWidget()
    dialogs = Dialogs(parent, QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    palette = ChannelColors()
    task = asyncio.ensure_future(choose_color(dialogs, palette, "/topic/A"))
    await wait_until(lambda: isinstance(dialogs.current, QColorDialog))
    dialog = dialogs.current
    assert isinstance(dialog, QColorDialog)
    dialog.setCurrentColor(QColor("#224466"))
    dialog.accept()
    assert await task is True
    assert palette.name("/topic/A") == "#224466"
    task = asyncio.ensure_future(choose_color(dialogs, palette, "/topic/A"))
    await wait_until(lambda: isinstance(dialogs.current, QColorDialog))
    assert dialogs.current is not None
    dialogs.current.reject()
    assert await task is False and palette.name("/topic/A") == "#224466"
    parent.deleteLater()
