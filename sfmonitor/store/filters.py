"""The filter language of the events table, compiled to SQL with bound parameters.

A filter is a list of terms separated by spaces; an event must match all of them::

    acme                                  "acme" anywhere in the summary or the payload
    "new york"                            a quoted phrase, same rule
    ChangeEventHeader.changeType = UPDATE field condition (= is case-insensitive for text)
    Amount__c > 1000                      numeric comparison: > >= < <= = !=
    sobject.Name ~ "Acme"                 the field contains the text (case-insensitive)
    Region__c != EMEA   Note__c = null    null matches a missing or null field

A field path is looked up in the event's payload (``data.payload``), then in ``data``
(PushTopic ``sobject.Name``, ``event.replayId``), then in the whole message (``channel``).
Segments are names (letters, digits, ``_``) with optional ``[n]`` list indexes.
Free text is matched case-insensitively (Unicode-aware for non-ASCII text).

No text of a filter ever becomes SQL: paths are checked against the grammar above and
passed, like every value, as a bound parameter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .errors import FilterError

OPERATORS = ("!=", ">=", "<=", "=", ">", "<", "~")
_PATH = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\[\d{1,6}\])*(\.[A-Za-z_][A-Za-z0-9_]*(\[\d{1,6}\])*)*")
_NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?")
_LOOKUP_ROOTS = ("$.data.payload.", "$.data.", "$.")
MAX_TERMS = 32
MAX_TERM_CHARS = 10_000  # SQLite refuses LIKE patterns over 50,000 bytes (escaped, UTF-8)


@dataclass(frozen=True)
class Condition:
    path: str
    op: str
    value: str | float | bool | None


@dataclass(frozen=True)
class Filter:
    texts: tuple[str, ...] = ()
    conditions: tuple[Condition, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.texts and not self.conditions


@dataclass
class _Token:
    kind: str  # word | quoted | op
    text: str
    position: int


def _tokenize(source: str) -> list[_Token]:
    tokens: list[_Token] = []
    i = 0
    while i < len(source):
        ch = source[i]
        if ch.isspace():
            i += 1
            continue
        if ch == '"':
            start, i, chars = i, i + 1, []
            while i < len(source) and source[i] != '"':
                if source[i] == "\\" and i + 1 < len(source):
                    i += 1
                chars.append(source[i])
                i += 1
            if i >= len(source):
                raise FilterError("unterminated quoted text", start)
            tokens.append(_Token("quoted", "".join(chars), start))
            i += 1
            continue
        op = next((o for o in OPERATORS if source.startswith(o, i)), None)
        if op:
            tokens.append(_Token("op", op, i))
            i += len(op)
            continue
        start = i
        while (
            i < len(source)
            and not source[i].isspace()
            and source[i] != '"'
            and not any(source.startswith(o, i) for o in OPERATORS)
        ):
            i += 1
        tokens.append(_Token("word", source[start:i], start))
    return tokens


def _value(token: _Token) -> str | float | bool | None:
    if token.kind == "quoted":
        return token.text
    lowered = token.text.lower()
    if lowered == "null":
        return None
    if lowered in ("true", "false"):
        return lowered == "true"
    if _NUMBER.fullmatch(token.text):
        return float(token.text)
    return token.text


def parse(source: str) -> Filter:
    """Parse a filter; raises FilterError with the position of the first problem."""
    bad = next((i for i, c in enumerate(source) if "\ud800" <= c <= "\udfff"), None)
    if bad is not None:
        raise FilterError("invalid character (a lone surrogate)", bad)
    tokens = _tokenize(source)
    texts: list[str] = []
    conditions: list[Condition] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        following = tokens[i + 1] if i + 1 < len(tokens) else None
        if following is not None and following.kind == "op":
            if token.kind != "word" or not _PATH.fullmatch(token.text):
                raise FilterError(f"{token.text!r} is not a field path", token.position)
            if i + 2 >= len(tokens) or tokens[i + 2].kind == "op":
                raise FilterError(f"a value is missing after {following.text}", following.position)
            value = tokens[i + 2].text if following.text == "~" else _value(tokens[i + 2])
            if following.text in (">", ">=", "<", "<=") and value is None:
                raise FilterError(
                    "null cannot be compared with " + following.text, tokens[i + 2].position
                )
            conditions.append(Condition(token.text, following.text, value))
            i += 3
            continue
        if token.kind == "op":
            raise FilterError(f"{token.text} needs a field path before it", token.position)
        if len(token.text) > MAX_TERM_CHARS:
            raise FilterError(
                f"a text of {len(token.text):,} characters is too long to search for "
                f"(at most {MAX_TERM_CHARS:,})",
                token.position,
            )
        if token.text:
            texts.append(token.text)
        i += 1
    if len(texts) + len(conditions) > MAX_TERMS:
        raise FilterError(f"too many terms (at most {MAX_TERMS})", 0)
    return Filter(tuple(texts), tuple(conditions))


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def icontains(haystack: object, needle: object) -> int:
    """SQL function ``sf_icontains``: Unicode case-insensitive containment."""
    if not isinstance(haystack, str) or not isinstance(needle, str):
        return 0
    return int(needle.casefold() in haystack.casefold())


@dataclass
class Compiled:
    sql: list[str] = field(default_factory=list)
    params: list[object] = field(default_factory=list)
    # the search index's candidates drive the query: its query and the id range
    match: tuple[str, int, int] | None = None

    @property
    def indexed(self) -> bool:
        return self.match is not None

    def and_also(self, sql: str, param: object) -> Compiled:
        """A copy with one more condition."""
        return Compiled([*self.sql, sql], [*self.params, param], self.match)


def compile_filter(flt: Filter, out: Compiled, guard_json: bool = False) -> None:
    """Append the SQL (over table alias ``e``) and parameters of ``flt`` to ``out``.

    With ``guard_json``, a message SQLite's JSON functions cannot read (nested deeper than
    their limit of 1,000-2,000 levels; a server can send one) has no fields instead of
    failing the whole query: a second parse per row, so only once such a message was met.
    """
    raw = "CASE WHEN json_valid(e.raw) THEN e.raw END" if guard_json else "e.raw"
    for text in flt.texts:
        if text.isascii():
            # LIKE is case-insensitive for ASCII and much faster than a Python function
            pattern = _like_pattern(text)
            out.sql.append("(e.summary LIKE ? ESCAPE '\\' OR e.raw LIKE ? ESCAPE '\\')")
            out.params += [pattern, pattern]
        else:
            out.sql.append("(sf_icontains(e.summary, ?) OR sf_icontains(e.raw, ?))")
            out.params += [text, text]
    for cond in flt.conditions:
        field_sql = "coalesce(" + ", ".join(f"json_extract({raw}, ?)" for _ in _LOOKUP_ROOTS) + ")"
        paths = [root + cond.path for root in _LOOKUP_ROOTS]
        value = cond.value
        if value is None:
            out.sql.append(
                f"({field_sql} IS NULL)" if cond.op == "=" else f"({field_sql} IS NOT NULL)"
            )
            out.params += paths
            continue
        if isinstance(value, bool):
            value = int(value)
        if cond.op == "~":
            out.sql.append(f"sf_icontains(CAST({field_sql} AS TEXT), ?)")
            out.params += [*paths, str(cond.value)]
        elif isinstance(value, float | int):
            op = "!=" if cond.op == "!=" else cond.op
            out.sql.append(
                f"(typeof({field_sql}) IN ('integer', 'real') AND {field_sql} {op} ?)"
                if op != "!="
                else f"(typeof({field_sql}) NOT IN ('integer', 'real') OR {field_sql} != ?)"
            )
            out.params += [*paths, *paths, value]
        else:
            collate = " COLLATE NOCASE" if cond.op in ("=", "!=") else ""
            if cond.op == "!=":
                out.sql.append(f"({field_sql} IS NULL OR {field_sql} != ?{collate})")
                out.params += [*paths, *paths, value]
            else:
                out.sql.append(f"({field_sql} {cond.op} ?{collate})")
                out.params += [*paths, value]
