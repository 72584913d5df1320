"""SSO Admin (`SWBExternalService.*`): Identity Center instances, permission sets, assignments. No operation
is served yet."""

from __future__ import annotations

from .request import JsonTable

SSO_ADMIN: JsonTable = JsonTable()
