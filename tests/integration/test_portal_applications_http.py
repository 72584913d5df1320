"""The portal's Applications tab against the live server: bookmark applications made with the functions behind
`vestibule sso application ...` (and that command itself), assigned to a user directly and to a group; the tab
links both (new tab, no opener, no referrer), an unassigned user sees the explained empty state, unsafe URLs are
refused, and deleting the group (Identity Store DeleteGroup) or the application takes the assignment away."""

from __future__ import annotations

import asyncio
import json
import secrets

import pytest
from sqlalchemy import func, select

from integration.aws.aws_world import Account, AwsWorld
from integration.aws.conftest import account, aws_settings, world  # noqa: F401 (fixtures)
from integration.test_cli import Cli, cli, cli_env  # noqa: F401 (fixtures)
from integration.test_cli_sso import _instance
from integration.test_portal_accounts_http import Portal, portal  # noqa: F401 (fixture)
from vestibule.errors import InvalidInput, NotFound
from vestibule.services.context import Deps
from vestibule.services.identity_center import applications
from vestibule.services.identity_center.applications import Application
from vestibule.settings import Settings
from vestibule.store.models import SsoApplicationAssignment


def _create(live: AwsWorld, store: str, name: str, url: str, description: str | None = None) -> Application:
    async def made(deps: Deps) -> Application:
        return await applications.create(deps, store, name, url, description)

    return live.run(made)


def _assign(live: AwsWorld, store: str, app_id: str, *, user: str | None = None, group: str | None = None) -> None:
    async def assigned(deps: Deps) -> None:
        await applications.assign(deps, store, app_id, user_name=user, group_name=group)

    live.run(assigned)


def test_assigned_applications_are_listed(world: AwsWorld, account: Account, portal: Portal) -> None:  # noqa: F811
    user = portal.user("grace")
    portal.user("heidi")
    group = str(portal.ids.create_group(IdentityStoreId=portal.store, DisplayName="wiki-readers")["GroupId"])
    portal.ids.create_group_membership(IdentityStoreId=portal.store, GroupId=group, MemberId={"UserId": user})
    wiki = _create(world, portal.store, "Wiki", "https://wiki.example.com/start?a=1&b=2", "Team <notes>")
    mail = _create(world, portal.store, "Mail", "http://mail.example.com/")
    _create(world, portal.store, "Unassigned", "https://nobody.example.com/")
    _assign(world, portal.store, mail.id, user="grace")
    _assign(world, portal.store, wiki.id, group="wiki-readers")
    _assign(world, portal.store, wiki.id, group="wiki-readers")  # the same assignment again

    browser = portal.sign_in("grace")
    page = browser.get(f"/portal/{portal.store}/?tab=applications")
    assert page.status_code == 200 and 'id="no-applications"' not in page.text
    assert ('<a href="http://mail.example.com/" rel="noopener noreferrer" target="_blank"'
            in page.text), page.text
    assert 'href="https://wiki.example.com/start?a=1&amp;b=2" rel="noopener noreferrer" target="_blank"' in page.text
    assert "Team &lt;notes&gt;" in page.text and "Team <notes>" not in page.text  # escaped
    assert page.text.index(f'data-application="{mail.id}"') < page.text.index(f'data-application="{wiki.id}"')
    assert "nobody.example.com" not in page.text
    # the Accounts tab is not the Applications tab
    assert "data-application=" not in browser.get(f"/portal/{portal.store}/").text

    other = portal.sign_in("heidi")
    empty = other.get(f"/portal/{portal.store}/?tab=applications")
    assert 'id="no-applications"' in empty.text and "data-application=" not in empty.text

    # deleting the group removes its assignment (and the user keeps the direct one)
    portal.ids.delete_group(IdentityStoreId=portal.store, GroupId=group)
    page = browser.get(f"/portal/{portal.store}/?tab=applications")
    assert f'data-application="{mail.id}"' in page.text and f'data-application="{wiki.id}"' not in page.text

    async def leftovers(deps: Deps) -> int:
        async with deps.store.unit() as uow:
            return len(await uow.applications.for_principals(
                (await uow.identity_center.instance_of_store(portal.store)).arn,  # type: ignore[union-attr]
                [("GROUP", group)]))

    assert world.run(leftovers) == 0
    # unassigning takes it off the tab; unassigning again is refused
    async def unassigned(deps: Deps) -> None:
        await applications.unassign(deps, portal.store, mail.id, user_name="grace")

    world.run(unassigned)
    assert 'id="no-applications"' in browser.get(f"/portal/{portal.store}/?tab=applications").text
    with pytest.raises(NotFound):
        world.run(unassigned)
    _assign(world, portal.store, mail.id, user="grace")
    assert f'data-application="{mail.id}"' in browser.get(f"/portal/{portal.store}/?tab=applications").text

    # deleting the application takes it off the tab
    async def gone(deps: Deps) -> None:
        await applications.delete(deps, portal.store, mail.id)

    world.run(gone)
    page = browser.get(f"/portal/{portal.store}/?tab=applications")
    assert 'id="no-applications"' in page.text


