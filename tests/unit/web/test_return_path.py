"""Where the portal sign-in may send a browser back to: only this site's CLI sign-in approval pages."""

from __future__ import annotations

import pytest

from vestibule.web.portal.common import safe_return


@pytest.mark.parametrize("path", [
    "/device",
    "/device?user_code=BCDF-GHJK",
    "/device/confirm?flow=abc_DEF-123",
    "/authorize",
    "/authorize?response_type=code&client_id=x&state=y",
])
def test_approval_pages_are_returned_to(path: str) -> None:
    assert safe_return(path) == path


@pytest.mark.parametrize("path", [
    "",
    "device",
    "/devices",
    "/device-x",
    "/authorizer",
    "/portal/d-1234567890/",
    "/",
    "//evil.example/device",
    "///evil.example/device",
    "/\\evil.example/device",
    "/device\\..\\",
    "/device\n",
    "/device\t?x",
    "/device?x=\x7f",
    "https://evil.example/device",
    "http://127.0.0.1/device",
    " /device",
])
def test_anything_else_is_not(path: str) -> None:
    assert safe_return(path) is None
