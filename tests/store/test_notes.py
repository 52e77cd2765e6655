"""Notes kept per profile (the last discovery, the payloads published): replaced in place,
a damaged history forgotten rather than fatal, bounded, dropped with their profile (a later
profile never inherits them) and carried over by ``doctor --recover``."""

from __future__ import annotations

from pathlib import Path

import pytest

from sfmonitor.store import CaptureStore, Environment, Profile, notes
from sfmonitor.store.doctor import recover


def a_profile(store: CaptureStore, name: str = "P") -> int:
    profile = store.save_profile(Profile(name, Environment.SANDBOX, "https://test.salesforce.com"))
    assert profile.id is not None
    return profile.id


def test_a_note_is_replaced_and_a_history_read_back(store: CaptureStore) -> None:
    pid = a_profile(store)
    assert notes.note(store, pid, notes.DISCOVERY) is None
    notes.set_note(store, pid, notes.DISCOVERY, '{"a": 1}')
    notes.set_note(store, pid, notes.DISCOVERY, '{"a": 2}')
    assert notes.note(store, pid, notes.DISCOVERY) == '{"a": 2}'
    key = notes.publish_key("/event/X__e")
    notes.set_texts(store, pid, key, ['{"F__c": 1}', "second"])
    assert notes.texts(store, pid, key) == ['{"F__c": 1}', "second"]
    notes.set_note(store, pid, key, "not json")
    assert notes.texts(store, pid, key) == []  # damaged: forgotten, not fatal
    notes.set_note(store, pid, key, '[1, "kept", null]')
    assert notes.texts(store, pid, key) == ["kept"]
    with pytest.raises(ValueError, match="at most"):
        notes.set_note(store, pid, key, "x" * (notes.MAX_NOTE + 1))
    assert notes.texts(store, pid, key) == ["kept"]


def test_notes_go_with_their_profile(store: CaptureStore) -> None:
    pid = a_profile(store)
    notes.set_note(store, pid, notes.DISCOVERY, "{}")
    store.delete_profile(pid)
    again = a_profile(store)
    assert notes.note(store, again, notes.DISCOVERY) is None


def test_doctor_recover_keeps_the_notes(data_folder: Path) -> None:
    with CaptureStore.open(data_folder) as store:
        pid = a_profile(store)
        notes.set_texts(store, pid, notes.publish_key("/u/x"), ["hello"])
    recover(data_folder)
    with CaptureStore.open(data_folder) as store:
        assert notes.texts(store, pid, notes.publish_key("/u/x")) == ["hello"]
