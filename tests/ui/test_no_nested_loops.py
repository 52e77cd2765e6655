"""No code of the window runs a nested Qt event loop.

Inside an asyncio task on the qasync loop, a nested loop (``exec()``, the static
``QMessageBox``/``QFileDialog``/``QInputDialog`` helpers, ``processEvents``) keeps that task
"running", so no other task can step: capture stops silently. Dialogs go through
``sfmonitor.ui.modal.Dialogs`` instead; this keeps the blocking forms from coming back.
"""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

import sfmonitor.ui

BLOCKING = re.compile(
    r"\.exec_?\(|processEvents\(|QMessageBox\.(warning|information|question|critical|about)\("
    r"|QFileDialog\.get\w+\(|QInputDialog\.get\w+\(|QColorDialog\.getColor\(|QFontDialog\.getFont\("
)


def code_lines(source: str) -> dict[int, str]:
    """Each line's code without strings and comments (docstrings may name the calls)."""
    lines: dict[int, str] = {}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type not in (tokenize.STRING, tokenize.COMMENT):
            lines[token.start[0]] = lines.get(token.start[0], "") + token.string
    return lines


def test_no_blocking_dialog_calls_in_the_ui() -> None:
    folder = Path(sfmonitor.ui.__file__).parent
    found = [
        f"{path.name}:{number}: {code}"
        for path in sorted(folder.glob("*.py"))
        for number, code in code_lines(path.read_text()).items()
        if BLOCKING.search(code)
    ]
    assert found == [], "nested event loops in the window:\n" + "\n".join(found)


def test_the_pattern_finds_what_it_must() -> None:
    for line in (
        "QMessageBox.warning(self, 'a', 'b')",
        "name, _ = QFileDialog.getSaveFileName(parent)",
        "QInputDialog.getItem(parent, 'Export', 'Which?', items)",
        "menu.exec(position)",
        "dialog.exec()",
        "QApplication.processEvents()",
    ):
        assert BLOCKING.search("".join(code_lines(line).values())), line
    assert not BLOCKING.search("await self.dialogs.run(dialog)")
