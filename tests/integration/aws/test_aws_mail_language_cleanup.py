"""A deleted IAM user's kept mail language goes with it (DeleteUser through boto3), and so does a deleted
directory user's."""

from __future__ import annotations

from integration.aws.aws_world import Account, AwsWorld
from vestibule.core.flows.portal_signin import directory_user_ref
from vestibule.services.context import Deps
from vestibule.services.identity_center import directory
from vestibule.services.identity_center.directory_profile import UserProfile


def test_deleting_a_user_forgets_its_mail_language(world: AwsWorld, account: Account) -> None:
    iam = world.iam(account.root)
    user_id = iam.create_user(UserName="leaver")["User"]["UserId"]
    keep = f"user:{user_id}"
    other = f"user:{iam.create_user(UserName='stayer')['User']['UserId']}"

    async def put(deps: Deps) -> None:
        async with deps.store.unit() as uow:
            await uow.mail_languages.put(keep, "zh-TW", 1.0)
            await uow.mail_languages.put(other, "zh-TW", 1.0)

    async def kept(deps: Deps) -> tuple[str | None, str | None]:
        async with deps.store.unit() as uow:
            return await uow.mail_languages.get(keep), await uow.mail_languages.get(other)

    world.run(put)
    iam.delete_user(UserName="leaver")
    assert world.run(kept) == (None, "zh-TW")


def test_deleting_a_directory_user_forgets_its_mail_language(world: AwsWorld) -> None:
    async def work(deps: Deps) -> str | None:
        async with deps.store.unit() as uow:
            user = await directory.create_user(uow, "d-0123456789", "gone", UserProfile(display_name="Gone"),
                                               actor="test", now=1.0)
            key = directory_user_ref(user.id).key
            await uow.mail_languages.put(key, "zh-TW", 1.0)
        async with deps.store.unit() as uow:
            await directory.delete_user(uow, "d-0123456789", user.id)
        async with deps.store.unit() as uow:
            return await uow.mail_languages.get(key)

    assert world.run(work) is None
