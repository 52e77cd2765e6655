"""Where each value of a JSON text sits, and its field path in the filter language.

``spans`` reads JSON text (pretty or compact alike) and records, for every value, its
position and its path; ``filter_path`` names a path as the filter language does (looked
up in the payload, then ``data``, then the message). No Qt here: the JSON view uses it.
"""

from __future__ import annotations

import bisect
import json
import re
from dataclasses import dataclass
from typing import Any

Path = tuple[str | int, ...]
ROOTS: tuple[Path, ...] = (("data", "payload"), ("data",), ())  # the filter's lookup order
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
SCALAR = re.compile(r"[^\s,\]}]+")
WHITESPACE = re.compile(r"\s*")


def pretty(raw: str) -> str:
    try:
        return json.dumps(json.loads(raw), indent=2, ensure_ascii=False)
    except (ValueError, RecursionError):
        return raw


# --- where each value is ---------------------------------------------------------------------


@dataclass
class Node:
    """A value of the JSON text: ``[start, end)``, its path, and its key's span."""

    start: int
    end: int
    path: Path
    key: tuple[int, int] | None = None


def spans(text: str) -> list[Node]:
    """Every value of the JSON ``text`` in text order, with its path; [] if the text is
    not JSON. Iterative: a message nested thousands deep is no problem."""
    try:
        return _scan(text)
    except (IndexError, ValueError):
        return []


def _skip(text: str, i: int) -> int:
    match = WHITESPACE.match(text, i)
    return match.end() if match else i


def _scan(text: str) -> list[Node]:
    nodes: list[Node] = []
    stack: list[tuple[str, int, list[int]]] = []  # closer, node index, [next array index]
    i = _skip(text, 0)
    path: Path = ()
    key: tuple[int, int] | None = None
    while True:
        char = text[i]
        nodes.append(Node(i, -1, path, key))
        if char in "{[":
            stack.append(("}" if char == "{" else "]", len(nodes) - 1, [0]))
            i = _skip(text, i + 1)
            if text[i] == stack[-1][0]:  # empty
                nodes[stack.pop()[1]].end = i + 1
                i += 1
            else:
                i, path, key = _member(text, i, nodes, stack)
                continue
        else:
            match = (STRING if char == '"' else SCALAR).match(text, i)
            if match is None:
                raise ValueError(f"not JSON at {i}")
            nodes[-1].end = i = match.end()
        while True:  # after a value: the next member, or the end of containers
            i = _skip(text, i)
            if not stack:
                if i != len(text):
                    raise ValueError(f"text after the JSON at {i}")
                return nodes
            closer, index, _count = stack[-1]
            if text[i] == ",":
                i, path, key = _member(text, _skip(text, i + 1), nodes, stack)
                break
            if text[i] != closer:
                raise ValueError(f"not JSON at {i}")
            nodes[index].end = i + 1
            stack.pop()
            i += 1


def _member(
    text: str, i: int, nodes: list[Node], stack: list[tuple[str, int, list[int]]]
) -> tuple[int, Path, tuple[int, int] | None]:
    """Where the next member's value starts, its path and its key's span."""
    closer, index, count = stack[-1]
    parent = nodes[index].path
    if closer == "]":
        count[0] += 1
        return i, (*parent, count[0] - 1), None
    match = STRING.match(text, i)
    if match is None:
        raise ValueError(f"a key was expected at {i}")
    name = json.loads(match.group())
    colon = _skip(text, match.end())
    if text[colon] != ":":
        raise ValueError(f"':' was expected at {colon}")
    return _skip(text, colon + 1), (*parent, name), (match.start(), match.end())


def node_at(nodes: list[Node], position: int) -> Node | None:
    """The innermost value at ``position`` (on a key: the value of that key)."""
    starts = [n.start for n in nodes]
    index = bisect.bisect_right(starts, position) - 1
    following = nodes[index + 1] if index + 1 < len(nodes) else None
    if following is not None and following.key and following.key[0] <= position < following.key[1]:
        return following
    for node in reversed(nodes[: index + 1]):
        if node.start <= position < node.end:
            return node
    return None


def _resolve(message: Any, path: Path) -> tuple[bool, Any]:
    value = message
    for part in path:
        if isinstance(part, int):
            if not isinstance(value, list) or part >= len(value):
                return False, None
        elif not isinstance(value, dict) or part not in value:
            return False, None
        value = value[part]
    return True, value


def _as_filter_text(rest: Path) -> str | None:
    """``rest`` in the filter grammar (names, ``[n]`` after a name), or None."""
    out = ""
    for part in rest:
        if isinstance(part, int):
            if not out or part > 999_999:
                return None
            out += f"[{part}]"
        elif NAME.fullmatch(part):
            out += ("." if out else "") + part
        else:
            return None
    return out or None


def filter_path(message: Any, path: Path) -> str | None:
    """The filter language's path of the value at ``path`` in ``message`` (payload, then
    data, then the message: the shortest that a filter resolves to this very value), or
    None when no filter path reaches it."""
    found, value = _resolve(message, path)
    if not found:
        return None
    for root in ROOTS:
        if path[: len(root)] != root:
            continue
        text = _as_filter_text(path[len(root) :])
        if text is None:
            continue
        first = None  # what a filter resolves it to: the first root that has a value
        for other in ROOTS:
            ok, there = _resolve(message, (*other, *path[len(root) :]))
            if ok and there is not None:
                first = other
                break
        if first == root or (first is None and value is None):
            return text
    return None


def json_path(path: Path) -> str:
    """A JSONPath for any value (for copying where no filter path reaches it)."""
    out = "$"
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif NAME.fullmatch(part):
            out += f".{part}"
        else:
            out += f"[{json.dumps(part, ensure_ascii=False)}]"
    return out
