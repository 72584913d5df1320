"""botocore's own `sso-oidc` and `sso` clients, unsigned, pointed at the server behind a start URL, and the one
place that turns botocore's connection failures into an error the user can act on.

The endpoint is the start URL's base (what precedes `/portal/`, or its origin) unless the environment names one
(`AWS_ENDPOINT_URL_SSO_OIDC`, `AWS_ENDPOINT_URL_SSO`, `AWS_ENDPOINT_URL`): then botocore resolves it, exactly as
it will for the AWS CLI and SDKs that later use the token."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any
from urllib.parse import urlsplit

import botocore.session
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ProfileNotFound,
    ReadTimeoutError,
)

from .errors import ConfigProblem, ServerUnreachable, SignInError

_ENV = {"sso-oidc": "AWS_ENDPOINT_URL_SSO_OIDC", "sso": "AWS_ENDPOINT_URL_SSO"}
_CONFIG = Config(signature_version=UNSIGNED, connect_timeout=5, read_timeout=30,
                 retries={"max_attempts": 2, "mode": "standard"})


def server_base(start_url: str) -> str:
    """`https://sso.example.com/portal/d-1234567890/start` -> `https://sso.example.com`; a server published
    under a path keeps it (`https://example.com/sso/portal/...` -> `https://example.com/sso`)."""
    parts = urlsplit(start_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigProblem(f"the start URL {start_url!r} is not an http:// or https:// URL")
    prefix = parts.path.split("/portal/", 1)[0] if "/portal/" in parts.path else ""
    return f"{parts.scheme}://{parts.netloc}{prefix.rstrip('/')}"


def configured_endpoint(service: str) -> str | None:
    """The environment's endpoint for `service`, if any (botocore's own lookup order)."""
    return os.environ.get(_ENV[service]) or os.environ.get("AWS_ENDPOINT_URL") or None


def client(service: str, start_url: str, region: str, profile: str | None = None) -> Any:
    """An unsigned botocore client for `sso-oidc` or `sso`."""
    session = botocore.session.Session(profile=profile)
    endpoint = None if configured_endpoint(service) else server_base(start_url)
    try:
        return session.create_client(service, region_name=region, config=_CONFIG, endpoint_url=endpoint)
    except ProfileNotFound as exc:
        raise ConfigProblem(f"no such profile: {exc.kwargs.get('profile')}") from None
    except BotoCoreError as exc:
        raise ConfigProblem(str(exc)) from None


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def error_message(exc: ClientError) -> str:
    error = exc.response.get("Error", {})
    return str(error.get("Message") or exc.response.get("error_description") or error.get("Code") or exc)


@contextmanager
def answered_by(endpoint: str, server: str, setting: str) -> Iterator[None]:
    """Nothing answered -> ServerUnreachable; a non-AWS answer (an HTML 404, a proxy's 502) -> SignInError naming
    the endpoint, `server` (what should have answered) and `setting` (where the user chose the endpoint); modelled
    AWS errors pass through for the caller to read."""
    try:
        yield
    except (EndpointConnectionError, ConnectTimeoutError, ConnectionClosedError) as exc:
        raise ServerUnreachable(f"cannot reach the sign-in server at {endpoint} ({type(exc).__name__}); is it "
                                f"running, and is {setting} right?") from None
    except ReadTimeoutError:
        raise ServerUnreachable(f"the sign-in server at {endpoint} did not answer in time") from None
    except ClientError as exc:
        code = error_code(exc)
        if code.isdigit():
            raise SignInError(f"{endpoint} answered HTTP {code}, not as {server} would; check {setting}") from None
        raise


def talking_to(api: Any) -> AbstractContextManager[None]:
    """answered_by() for the `sso-oidc` and `sso` clients."""
    return answered_by(api.meta.endpoint_url, "an SSO sign-in server", "the start URL (or AWS_ENDPOINT_URL)")
