"""Identity Store (`AWSIdentityStore.*`): Identity Center users and groups. No operation is served yet; the
service answers every target with a clean `UnknownOperationException`."""

from __future__ import annotations

from .request import JsonTable

IDENTITY_STORE: JsonTable = JsonTable()
