"""The events model under Qt's model tester; dialogs that explain bad input inline."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt

from sfmonitor.store import AuthKind, CaptureStore, Environment, EventQuery, Profile
from sfmonitor.ui.dialogs import ChannelDialog, ProfileDialog
from sfmonitor.ui.events_model import LOADING, PAGE, EventsModel
from sfmonitor.ui.worker import Worker
from tests.helpers.events import change_event, event, push_topic
from tests.helpers.waiting import wait_until


@pytest.mark.asyncio
async def test_events_model_passes_the_model_tester_and_pages_lazily(
    store: CaptureStore, qtmodeltester: Any
) -> None:
    profile = store.save_profile(Profile("P", Environment.CUSTOM, "https://x"))
    assert profile.id is not None
    store.ingest(profile.id, [event(push_topic(i + 1, f"Name {i}")) for i in range(1000)])
    worker = Worker()
    model = EventsModel(store, worker)
    try:
        model.set_query(EventQuery(profile.id))
        await wait_until(lambda: model.rowCount() == 1000)
        qtmodeltester.check(model, force_py=True)
        far = model.index(PAGE * 3 + 7, 3)
        assert far.data() == LOADING  # not loaded yet: requested, not fetched on this thread
        await model.settle()
        assert far.data() == str(PAGE * 3 + 8)
        # new rows are appended without a reset
        resets: list[int] = []
        model.modelReset.connect(lambda: resets.append(1))
        store.ingest(profile.id, [event(change_event(5000 + i)) for i in range(30)])
        model.new_rows_stored()
        await wait_until(lambda: model.rowCount() == 1030)
        await model.settle()
        assert resets == []
        assert model.index(1029, 1).data() == "/data/ChangeEvents"
        # a filter that excludes the new rows keeps them out
        model.set_query(EventQuery(profile.id, text='sobject.Name = "Name 7"'))
        await wait_until(lambda: model.rowCount() == 1)
        model.sort(5, Qt.SortOrder.DescendingOrder)
        await model.settle()
        assert model.index(0, 5).data().endswith("Name=Name 7")
    finally:
        await model.settle()
        worker.shutdown()


def test_profile_dialog_lists_what_is_missing(qtbot: Any) -> None:
    dialog = ProfileDialog()
    qtbot.addWidget(dialog)
    dialog.choose_kind(AuthKind.PASSWORD)
    dialog.environment.setCurrentIndex(2)  # custom login URL
    dialog.login_url.setText("not a url")
    dialog._accept()
    assert dialog.result() == 0 and dialog.errors.isVisibleTo(dialog)
    text = dialog.errors.text()
    for words in ("name", "login URL", "username", "password", "consumer key", "consumer secret"):
        assert words in text
    dialog.name.setText("Prod")
    dialog.environment.setCurrentIndex(0)
    assert dialog.production_note.isVisibleTo(dialog)
    dialog.username.setText("ada@example.com")
    dialog.password.setText("pw")
    dialog.security_token.setText("TOKEN")
    dialog.client_id.setText("3MVG9")
    dialog.client_secret.setText("cs")
    assert dialog.problems() == []
    profile, secrets = dialog.result_profile()
    assert profile.login_url == "https://login.salesforce.com" and profile.is_production
    assert secrets.password == "pwTOKEN"  # the security token is appended, as Salesforce wants


def test_profile_dialog_offers_session_only_without_a_keyring(qtbot: Any) -> None:
    dialog = ProfileDialog(keyring_problem="The OS keyring is not available. Install gnome-keyring")
    qtbot.addWidget(dialog)
    assert dialog.session_only.isChecked()
    assert "gnome-keyring" in dialog.keyring_note.text()


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("Foo", "starts with /topic/"),
        ("/topic/", "missing"),
        ("/event/bad name", "cannot contain spaces"),
        ("/event/bad-name", "not a valid name"),
        ("/event/Order_Placed__e", None),
        ("/data/AccountChangeEvent", None),
    ],
)
def test_channel_dialog_checks_names_as_they_are_typed(
    qtbot: Any, text: str, problem: str | None
) -> None:
    dialog = ChannelDialog()
    qtbot.addWidget(dialog)
    dialog.channel.setText(text)
    assert dialog.errors.isVisibleTo(dialog) == (problem is not None)
    if problem:
        assert problem in dialog.errors.text()
    else:
        dialog._accept()
        assert dialog.result() == 1 and dialog.value() == (text, "new")
