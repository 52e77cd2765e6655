from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sfmonitor.store import CaptureStore, Environment, Profile


@pytest.fixture
def store(data_folder: Path) -> Iterator[CaptureStore]:
    with CaptureStore.open(data_folder) as s:
        yield s


@pytest.fixture
def profile(store: CaptureStore) -> Profile:
    return store.save_profile(Profile("Org", Environment.SANDBOX, "https://test.salesforce.com"))
