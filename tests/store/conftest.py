from __future__ import annotations

import pytest

from sfmonitor.store import CaptureStore, Environment, Profile


@pytest.fixture
def profile(store: CaptureStore) -> Profile:
    return store.save_profile(Profile("Org", Environment.SANDBOX, "https://test.salesforce.com"))