@pytest.mark.parametrize("url", ["javascript:alert(1)", "JavaScript://x.example.com/%0aalert(1)",
                                 "data:text/html,<script>alert(1)</script>", "ftp://files.example.com/",
                                 "//wiki.example.com/", "https://", "https://wiki.example.com/ x",
                                 "wiki.example.com"])
def test_unsafe_urls_are_refused(world: AwsWorld, portal: Portal, url: str) -> None:  # noqa: F811
    with pytest.raises(InvalidInput):
        _create(world, portal.store, "Bad", url)

    async def listed(deps: Deps) -> list[Application]:
        return await applications.list_applications(deps, portal.store)

    assert world.run(listed) == []


def test_cli(cli: Cli, cli_env: Settings) -> None:  # noqa: F811
    owner = cli.ok("account", "create", "--email", f"apps-{secrets.token_hex(4)}@example.com",
                   "--password", "cli password 1")["AccountId"]
    _, store = asyncio.run(_instance(cli_env, owner))
    made = cli.ok("sso", "application", "create", "--identity-store-id", store, "--name", "Wiki",
                  "--url", "https://wiki.example.com/", "--description", "Team wiki")
    assert made["ApplicationId"].startswith("app-") and len(made["ApplicationId"]) == 20
    assert (made["Name"], made["Url"]) == ("Wiki", "https://wiki.example.com/")
    listed = cli.ok("sso", "application", "list", "--identity-store-id", store)["Applications"]
    assert [a["ApplicationId"] for a in listed] == [made["ApplicationId"]]
    line = cli.fails("sso", "application", "create", "--identity-store-id", store, "--name", "X",
                     "--url", "javascript:alert(1)")
    assert line.startswith("vestibule: error: ") and "https://" in line
    assert "vestibule: error: " in cli.fails("sso", "application", "create", "--identity-store-id", store,
                                             "--name", "x" * 65, "--url", "https://a.example.com/")
    assert "nobody" in cli.fails("sso", "application", "assign", "--identity-store-id", store,
                                 "--application-id", made["ApplicationId"], "--user-name", "nobody")
    assert "app-0000000000000000" in cli.fails("sso", "application", "delete", "--identity-store-id", store,
                                               "--application-id", "app-0000000000000000")
    assert "d-0000000000" in cli.fails("sso", "application", "list", "--identity-store-id", "d-0000000000")
    assert cli.ok("sso", "application", "delete", "--identity-store-id", store, "--application-id",
                  made["ApplicationId"])["Status"] == "DELETED"
    assert cli.ok("sso", "application", "list", "--identity-store-id", store)["Applications"] == []
    code, out, _ = cli("events", "--account", owner, "--json")
    assert code == 0
    audited = [json.loads(line) for line in out.splitlines() if line.strip()]
    names = [e["event"] for e in audited]
    assert "CreateApplication" in names and "DeleteApplication" in names, names


def test_deleting_the_instance_removes_its_applications(world: AwsWorld, portal: Portal) -> None:  # noqa: F811
    app = _create(world, portal.store, "Wiki", "https://wiki.example.com/")
    portal.user("ivan")
    _assign(world, portal.store, app.id, user="ivan")

    async def rows(deps: Deps) -> tuple[int, int]:
        async with deps.store.unit() as uow:
            apps = await uow.applications.of_instance(portal.instance)
            assigned = (await uow.db.execute(select(func.count()).select_from(SsoApplicationAssignment)
                                             .where(SsoApplicationAssignment.application_id == app.id))).scalar_one()
            return len(apps), int(assigned)

    assert world.run(rows) == (1, 1)
    portal.sso.delete_instance(InstanceArn=portal.instance)
    assert world.run(rows) == (0, 0)
    with pytest.raises(NotFound):  # the store is gone with its instance
        _create(world, portal.store, "Late", "https://late.example.com/")
