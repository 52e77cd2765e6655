"""The layers of the design, kept apart (see the README's Layout):

    streaming / pubsub / auth    clients: no store, no capture, no Qt
    store                        SQLite, keyring, export: of the clients only the event
                                 value types (``sfmonitor.streaming.events``)
    capture                      the one package joining a client to the store; no Qt
    ui / cli                     front ends: ui uses the clients' public names only (no
                                 client internals) and never the emulator; cli loads no Qt
    tests                        never import benchmarks

Imports are read from the source (every ``import``, also inside functions), and the Qt
rule is also checked by importing the packages in a fresh interpreter.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
QT = ("PySide6", "qasync", "shiboken6")
CLIENTS = ("sfmonitor.streaming", "sfmonitor.pubsub", "sfmonitor.auth")


def imports_of(folder: Path) -> list[tuple[str, str]]:
    """(file, imported module) for every import in the Python files under ``folder``."""
    found = []
    for path in sorted(folder.rglob("*.py")):
        if "node_modules" in path.parts or "proto" in path.parts:
            continue
        package = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found += [(str(path.relative_to(ROOT)), alias.name) for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                module = node.module or ""
                if node.level:  # relative: resolve against the file's package
                    base = package.split(".")[: -node.level]
                    module = ".".join([*base, module] if module else base)
                found.append((str(path.relative_to(ROOT)), module))
    return found


def under(module: str, *packages: str) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def offending(folder: str, allowed: object = lambda m: False, *forbidden: str) -> list[str]:
    return [
        f"{file}: {module}"
        for file, module in imports_of(ROOT / folder)
        if under(module, *forbidden) and not allowed(module)  # type: ignore[operator]
    ]


@pytest.mark.parametrize("package", ["streaming", "pubsub", "auth"])
def test_clients_import_no_store_capture_ui_or_qt(package: str) -> None:
    bad = offending(
        f"sfmonitor/{package}",
        lambda m: False,
        "sfmonitor.store",
        "sfmonitor.capture",
        "sfmonitor.ui",
        "sfmonitor.cli",
        "sfmonitor.emulator",
        *QT,
    )
    assert bad == []


def test_store_takes_only_the_event_value_types_from_the_clients() -> None:
    bad = offending(
        "sfmonitor/store",
        lambda m: m == "sfmonitor.streaming.events",
        *CLIENTS,
        "sfmonitor.capture",
        "sfmonitor.ui",
        "sfmonitor.cli",
        "sfmonitor.emulator",
        *QT,
    )
    assert bad == []


def test_capture_has_no_front_end_and_no_qt() -> None:
    bad = offending("sfmonitor/capture", lambda m: False, "sfmonitor.ui", "sfmonitor.cli", *QT)
    assert bad == []


def test_the_window_uses_only_the_clients_public_names_and_never_the_emulator() -> None:
    bad = offending(
        "sfmonitor/ui",
        lambda m: m in CLIENTS or under(m, "sfmonitor.discovery"),
        *CLIENTS,
        "sfmonitor.emulator",
        "sfmonitor.capture.demo",
        "sfmonitor.cli",
    )
    assert bad == []


def test_tests_do_not_import_benchmarks() -> None:
    assert offending("tests", lambda m: False, "benchmarks") == []


def test_the_layers_load_no_qt_and_the_cli_neither() -> None:
    code = (
        "import sys\n"
        "import sfmonitor, sfmonitor.streaming, sfmonitor.store, sfmonitor.emulator\n"
        "import sfmonitor.emulator.__main__, sfmonitor.capture, sfmonitor.cli, sfmonitor.auth\n"
        "import sfmonitor.pubsub, sfmonitor.discovery, sfmonitor.sinks\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {QT!r})\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip() == "", f"Qt modules loaded: {out.stdout}"


def test_the_store_loads_no_client() -> None:
    code = (
        "import sys\n"
        "import sfmonitor.store\n"
        "loaded = sorted(m for m in sys.modules if m.startswith(('sfmonitor.capture', "
        "'sfmonitor.pubsub', 'sfmonitor.auth')) or (m.startswith('sfmonitor.streaming') "
        "and m not in ('sfmonitor.streaming', 'sfmonitor.streaming.events', "
        "'sfmonitor.streaming.replay')))\n"
        "print(','.join(loaded))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip() == "", f"the store loaded: {out.stdout}"
