"""The store's errors: one tree, drawn in sfmonitor/store/errors.py's docstring."""

from __future__ import annotations

import inspect
import re
import sqlite3

from sfmonitor.store import errors


def test_every_store_error_is_in_the_drawing_and_under_the_base() -> None:
    classes = {
        name: cls
        for name, cls in inspect.getmembers(errors, inspect.isclass)
        if cls.__module__ == errors.__name__
    }
    drawn = set(re.findall(r"[├└]── (\w+)", errors.__doc__ or "")) | {"StoreError"}
    assert drawn == set(classes)
    for cls in classes.values():
        assert issubclass(cls, errors.StoreError)
    assert issubclass(errors.DataDirReadOnlyError, errors.DataDirError)
    # built-in bases callers rely on
    assert issubclass(errors.FilterError, ValueError)
    assert issubclass(errors.ImportFormatError, ValueError)
    assert issubclass(errors.StoreDamagedError, sqlite3.DatabaseError)
