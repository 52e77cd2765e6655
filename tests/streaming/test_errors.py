"""Every error the client raises is a ``StreamingError``; the tree drawn in ``errors.py``
is the tree the classes form; seed code catching ValueError/TypeError still works."""

from __future__ import annotations

import inspect
import re
from typing import Any

import pytest

from sfmonitor.emulator import Emulator
from sfmonitor.streaming import (
    ClientStateError,
    MissingCredentialsError,
    PasswordSalesforceStreaming,
    SimpleSalesforceStreaming,
    StreamingError,
    UsageError,
    errors,
)


def _drawn_tree() -> dict[str, str | None]:
    """class name -> the parent drawn above it in the module docstring."""
    parents: dict[str, str | None] = {}
    stack: list[tuple[int, str]] = []
    for line in (errors.__doc__ or "").splitlines():
        match = re.match(r"^(\s*)(?:[│ ]*[├└]── )?([A-Z]\w+Error)\b", line)
        if not match:
            continue
        depth = len(line) - len(line.lstrip(" │├└─"))
        while stack and stack[-1][0] >= depth:
            stack.pop()
        parents[match.group(2)] = stack[-1][1] if stack else None
        stack.append((depth, match.group(2)))
    return parents


def test_the_docstring_draws_every_error_class_under_its_real_parent() -> None:
    classes = {
        name: cls
        for name, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, Exception) and cls.__module__ == errors.__name__
    }
    drawn = _drawn_tree()
    assert set(drawn) == set(classes)
    for name, parent in drawn.items():
        if parent is None:
            assert classes[name] is StreamingError
        else:
            assert classes[parent] in classes[name].__bases__, (name, parent)


def test_missing_credentials_is_a_streaming_error_and_still_the_seeds_type_error() -> None:
    with pytest.raises(MissingCredentialsError) as caught:
        PasswordSalesforceStreaming(username="u", client_id="c", client_secret="s")
    assert isinstance(caught.value, StreamingError) and isinstance(caught.value, TypeError)


def test_a_bad_stale_replay_setting_is_a_usage_error(credentials: dict[str, Any]) -> None:
    with pytest.raises(UsageError, match="stale_replay must be one of") as caught:
        SimpleSalesforceStreaming(**credentials, stale_replay="sometimes")
    assert isinstance(caught.value, ValueError)


@pytest.mark.asyncio
async def test_misuse_of_the_client_is_refused_under_the_one_base(
    emulator: Emulator, credentials: dict[str, Any]
) -> None:
    client = SimpleSalesforceStreaming(**credentials)
    with pytest.raises(ClientStateError, match="not started"):
        await client.subscribe("/topic/Foo")
    async with client:
        with pytest.raises(ClientStateError, match="already started"):
            await client.start()
        for replay in ("soon", 0, 2**63, float("inf"), [1]):
            with pytest.raises(UsageError, match="replay must be -2, -1 or a replay id"):
                await client.subscribe("/topic/Foo", replay)  # type: ignore[arg-type]
