"""What the signed-in user may choose, through the SSO portal API with the cached token: the accounts
(ListAccounts) and, in one account, the roles (ListAccountRoles), every page of each."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from .aws_config import SsoSession
from .endpoints import client, error_code, error_message, talking_to
from .errors import NotSignedIn, SignInError
from .token_cache import CachedToken


@dataclass(frozen=True)
class Account:
    account_id: str
    name: str
    email: str


def _shown(text: object) -> str:
    """A server-chosen name as the terminal may show it: no control characters (no escape sequences)."""
    return "".join(c for c in str(text or "") if c.isprintable())[:256]


class Portal:
    def __init__(self, session: SsoSession, token: CachedToken, profile: str | None = None) -> None:
        self.session, self.token = session, token
        self.api = client("sso", session.start_url, session.region, profile)

    def _pages(self, operation: str, key: str, **params: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        paginator = self.api.get_paginator(operation)
        with talking_to(self.api):
            try:
                for page in paginator.paginate(accessToken=self.token.access_token, **params):
                    items.extend(page.get(key) or [])
            except ClientError as exc:
                if error_code(exc) == "UnauthorizedException":
                    raise NotSignedIn(f"the server refused the token of [sso-session {self.session.name}]; "
                                      f"sign in again: vestibule sso login --sso-session {self.session.name}"
                                      ) from None
                raise SignInError(f"{operation}: {error_code(exc)}: {error_message(exc)}") from None
        return items

    def accounts(self) -> list[Account]:
        found = [Account(str(a.get("accountId") or ""), _shown(a.get("accountName")), _shown(a.get("emailAddress")))
                 for a in self._pages("list_accounts", "accountList")]
        return sorted(found, key=lambda a: (a.name.lower(), a.account_id))

    def roles(self, account_id: str) -> list[str]:
        found = self._pages("list_account_roles", "roleList", accountId=account_id)
        return sorted(str(r.get("roleName") or "") for r in found)
