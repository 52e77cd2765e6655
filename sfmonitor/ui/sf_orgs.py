"""The orgs the Salesforce CLI is logged in to (``sf org list``), to pick one for an
``sf-cli`` profile. Listed by a task on the window's loop (the CLI is slow to start);
what went wrong (no ``sf``, its error) is said inline with what to run."""

from __future__ import annotations

import asyncio
import logging

from PySide6.QtWidgets import QComboBox, QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from sfmonitor.auth import SfCli, SfOrg
from sfmonitor.streaming import StreamingError

from .fields import error_label, note_label, show_error

log = logging.getLogger(__name__)

NO_ORG = (
    "The Salesforce CLI is logged in to no org: run `sf org login web --alias NAME` "
    "(add --instance-url https://test.salesforce.com for a sandbox), then Refresh."
)


class SfOrgPicker(QWidget):
    """A list of the CLI's orgs; ``target()`` is what ``--target-org`` takes."""

    def __init__(self, current: str = "", cli: SfCli | None = None) -> None:
        super().__init__()
        self.current = current
        self.cli = cli or SfCli()
        self.orgs: list[SfOrg] = []
        self._task: asyncio.Task[None] | None = None
        self.combo = QComboBox()
        self.combo.setMinimumWidth(280)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setAutoDefault(False)
        self.refresh_button.clicked.connect(self.load)
        self.note = note_label()
        self.error = error_label()
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.combo, 1)
        row.addWidget(self.refresh_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.note)
        layout.addWidget(self.error)

    @property
    def loaded(self) -> bool:
        return self._task is not None and self._task.done()

    def load(self) -> None:
        """List the CLI's orgs (again)."""
        if self._task is not None and not self._task.done():
            return
        self._task = asyncio.ensure_future(self._load())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _load(self) -> None:
        self.refresh_button.setEnabled(False)
        self.note.setText("Asking the Salesforce CLI (sf org list)…")
        show_error(self.error, "")
        try:
            executable = self.cli.executable
            orgs = await self.cli.list_orgs()
        except StreamingError as exc:  # no sf, or its error in words with what to run
            self.note.setText("")
            show_error(self.error, str(exc))
            return
        except Exception as exc:
            log.exception("sf org list failed")
            show_error(self.error, f"{type(exc).__name__}: {exc}")
            return
        finally:
            self.refresh_button.setEnabled(True)
        self._fill(orgs)
        self.note.setText(f"From {executable}; the CLI keeps its login, sfmonitor asks it.")
        if not orgs:
            show_error(self.error, NO_ORG)

    def _fill(self, orgs: list[SfOrg]) -> None:
        wanted = self.target() or self.current
        self.orgs = orgs
        self.combo.clear()
        for org in orgs:
            label = f"{org.alias} ({org.username})" if org.alias else org.username
            self.combo.addItem(f"{label} · {org.kind}", org.target)
        index = self.combo.findData(wanted)
        if index < 0 and wanted:  # a profile's org the CLI no longer lists: keep it shown
            self.combo.addItem(f"{wanted} (not in sf org list)", wanted)
            index = self.combo.count() - 1
        self.combo.setCurrentIndex(max(index, 0))

    def target(self) -> str:
        data = self.combo.currentData()
        return data if isinstance(data, str) else ""

    def instance_url(self) -> str:
        """The chosen org's instance URL as the CLI lists it ("" when not known)."""
        org = next((o for o in self.orgs if o.target == self.target()), None)
        return org.instance_url or "" if org else ""
