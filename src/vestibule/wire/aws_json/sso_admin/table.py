"""The SSO Admin operation table (rows in instances.py, permission_sets.py, assignments.py)."""

from __future__ import annotations

from ..request import JsonTable

SSO_ADMIN: JsonTable = JsonTable()
