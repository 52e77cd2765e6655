"""Render the app icon (sfmonitor.svg) to the PNG sizes, ICO and ICNS the platforms need.

QT_QPA_PLATFORM=offscreen .venv/bin/python resources/make_icons.py
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage, QImageWriter, QPainter
from PySide6.QtSvg import QSvgRenderer

HERE = Path(__file__).resolve().parent
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def render(renderer: QSvgRenderer, size: int) -> QImage:
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    renderer.render(painter)
    painter.end()
    return image


def main() -> None:
    _app = QGuiApplication([])
    renderer = QSvgRenderer(str(HERE / "sfmonitor.svg"))
    folder = HERE / "icons" / "app"
    folder.mkdir(parents=True, exist_ok=True)
    for size in SIZES:
        render(renderer, size).save(str(folder / f"sfmonitor-{size}.png"))
    render(renderer, 256).save(str(HERE / "sfmonitor.png"))
    for fmt in ("ico", "icns"):
        writer = QImageWriter(str(HERE / f"sfmonitor.{fmt}"), fmt.encode())
        size = 256 if fmt == "ico" else 512
        if not writer.write(render(renderer, size)):
            print(f"{fmt}: {writer.errorString()}")


if __name__ == "__main__":
    main()
