"""The SSO portal (`GET /federation/credentials`, `GET /assignment/accounts`, `GET /assignment/roles`,
`POST /logout`): answered with bearer tokens from the device sign-in. No operation is served yet; every
path under the service answers a clean `UnknownOperationException`."""

from __future__ import annotations

from .request import RestTable

SSO_PORTAL: RestTable = RestTable()
