"""The LDAP directory of an identity source, through ldap3: the checks of the operator's DNs and filters, and
(for the portal) finding a user with the service account and binding as that user.

ldap3 reads names pyasn1 deprecated at import; the import below hides those warnings (they are ldap3's own, and
the suite turns warnings into errors)."""

from __future__ import annotations

import warnings

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"ldap3(\.|$)")
    from ldap3.core.exceptions import (  # type: ignore[import-untyped]
        LDAPException,
        LDAPInvalidDnError,
        LDAPInvalidFilterError,
    )
    from ldap3.operation.search import parse_filter  # type: ignore[import-untyped]
    from ldap3.utils.dn import parse_dn  # type: ignore[import-untyped]


def is_dn(text: str) -> bool:
    try:
        return bool(text) and bool(parse_dn(text))
    except LDAPInvalidDnError:
        return False


def is_filter(text: str) -> bool:
    try:
        parse_filter(text, None, False, False, None, False)
    except (LDAPInvalidFilterError, LDAPException, ValueError, IndexError):
        return False
    return True
