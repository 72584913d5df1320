"""The Identity Store operation table (rows in users.py, groups.py, memberships.py)."""

from __future__ import annotations

from ..request import JsonTable

IDENTITY_STORE: JsonTable = JsonTable()
