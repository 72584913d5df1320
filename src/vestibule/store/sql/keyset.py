"""Keyset pages in SQL: the rows after a sort key, in key order, one more than the page (it tells that more
follow), and path prefix filters done by the database. Portable SQL only (SQLite and PostgreSQL alike)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, and_, func, or_, true
from sqlalchemy.orm import QueryableAttribute

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


def starts_with(column: Column, prefix: str) -> ColumnElement[bool]:
    """`column` begins with `prefix`, exactly (case and LIKE's wildcards included): `LIKE 'prefix%'` with `%`,
    `_` and the escape character escaped, which PostgreSQL can serve from a pattern index, and a comparison of
    the leading characters, since SQLite's LIKE ignores the case of ASCII letters."""
    if prefix in ("", "/"):
        return true()  # every IAM path starts with "/"
    escaped = (prefix.replace(_LIKE_ESCAPE, _LIKE_ESCAPE * 2).replace("%", _LIKE_ESCAPE + "%")
               .replace("_", _LIKE_ESCAPE + "_"))
    return and_(column.like(escaped + "%", escape=_LIKE_ESCAPE), func.substr(column, 1, len(prefix)) == prefix)
