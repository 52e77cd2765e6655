"""The SOQL that channel discovery sends, parsed and run over plain rows:
``SELECT fields FROM Object [WHERE …] [ORDER BY f [ASC|DESC] …] [LIMIT n] [OFFSET n]``.

WHERE takes comparisons (``= != <> < > <= >=``), ``LIKE``, ``[NOT] IN (…)``, ``AND``,
``OR``, ``NOT`` and parentheses; string comparisons ignore case, as in SOQL. Errors carry
Salesforce's error codes (MALFORMED_QUERY, INVALID_FIELD) and the wording of its messages.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^'\\]|\\.)*')|(?P<num>-?\d+(?:\.\d+)?)|(?P<op>!=|<>|<=|>=|=|<|>)"
    r"|(?P<punct>[(),])|(?P<word>[A-Za-z_][\w.]*))"
)
_KEYWORDS = {"select", "from", "where", "order", "by", "limit", "offset", "and", "or", "not"}
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<>": operator.ne,
    "<": operator.lt,
    ">": operator.gt,
    "<=": operator.le,
    ">=": operator.ge,
}

Row = dict[str, Any]
Predicate = Callable[[Row], bool]


class SoqlError(ValueError):
    """A query Salesforce would refuse: ``code`` is its errorCode."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Token:
    kind: str  # str, num, op, punct, word
    text: str
    column: int  # 1-based, for Salesforce's "ERROR at Row:1:Column:N"

    def is_word(self, *words: str) -> bool:
        return self.kind == "word" and self.text.lower() in words


@dataclass(frozen=True)
class Select:
    fields: tuple[str, ...]
    sobject: str
    where: Predicate | None
    order: tuple[tuple[str, bool], ...]  # (field, descending)
    limit: int | None
    offset: int
    where_fields: tuple[str, ...]
    field_columns: tuple[int, ...]  # where each selected field starts


def tokenize(soql: str) -> list[Token]:
    tokens, pos = [], 0
    text = soql.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            bad = text[pos:].strip().split()[0] if text[pos:].strip() else text[pos:]
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{bad}'")
        kind = m.lastgroup or "word"
        value = m.group(kind)
        tokens.append(Token(kind, value, m.start(kind) + 1))
        pos = m.end()
    return tokens


def value_of(row: Row, name: str) -> Any:
    """A field of a row, looked up without regard to case (SOQL's rule)."""
    if name in row:
        return row[name]
    lower = name.lower()
    for key, value in row.items():
        if key.lower() == lower:
            return value
    return None


def _literal(tok: Token) -> Any:
    if tok.kind == "str":
        return tok.text[1:-1].replace("\\'", "'").replace("\\\\", "\\")
    if tok.kind == "num":
        return float(tok.text) if "." in tok.text else int(tok.text)
    if tok.is_word("true", "false"):
        return tok.text.lower() == "true"
    if tok.is_word("null"):
        return None
    raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{tok.text}'")


