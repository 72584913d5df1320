"""A path prefix as SQL: an index range where text is compared by code point, LIKE where it may not be."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect

from vestibule.store.models import IamUser
from vestibule.store.sql import keyset


def _sql(dialect: Dialect, prefix: str) -> str:
    stmt = select(IamUser.id).where(IamUser.account_id == "123456789012", keyset.starts_with(IamUser.path, prefix))
    return str(stmt.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


@pytest.mark.parametrize(("prefix", "after"), [
    ("/scale/team-a/", "/scale/team-a0"),
    ("/a_b%/", "/a_b%0"),
    ("/x~", "/x\x7f"),
    ("/z\U0010ffff", "/{"),
])
def test_the_range_ends_at_the_least_string_after_every_string_with_the_prefix(prefix: str, after: str) -> None:
    assert keyset._successor(prefix) == after
    assert prefix < after and (prefix + "\U0010ffff" * 3) < after


def test_sqlite_reads_a_prefix_as_a_range_of_the_path_index() -> None:
    sql = _sql(sqlite.dialect(), "/scale/team-a/")
    assert "iam_users.path >= '/scale/team-a/' AND iam_users.path < '/scale/team-a0'" in sql
    assert "substr(iam_users.path, 1, 14) = '/scale/team-a/'" in sql
    assert "LIKE" not in sql and "= 1" not in sql


def test_postgresql_uses_the_range_only_where_its_collation_orders_by_code_point() -> None:
    linguistic: Dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    sql = _sql(linguistic, "/a_b%/")
    assert "iam_users.path LIKE '/a\\_b\\%" in sql and "ESCAPE" in sql and ">=" not in sql
    by_code_point: Dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    setattr(by_code_point, keyset.CODE_POINT_ORDER, True)
    sql = _sql(by_code_point, "/a_b%/")
    assert "iam_users.path >= '/a_b" in sql and "iam_users.path < '/a_b" in sql and "LIKE" not in sql


@pytest.mark.parametrize("prefix", ["", "/"])
def test_the_root_prefix_matches_every_path(prefix: str) -> None:
    assert "path" not in _sql(sqlite.dialect(), prefix).split("WHERE", 1)[1]
