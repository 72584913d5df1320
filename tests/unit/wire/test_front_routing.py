"""The front's protocol routing, decided from a request's head (and its body only when needed)."""

from __future__ import annotations

import pytest

from vestibule.wire.front import Route, route, route_by_body

SIGNED = {b"authorization": b"AWS4-HMAC-SHA256 Credential=AKIA/20260101/us-east-1/iam/aws4_request"}
FORM = {b"content-type": b"application/x-www-form-urlencoded"}


@pytest.mark.parametrize(("method", "path", "headers", "query", "expected"), [
    ("POST", "/", {b"x-amz-target": b"AWSIdentityStore.ListUsers"}, b"", Route.JSON),
    ("POST", "/", SIGNED, b"", Route.QUERY),
    ("POST", "/", FORM, b"", Route.NEEDS_BODY),
    ("GET", "/", {}, b"Action=GetCallerIdentity&Version=2011-06-15", Route.QUERY),
    ("GET", "/", {}, b"Action=x&csrf_token=abc", Route.WEB),
    ("GET", "/", {}, b"X-Amz-Algorithm=AWS4-HMAC-SHA256&Action=x&csrf_token=abc", Route.QUERY),
    ("GET", "/", {}, b"", Route.WEB),
    ("GET", "/federation/credentials", {}, b"role_name=a", Route.REST_JSON),
    ("GET", "/assignment/anything", {}, b"", Route.REST_JSON),
    ("POST", "/token", {b"content-type": b"application/json"}, b"", Route.REST_JSON),
    ("POST", "/token", FORM, b"", Route.NEEDS_BODY),
    ("GET", "/federation", {}, b"Action=getSigninToken", Route.WEB),
    ("GET", "/console", {}, b"", Route.WEB),
    ("POST", "/signin", {b"x-amz-target": b"AWSIdentityStore.ListUsers"}, b"", Route.WEB),
])
def test_route_from_the_head(method: str, path: str, headers: dict[bytes, bytes], query: bytes,
                             expected: Route) -> None:
    assert route(method, path, headers, query) is expected


@pytest.mark.parametrize(("path", "body", "expected"), [
    ("/", b"Action=GetCallerIdentity&Version=2011-06-15", Route.QUERY),
    ("/", b"Action=GetCallerIdentity&csrf_token=abc", Route.WEB),
    ("/", b"user_type=root&email=a%40b.c", Route.WEB),
    ("/token", b"grant_type=x", Route.REST_JSON),
    ("/token", b"csrf_token=abc&user_code=ABCD", Route.WEB),
])
def test_route_by_body(path: str, body: bytes, expected: Route) -> None:
    assert route_by_body(path, body) is expected