def _fold(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _like(pattern: str) -> re.Pattern[str]:
    parts = (".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in pattern)
    return re.compile("^" + "".join(parts) + "$", re.IGNORECASE | re.DOTALL)


class _Parser:
    def __init__(self, soql: str) -> None:
        self.tokens = tokenize(soql)
        self.pos = 0
        self.where_fields: list[str] = []

    def peek(self) -> Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> Token:
        tok = self.peek()
        if tok is None:
            raise SoqlError("MALFORMED_QUERY", "unexpected end of query")
        self.pos += 1
        return tok

    def expect_word(self, *words: str) -> Token:
        tok = self.take()
        if not tok.is_word(*words):
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{tok.text}'")
        return tok

    def expect(self, text: str) -> None:
        tok = self.take()
        if tok.text != text:
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{tok.text}'")

    def name(self) -> Token:
        tok = self.take()
        if tok.kind != "word" or tok.text.lower() in _KEYWORDS:
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{tok.text}'")
        return tok

    # --- WHERE -----------------------------------------------------------------------------

    def expr(self) -> Predicate:
        parts = [self.term()]
        while (tok := self.peek()) is not None and tok.is_word("or"):
            self.take()
            parts.append(self.term())
        return parts[0] if len(parts) == 1 else lambda row: any(p(row) for p in parts)

    def term(self) -> Predicate:
        parts = [self.factor()]
        while (tok := self.peek()) is not None and tok.is_word("and"):
            self.take()
            parts.append(self.factor())
        return parts[0] if len(parts) == 1 else lambda row: all(p(row) for p in parts)

    def factor(self) -> Predicate:
        tok = self.peek()
        if tok is not None and tok.is_word("not"):
            self.take()
            inner = self.factor()
            return lambda row: not inner(row)
        if tok is not None and tok.text == "(":
            self.take()
            inner = self.expr()
            self.expect(")")
            return inner
        return self.comparison()

    def comparison(self) -> Predicate:
        name = self.name().text
        self.where_fields.append(name)
        tok = self.take()
        if tok.kind == "op":
            want, compare = _fold(_literal(self.take())), _COMPARE[tok.text]

            def compared(row: Row) -> bool:
                have = _fold(value_of(row, name))
                if have is None or want is None:
                    return (tok.text == "=") == (have is want)
                try:
                    return compare(have, want)
                except TypeError:
                    return False

            return compared
        if tok.is_word("like"):
            pattern = _like(str(_literal(self.take())))
            return lambda row: isinstance(v := value_of(row, name), str) and bool(pattern.match(v))
        negate = tok.is_word("not")
        if negate:
            tok = self.take()
        if tok.is_word("in"):
            self.expect("(")
            values = {_fold(_literal(self.take()))}
            while (nxt := self.take()).text == ",":
                values.add(_fold(_literal(self.take())))
            if nxt.text != ")":
                raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{nxt.text}'")
            return lambda row: (_fold(value_of(row, name)) in values) != negate
        raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{tok.text}'")

    # --- the statement ---------------------------------------------------------------------

    def select(self) -> Select:
        self.expect_word("select")
        fields, columns = [], []
        while True:
            field = self.name()
            fields.append(field.text)
            columns.append(field.column)
            if (nxt := self.peek()) is None or nxt.text != ",":
                break
            self.take()
        self.expect_word("from")
        sobject = self.name().text
        where = None
        if (nxt := self.peek()) is not None and nxt.is_word("where"):
            self.take()
            where = self.expr()
        order = self.order_by()
        limit = offset = None
        while (clause := self.peek()) is not None and clause.is_word("limit", "offset"):
            self.take()
            number = self.take()
            if number.kind != "num" or "." in number.text:
                raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{number.text}'")
            if clause.is_word("limit"):
                limit = int(number.text)
            else:
                offset = int(number.text)
        if (extra := self.peek()) is not None:
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{extra.text}'")
        return Select(
            tuple(fields), sobject, where, order, limit, offset or 0,
            tuple(self.where_fields), tuple(columns),
        )  # fmt: skip

    def order_by(self) -> tuple[tuple[str, bool], ...]:
        tok = self.peek()
        if tok is None or not tok.is_word("order"):
            return ()
        self.take()
        self.expect_word("by")
        out = []
        while True:
            name = self.name().text
            descending = False
            if (tok := self.peek()) is not None and tok.is_word("asc", "desc"):
                descending = self.take().text.lower() == "desc"
            if (tok := self.peek()) is not None and tok.is_word("nulls"):
                self.take()
                self.expect_word("first", "last")
            out.append((name, descending))
            if (tok := self.peek()) is None or tok.text != ",":
                return tuple(out)
            self.take()


def parse(soql: str) -> Select:
    """Parse a query; SoqlError (MALFORMED_QUERY) when it is not one."""
    if not soql.strip():
        raise SoqlError("MALFORMED_QUERY", "unexpected end of query")
    return _Parser(soql).select()


def no_such_column(query: str, name: str, column: int, sobject: str) -> SoqlError:
    """Salesforce's INVALID_FIELD message, with its pointer at the field."""
    return SoqlError(
        "INVALID_FIELD",
        f"\n{query}\n{' ' * (column - 1)}^\nERROR at Row:1:Column:{column}\n"
        f"No such column '{name}' on entity '{sobject}'. If you are attempting to use a custom "
        "field, be sure to append the '__c' after the custom field name. Please reference your "
        "WSDL or the describe call for the appropriate names.",
    )


def run(
    select: Select, rows: Sequence[Row], known: Sequence[str], query: str
) -> tuple[list[str], list[Row]]:
    """The selected fields (canonical names, SELECT order) and the matching rows, ordered
    and limited; INVALID_FIELD for a field the object does not have."""
    canonical = {k.lower(): k for k in known}
    names = []
    for name, column in zip(select.fields, select.field_columns, strict=True):
        key = canonical.get(name.lower())
        if key is None:
            raise no_such_column(query, name, column, select.sobject)
        names.append(key)
    for name in (*select.where_fields, *(f for f, _ in select.order)):
        if name.lower() not in canonical:
            raise no_such_column(query, name, query.lower().find(name.lower()) + 1, select.sobject)
    found = [r for r in rows if select.where is None or select.where(r)]
    for name, descending in reversed(select.order):
        nulls = [r for r in found if value_of(r, name) is None]
        ordered = sorted(
            (r for r in found if value_of(r, name) is not None),
            key=lambda r: _fold(value_of(r, name)),
            reverse=descending,
        )
        found = ordered + nulls if descending else nulls + ordered  # SOQL's default
    found = found[select.offset :]
    if select.limit is not None:
        found = found[: select.limit]
    return names, found
