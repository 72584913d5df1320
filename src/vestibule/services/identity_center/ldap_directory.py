"""The LDAP directory of an identity source, through ldap3 (synchronous: the portal runs `authenticate` in a
thread): the service account binds and finds the user by name, the user's groups are read, then a connection of
its own binds as the user with the typed password. Only TLS connections: LDAPS, or StartTLS before any bind, with
the server's certificate checked against the source's CA file (or the system's CAs) and its host name.

Every refusal is a FederationFailure: LDAP_UNREACHABLE (no answer, TLS refused), LDAP_SERVICE_ACCOUNT (the service
account's bind refused; "expired" when the password policy control says so), INVALID_CREDENTIALS (no such user,
several, a wrong or empty password: all the same to the user), USER_DISABLED (the entry matches the source's
disabled filter and the password was right; with a wrong one it is INVALID_CREDENTIALS, so nobody learns from the
portal which names exist). `admin` values say which, for the administrator only.

ldap3 reads names pyasn1 deprecated at import; the import below hides those warnings (they are ldap3's own, and
the suite turns warnings into errors)."""

from __future__ import annotations

import contextlib
import secrets
import ssl
import stringprep
import unicodedata
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ...core.federation_failures import Cause, FederationFailure
from .identity_sources import LdapSource

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"ldap3(\.|$)")
    import ldap3
    from ldap3.core.exceptions import (
        LDAPException,
        LDAPInvalidDnError,
        LDAPInvalidFilterError,
    )
    from ldap3.operation.search import parse_filter
    from ldap3.protocol.sasl.sasl import sasl_prep
    from ldap3.utils.conv import escape_filter_chars
    from ldap3.utils.dn import parse_dn

PASSWORD_POLICY = "1.3.6.1.4.1.42.2.27.8.5.1"  # draft-behera-ldap-password-policy's request/response control
_POLICY_ERRORS = {0: "passwordExpired", 1: "accountLocked", 2: "changeAfterReset"}
MAX_PASSWORD = 1024
MAX_GROUPS = 1000
_VALUE_MAX = 1024


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


@dataclass(frozen=True)
class LdapUser:
    """The entry the user bound as: its DN, the user name as the directory spells it, mail and display name when
    it has them, and the names of the groups that list it as a member."""

    dn: str
    user_name: str
    email: str | None
    display_name: str | None
    groups: tuple[str, ...]


class _CheckedTls(ldap3.Tls):  # type: ignore[misc]
    """ldap3's Tls with Python's own verification: CERT_REQUIRED and the host name checked in the handshake
    (ldap3 2.9 turns check_hostname off and skips its own check for LDAPS)."""

    def __init__(self, context: ssl.SSLContext, host: str) -> None:
        super().__init__(validate=ssl.CERT_REQUIRED)
        self._context, self._host = context, host

    def wrap_socket(self, connection: Any, do_handshake: bool = False) -> None:
        raw = connection.socket
        try:
            connection.socket = self._context.wrap_socket(raw, server_side=False,
                                                          do_handshake_on_connect=do_handshake,
                                                          server_hostname=self._host)
        except BaseException:
            raw.close()
            raise


def _context(source: LdapSource) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=source.ca_file)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def _unreachable(source: LdapSource, error: BaseException | str) -> FederationFailure:
    reason = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
    return FederationFailure(Cause.LDAP_UNREACHABLE, "The LDAP directory did not answer over TLS.",
                             admin={"url": source.url, "starttls": str(source.starttls).lower(),
                                    "error": reason[:_VALUE_MAX]})


