"""The LDAP source's pure parts: the password policy response control (draft-behera-ldap-password-policy) as slapd
sends it, and the checks of an LDAP source's settings."""

from __future__ import annotations

import pytest

from vestibule.core.federation_failures import Cause, FederationFailure
from vestibule.errors import InvalidValue
from vestibule.services.identity_center.identity_sources import LdapSource, checked_ldap
from vestibule.services.identity_center.ldap_directory import (
    PASSWORD_POLICY,
    authenticate,
    is_dn,
    is_filter,
    matching_name,
    policy_error,
)


def _result(value: bytes | None) -> dict[str, object]:
    return {"result": 49, "controls": {} if value is None else {PASSWORD_POLICY: {"value": value}}}


@pytest.mark.parametrize(("value", "error"), [
    (b"0\x03\x81\x01\x00", "passwordExpired"),  # what slapd's ppolicy answers for an expired password
    (b"0\x03\x81\x01\x01", "accountLocked"),
    (b"0\x03\x81\x01\x02", "changeAfterReset"),
    (b"0\x08\xa0\x03\x80\x01\x05\x81\x01\x00", "passwordExpired"),  # a warning before the error
    (b"0\x05\xa0\x03\x81\x01\x02", None),  # a warning only (grace logins left)
    (b"0\x00", None),  # no warning, no error
    (None, None),
    (b"", None),
    (b"0\x05\x81\x01", None),  # truncated
    (b"1\x03\x81\x01\x00", None),  # not a SEQUENCE
    (b"0\x83\x81\x01\x00", None),  # long-form length: not what the control carries
])
def test_password_policy_control(value: bytes | None, error: str | None) -> None:
    assert policy_error(_result(value)) == error


def test_dn_and_filter_checks() -> None:
    assert is_dn("cn=svc,ou=services,dc=example,dc=com") and not is_dn("") and not is_dn("svc")
    assert is_filter("(&(objectClass=inetOrgPerson)(!(employeeType=x)))") and not is_filter("(uid=x")
    assert not is_filter("uid=x") and not is_filter(")(")


def test_checked_ldap_normalizes_and_refuses() -> None:
    base = LdapSource(url=" LDAPS://ldap.example.com:1636/ ", bind_dn=" cn=svc,dc=example,dc=com ",
                      base_dn="dc=example,dc=com", group_base_dn="")
    checked = checked_ldap(base)
    assert (checked.url, checked.bind_dn, checked.group_base_dn) == (
        "ldaps://ldap.example.com:1636", "cn=svc,dc=example,dc=com", None)
    assert (checked.host, checked.port, checked.ldaps) == ("ldap.example.com", 1636, True)
    with pytest.raises(InvalidValue, match="starttls"):
        checked_ldap(LdapSource(url="ldap://h", bind_dn="cn=a", base_dn="dc=b"))
    with pytest.raises(InvalidValue, match="attribute"):
        checked_ldap(LdapSource(url="ldaps://h", bind_dn="cn=a", base_dn="dc=b", member_attribute="member*"))


def test_matching_name_is_how_the_directory_compares_names() -> None:
    assert {matching_name(n) for n in ("alice", "ALICE", "ａｌｉｃｅ", " Alice ", "ali\u00adce")} == {"alice"}
    assert matching_name("Mary  Ann") == "mary ann" and matching_name("bob") != matching_name("alice")


def test_a_user_name_that_is_not_text_is_a_wrong_name() -> None:
    """A lone surrogate cannot be sent (UnicodeEncodeError, a 500 from the portal): refused before connecting."""
    source = LdapSource(url="ldaps://127.0.0.1:1", bind_dn="cn=s,dc=example,dc=com", base_dn="dc=example,dc=com")
    with pytest.raises(FederationFailure) as refused:
        authenticate(source, "service", "\udcff", "a password")
    assert refused.value.cause is Cause.INVALID_CREDENTIALS
