"""Keyset pages in SQL: the rows after a sort key, in key order, one more than the page (it tells that more
follow), and path prefix filters done by the database. Portable SQL only (SQLite and PostgreSQL alike)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar, cast

from sqlalchemy import ColumnElement, Select, and_, func, or_, true
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import QueryableAttribute
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.sqltypes import NullType
from sqlalchemy.types import TypeEngine

S = TypeVar("S", bound=Select[*tuple[Any, ...]])
Column = ColumnElement[Any] | QueryableAttribute[Any]
_LIKE_ESCAPE = "\\"


def after(columns: Sequence[Column], key: Sequence[object], *, descending: bool = False) -> ColumnElement[bool]:
    """(c1, c2, ...) > (k1, k2, ...) spelled out as `c1 >= k1 AND (c1 > k1 OR (c2 >= k2 AND (...)))`: the
    leading `>=` is a range on the first column that an index on it serves, on every backend (`descending`:
    the same with < and <=)."""
    column, value = columns[0], key[0]
    beyond, reached = (column < value, column <= value) if descending else (column > value, column >= value)
    if len(columns) == 1:
        return beyond
    return and_(reached, or_(beyond, after(columns[1:], key[1:], descending=descending)))


def page_of(stmt: S, order: Sequence[Column], key: Sequence[object] | None, limit: int, *,
            descending: bool = False) -> S:
    """`stmt` cut to the `limit + 1` rows after `key` (None: from the start) in `order` (every column
    descending with `descending`: newest first)."""
    if key is not None:
        if len(key) != len(order):
            raise ValueError("a page key has one value per sort column")
        stmt = stmt.where(after(order, key, descending=descending))
    return stmt.order_by(*(column.desc() for column in order) if descending else order).limit(limit + 1)


# Set on a PostgreSQL dialect whose database orders text by code point (C, POSIX, C.UTF-8, ucs_basic): there a
# prefix is a range of the column's index. A linguistic collation (en_US.UTF-8, ICU) may order a string that
# starts with the prefix after the range's end, so there only LIKE is exact.
CODE_POINT_ORDER = "vestibule_code_point_order"
CODE_POINT_COLLATIONS = frozenset({"C", "POSIX", "C.UTF-8", "C.utf8", "ucs_basic"})


def starts_with(column: Column, prefix: str) -> ColumnElement[bool]:
    """`column` begins with `prefix`, exactly (case and LIKE's wildcards included), as a condition an index on
    the column serves: `column >= prefix AND column < <prefix with its last character raised>` where text is
    compared by code point (SQLite always; PostgreSQL when its collation does), else `LIKE 'prefix%'` with `%`,
    `_` and the escape character escaped; both with a comparison of the leading characters, since SQLite's LIKE
    ignores the case of ASCII letters."""
    if prefix in ("", "/"):
        return true()  # every IAM path starts with "/"
    return _PrefixMatch(column, prefix)


class _PrefixMatch(ColumnElement[bool]):
    # NullType, not Boolean: a dialect without native booleans would append "= 1" to it in a WHERE
    type = cast("TypeEngine[bool]", NullType())
    inherit_cache = False  # the SQL depends on the dialect's collation and holds the prefix

    def __init__(self, column: Column, prefix: str) -> None:
        self.column, self.prefix = column, prefix

    def as_range(self) -> ColumnElement[bool]:
        return and_(self.column >= self.prefix, self.column < _successor(self.prefix), self._leading())

    def as_like(self) -> ColumnElement[bool]:
        escaped = (self.prefix.replace(_LIKE_ESCAPE, _LIKE_ESCAPE * 2).replace("%", _LIKE_ESCAPE + "%")
                   .replace("_", _LIKE_ESCAPE + "_"))
        return and_(self.column.like(escaped + "%", escape=_LIKE_ESCAPE), self._leading())

    def _leading(self) -> ColumnElement[bool]:
        return func.substr(self.column, 1, len(self.prefix)) == self.prefix


def _successor(prefix: str) -> str:
    """The least string after every string that starts with `prefix` (code point order)."""
    kept = prefix.rstrip(chr(0x10FFFF))
    return kept[:-1] + chr(ord(kept[-1]) + 1) if kept else prefix + chr(0x10FFFF)


@compiles(_PrefixMatch)
def _prefix_by_range(element: _PrefixMatch, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.as_range(), **kw)


@compiles(_PrefixMatch, "postgresql")
def _prefix_on_postgresql(element: _PrefixMatch, compiler: SQLCompiler, **kw: Any) -> str:
    chosen = element.as_range() if getattr(compiler.dialect, CODE_POINT_ORDER, False) else element.as_like()
    return compiler.process(chosen, **kw)