def _connection(source: LdapSource, context: ssl.SSLContext, user: str, password: str) -> Any:
    server = ldap3.Server(source.host, port=source.port, use_ssl=source.ldaps, get_info=ldap3.NONE,
                          connect_timeout=source.timeout, tls=_CheckedTls(context, source.host))
    conn = ldap3.Connection(server, user=user, password=password, auto_bind=ldap3.AUTO_BIND_NONE,
                            receive_timeout=source.timeout, raise_exceptions=False, read_only=True,
                            return_empty_attributes=False, auto_referrals=False)
    try:
        conn.open()
        if source.starttls and not conn.start_tls():
            raise LDAPException(f"StartTLS refused: {conn.result.get('description') if conn.result else ''}")
    except (LDAPException, OSError, ssl.SSLError) as exc:
        _close(conn)
        raise _unreachable(source, exc) from None
    return conn


def _close(conn: Any) -> None:
    with contextlib.suppress(LDAPException, OSError):
        conn.unbind()


def policy_error(result: dict[str, Any] | None) -> str | None:
    """The password policy response control's error (passwordExpired, accountLocked, ...) in a bind's result."""
    control = ((result or {}).get("controls") or {}).get(PASSWORD_POLICY) or {}
    value = control.get("value") or b""
    # PasswordPolicyResponseValue ::= SEQUENCE { warning [0] ... OPTIONAL, error [1] ENUMERATED ... OPTIONAL }
    if len(value) < 2 or value[0] != 0x30 or value[1] & 0x80:
        return None
    at, end = 2, min(len(value), 2 + value[1])
    while at + 2 <= end:
        tag, length = value[at], value[at + 1]
        if length & 0x80 or at + 2 + length > end:
            return None
        if tag == 0x81 and length >= 1:
            code = int.from_bytes(value[at + 2:at + 2 + length], "big")
            return _POLICY_ERRORS.get(code, f"error {code}")
        at += 2 + length
    return None


def _bind(source: LdapSource, conn: Any) -> tuple[bool, dict[str, Any]]:
    try:
        ok = bool(conn.bind(controls=[(PASSWORD_POLICY, False, None)]))
    except (LDAPException, OSError, ssl.SSLError) as exc:
        raise _unreachable(source, exc) from None
    return ok, dict(conn.result or {})


def _first(entry: dict[str, Any], attribute: str) -> str | None:
    for name, values in (entry.get("attributes") or {}).items():
        if name.lower() == attribute.lower():
            listed = values if isinstance(values, list) else [values]
            for value in listed:
                text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
                if text.strip():
                    return text.strip()[:_VALUE_MAX]
    return None


def _search(source: LdapSource, conn: Any, base: str, search_filter: str, attributes: Sequence[str],
            limit: int, scope: str = ldap3.SUBTREE) -> list[dict[str, Any]]:
    try:
        conn.search(base, search_filter, search_scope=scope, attributes=list(attributes),
                    size_limit=limit, time_limit=source.timeout)
    except (LDAPException, OSError, ssl.SSLError) as exc:
        raise _unreachable(source, exc) from None
    result = conn.result or {}
    if result.get("result") not in (0, 4):  # success, sizeLimitExceeded (the caller sees more than it wanted)
        raise _unreachable(source, f"search under {base} answered {result.get('description')}")
    return [e for e in (conn.response or []) if e.get("type") == "searchResEntry"]


def _invalid(user_name: str, why: str, **admin: str) -> FederationFailure:
    return FederationFailure(Cause.INVALID_CREDENTIALS, "The LDAP directory refused the user name or password.",
                             admin={"user_name": user_name[:256], "reason": why, **admin})


def _user_filter(source: LdapSource, user_name: str) -> str:
    one = f"({source.user_attribute}={escape_filter_chars(user_name)})"
    return f"(&{one}{source.user_filter})" if source.user_filter else one


def matching_name(user_name: str) -> str:
    """`user_name` as an LDAP server's matching rules compare it (RFC 4518's preparation, near enough: characters
    mapped to nothing dropped, NFKC, case folded, spaces collapsed), so "ＡＬＩＣＥ" and "alice" are one name to
    the portal's throttle as they are one entry to the directory."""
    kept = "".join(" " if stringprep.in_table_c12(c) else c for c in user_name if not stringprep.in_table_b1(c))
    return " ".join(unicodedata.normalize("NFKC", kept).casefold().split())


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate
        return False
    return True


