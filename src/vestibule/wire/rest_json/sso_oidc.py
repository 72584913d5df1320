"""SSO-OIDC (`POST /client/register`, `POST /device_authorization`, `POST /token`): the OAuth device
authorization grant for the CLI. No operation is served yet."""

from __future__ import annotations

from .request import RestTable

SSO_OIDC: RestTable = RestTable()
