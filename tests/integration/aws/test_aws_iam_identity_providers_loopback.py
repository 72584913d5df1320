"""With VESTIBULE_FEDERATION_INSECURE_LOOPBACK on, CreateOpenIDConnectProvider takes http:// URLs of loopback
hosts (127.0.0.0/8, ::1, localhost) for local identity providers and tests; other http:// hosts stay refused."""

from __future__ import annotations

import dataclasses

import pytest
from botocore.exceptions import ClientError

from integration.aws.aws_world import Account, AwsWorld, error_code
from vestibule.services.context import Deps
from vestibule.services.iam import identity_providers as providers
from vestibule.settings import Settings


@pytest.fixture(scope="module")
def aws_settings(aws_settings: Settings) -> Settings:
    return dataclasses.replace(aws_settings, federation_insecure_loopback=True)


@pytest.mark.parametrize(("url", "issuer", "suffix"), [
    ("http://127.0.0.1:4711", "http://127.0.0.1:4711", "127.0.0.1:4711"),
    ("http://127.8.9.10/realms/test/", "http://127.8.9.10/realms/test", "127.8.9.10/realms/test"),
    ("http://LocalHost:8080/x", "http://localhost:8080/x", "localhost:8080/x"),
    ("http://[::1]:9000", "http://[::1]:9000", "[::1]:9000"),
    ("https://idp.example.com", "https://idp.example.com", "idp.example.com"),
])
def test_http_to_loopback_hosts_is_accepted(world: AwsWorld, account: Account, url: str, issuer: str,
                                            suffix: str) -> None:
    iam = world.iam(account.root)
    arn = iam.create_open_id_connect_provider(Url=url, ClientIDList=["local"])["OpenIDConnectProviderArn"]
    assert arn == f"arn:aws:iam::{account.account_id}:oidc-provider/{suffix}"
    assert iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)["Url"] == suffix

    async def read(deps: Deps) -> providers.OidcProviderView | None:
        async with deps.store.unit() as uow:
            return await providers.oidc_provider(uow, arn)

    view = world.run(read)
    assert view is not None and view.issuer == issuer and view.url == suffix


@pytest.mark.parametrize("url", ["http://idp.example.com", "http://10.0.0.1", "http://0.0.0.0:80",
                                 "http://127.0.0.1.example.com", "http://[::2]"])
def test_http_to_other_hosts_is_still_refused(world: AwsWorld, account: Account, url: str) -> None:
    with pytest.raises(ClientError) as err:
        world.iam(account.root).create_open_id_connect_provider(Url=url)
    assert error_code(err.value) == "InvalidInput"