def _preparable(password: str) -> bool:
    """Whether ldap3 can send `password` in a simple bind: it prepares it with SASLprep (RFC 4013, as RFC 4513
    says), which refuses control characters and a password made only of characters mapped to nothing (U+00AD)."""
    try:
        return bool(sasl_prep(password))
    except (LDAPException, ValueError):
        return False


def authenticate(source: LdapSource, service_password: str, user_name: str, password: str) -> LdapUser:
    """The user `user_name` bound with `password` in the source's directory (see the module's docstring for
    every refusal)."""
    context = _context(source)
    if not user_name or not password or len(password) > MAX_PASSWORD:
        raise _invalid(user_name, "empty user name or password" if len(password) <= MAX_PASSWORD
                       else "password too long")
    if not _encodable(user_name):
        raise _invalid(user_name.encode("utf-8", "replace").decode(), "user name is not UTF-8 text")
    if not _preparable(password):  # ldap3 would raise at the bind: not the directory's fault, nor a guess checked
        raise _invalid(user_name, "password refused by SASLprep (RFC 4013: control or unassigned characters)")
    service = _connection(source, context, source.bind_dn, service_password)
    try:
        ok, result = _bind(source, service)
        if not ok:
            expired = policy_error(result)
            raise FederationFailure(
                Cause.LDAP_SERVICE_ACCOUNT, "The LDAP service account cannot bind.",
                admin={"bind_dn": source.bind_dn, "url": source.url,
                       "result": str(result.get("description") or result.get("result")),
                       **({"password_policy": expired} if expired else {})})
        attributes = [source.user_attribute, source.email_attribute, source.display_name_attribute]
        entries = _search(source, service, source.base_dn, _user_filter(source, user_name), attributes, 2)
        if len(entries) != 1:
            service_entries = len(entries)
            _dummy_bind(source, context, password)  # as long as a real user's bind
            raise _invalid(user_name, "no such entry" if not service_entries else "several entries match")
        entry = entries[0]
        dn = str(entry["dn"])
        disabled = bool(source.disabled_filter) and bool(
            _search(source, service, dn, source.disabled_filter, ["1.1"], 1, ldap3.BASE))
        groups: tuple[str, ...] = ()
        if source.group_base_dn:
            found = _search(source, service, source.group_base_dn,
                            f"({source.member_attribute}={escape_filter_chars(dn)})", [source.group_attribute],
                            MAX_GROUPS)
            groups = tuple(sorted({name for e in found if (name := _first(e, source.group_attribute))}))
    finally:
        _close(service)
    _user_bind(source, context, dn, user_name, password, disabled)
    return LdapUser(dn, _first(entry, source.user_attribute) or user_name, _first(entry, source.email_attribute),
                    _first(entry, source.display_name_attribute), groups)


def _user_bind(source: LdapSource, context: ssl.SSLContext, dn: str, user_name: str, password: str,
               disabled: bool) -> None:
    conn = _connection(source, context, dn, password)
    try:
        ok, result = _bind(source, conn)
    finally:
        _close(conn)
    if not ok:
        policy = policy_error(result)
        raise _invalid(user_name, "entry disabled; bind refused" if disabled else "bind refused", dn=dn,
                       result=str(result.get("description") or result.get("result")),
                       **({"password_policy": policy} if policy else {}))
    if disabled:
        raise FederationFailure(Cause.USER_DISABLED, "The LDAP entry is disabled.",
                                admin={"user_name": user_name[:256], "dn": dn,
                                       "disabled_filter": source.disabled_filter})


def _dummy_bind(source: LdapSource, context: ssl.SSLContext, password: str) -> None:
    """A bind as a DN no entry has (refused), so an unknown name costs what a wrong password costs."""
    conn = _connection(source, context, f"cn=vestibule-no-such-entry-{secrets.token_hex(8)},{source.base_dn}",
                       password)
    try:
        _bind(source, conn)
    finally:
        _close(conn)
