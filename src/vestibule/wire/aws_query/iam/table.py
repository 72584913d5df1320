"""The IAM operation table every IAM handler module adds its rows to."""

from __future__ import annotations

from ..request import QueryTable

IAM: QueryTable = QueryTable()
