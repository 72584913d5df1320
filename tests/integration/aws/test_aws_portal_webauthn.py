"""An access portal user's security key is kept under the Identity Center instance's account but is no IAM MFA
device: ListMFADevices, ListVirtualMFADevices, GetAccountSummary and the credential report neither list nor count
it (boto3), while the root user's own key next to it is listed and counted."""

from __future__ import annotations

import csv
import io

from integration.aws.aws_world import Account, AwsWorld
from vestibule.core.flows.portal_signin import directory_user_ref
from vestibule.core.webauthn import CredentialKind
from vestibule.services import portal_webauthn, sessions, webauthn
from vestibule.services.context import Client, Deps
from vestibule.services.identity_center import directory, instances
from vestibule.services.signin.portal import PortalSession, principal_of
from vestibule.services.webauthn import Owner
from webauthn_authenticator import SoftAuthenticator

CLIENT = Client(ip="127.0.0.1", user_agent="test", browser_hash="b")


def _register(world: AwsWorld, owner: Owner) -> webauthn.CredentialDetails:
    async def run(deps: Deps) -> webauthn.CredentialDetails:
        rp = webauthn.relying_party(deps)
        key = SoftAuthenticator(origin=rp.origin, rp_id=rp.id)
        ceremony = await webauthn.begin_registration(deps, CLIENT, owner, CredentialKind.SECURITY_KEY)
        return await webauthn.finish_registration(deps, CLIENT, owner, ceremony.flow_id,
                                                  key.register(ceremony.options), "Desk key")

    return world.run(run)


def _portal_owner(world: AwsWorld, store_id: str, user_id: str) -> Owner:
    async def run(deps: Deps) -> Owner:
        async with deps.store.unit() as uow:
            user = await directory.get_user(uow, store_id, user_id)
            instance = await instances.by_identity_store_id(uow, store_id)
        assert user is not None and instance is not None
        ref = directory_user_ref(user.id)
        view = sessions.SessionView("h", ref, deps.clock(), deps.clock() + 60, 60, False, None, None)
        return portal_webauthn.owner(PortalSession(view, user, instance, principal_of(user, instance)))

    return world.run(run)


def test_portal_users_keys_are_not_in_the_iam_api(world: AwsWorld, account: Account) -> None:
    store_id = world.new_identity_store(account)
    user_id = world.new_directory_user(account, store_id, "carol")
    owner = _portal_owner(world, store_id, user_id)
    assert owner.account_id == account.account_id and owner.principal_key.startswith("directory-user:")
    portal_key = _register(world, owner)
    assert portal_key.serial is None
    iam = world.iam(account.root)
    assert iam.list_mfa_devices()["MFADevices"] == []
    assert iam.list_virtual_mfa_devices()["VirtualMFADevices"] == []
    summary = iam.get_account_summary()["SummaryMap"]
    assert summary["AccountMFAEnabled"] == 0 and summary["MFADevices"] == 0 and summary["MFADevicesInUse"] == 0
    iam.generate_credential_report()
    rows = {r["user"]: r for r in csv.DictReader(io.StringIO(iam.get_credential_report()["Content"].decode()))}
    assert set(rows) == {"<root_account>"} and rows["<root_account>"]["mfa_active"] == "false"

    root = Owner(f"root:{account.account_id}", "root", "root", account.root_arn, account.account_id)
    root_serial = _register(world, root).serial
    assert [d["SerialNumber"] for d in iam.list_mfa_devices()["MFADevices"]] == [root_serial]
    summary = iam.get_account_summary()["SummaryMap"]
    assert summary["AccountMFAEnabled"] == 1 and summary["MFADevices"] == 1 and summary["MFADevicesInUse"] == 1

    async def stored(deps: Deps) -> list[str | None]:
        async with deps.store.unit() as uow:
            return [row.serial for row in await uow.webauthn.in_account(account.account_id)]

    assert world.run(stored) == [root_serial]
