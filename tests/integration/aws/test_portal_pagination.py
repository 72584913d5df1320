"""The access portal's accounts read a page at a time (keyset by account ID over the user's direct and group
assignments), through the SSO portal API's ListAccounts and the Accounts tab's "More accounts" link: every
account once, in order, across pages; accounts assigned or unassigned between pages neither skipped nor
repeated; a page's statement fetches no more rows than the page shows (plus one); a forged token refused."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest

from integration.aws.aws_world import Account, AwsWorld
from integration.aws.sso_cli_world import SsoWorld, raised
from integration.test_portal_accounts_http import Portal
from vestibule.services.context import Deps
from vestibule.store.models import Account as AccountRow
from vestibule.store.models import SsoAssignment
from vestibule.store.sql import identity_center as ic_rows
from vestibule.web.portal.home import ACCOUNTS_PAGE

BULK = 60


class _Counted:
    """The portal's account-page statement, counting the rows each run fetches."""

    def __init__(self, statement: Any, fetched: list[int]) -> None:
        self.statement, self.fetched = statement, fetched

    def rows(self, conn: Any, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        rows: list[tuple[Any, ...]] = self.statement.rows(conn, params)
        self.fetched.append(len(rows))
        return rows


def _accounts(world: AwsWorld, sso: SsoWorld, ids: list[str], principals: list[tuple[str, str]],
              permission_set: str) -> None:
    """Active accounts straight into the store, each assigned `permission_set` for every principal."""

    async def add(deps: Deps) -> None:
        async with deps.store.unit() as uow:
            uow.db.add_all(AccountRow(id=i, name=f"bulk {i}", root_email=f"{i}@example.com", root_password_hash="!",
                                      root_password_changed_at=1.0, created_at=1.0) for i in ids)
            await uow.db.flush()
            uow.db.add_all(SsoAssignment(permission_set_arn=permission_set, account_id=i, principal_type=kind,
                                         principal_id=principal, instance_arn=sso.instance, created_at=1.0)
                           for i in ids for kind, principal in principals)
            await uow.commit()

    world.run(add)


def test_portal_accounts_page_by_id_and_read_a_page(world: AwsWorld, account: Account,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    sso = SsoWorld(world, account)
    user = sso.user("paula")
    team = sso.ids.create_group(IdentityStoreId=sso.store, DisplayName="team")["GroupId"]
    sso.ids.create_group_membership(IdentityStoreId=sso.store, GroupId=team, MemberId={"UserId": user})
    developers = sso.permission_set("Developers")
    sso.assign(developers, user)
    ids = [f"9{n:011d}" for n in range(10, 10 + BULK * 2, 2)]  # even numbers: room for one between two
    _accounts(world, sso, ids, [("USER", user), ("GROUP", team)], developers)  # each assigned twice
    token = sso.device_token(sso.sign_in("paula"))["accessToken"]
    expected = sorted([account.account_id, *ids])

    walked = [a["accountId"] for page in sso.portal.get_paginator("list_accounts").paginate(
        accessToken=token, PaginationConfig={"PageSize": 7}) for a in page["accountList"]]
    assert walked == expected

    first = sso.portal.list_accounts(accessToken=token, maxResults=10)
    seen = [a["accountId"] for a in first["accountList"]]
    assert seen == expected[:10]
    # one account before the cursor, one after every account (the world's own account ID is random: it may sort
    # after the bulk ones)
    before, after = f"9{11:011d}", f"{int(expected[-1]) + 1:012d}"
    _accounts(world, sso, [before, after], [("GROUP", team)], developers)
    gone = expected[20]

    async def unassign(deps: Deps) -> None:
        async with deps.store.unit() as uow:
            for row in await uow.identity_center.assignments(sso.instance, account_id=gone):
                await uow.db.delete(row)
            await uow.commit()

    world.run(unassign)
    fetched: list[int] = []
    monkeypatch.setattr(ic_rows, "_ACCOUNT_PAGE_AFTER", _Counted(ic_rows._ACCOUNT_PAGE_AFTER, fetched))
    next_token = first["nextToken"]
    while next_token:
        page = sso.portal.list_accounts(accessToken=token, maxResults=10, nextToken=next_token)
        seen += [a["accountId"] for a in page["accountList"]]
        next_token = page.get("nextToken")
    assert seen == [a for a in expected if a != gone] + [after]
    # each page: its 10 accounts and the one telling more follow, each read twice (directly and by the group)
    assert fetched and max(fetched) <= 2 * 11, fetched

    bad = raised(sso.portal.list_accounts, accessToken=token, nextToken=first["nextToken"] + "A")
    assert bad.response["Error"]["Code"] == "InvalidRequestException"


def test_the_accounts_tab_shows_a_page_and_links_the_next(world: AwsWorld, account: Account) -> None:
    portal = Portal(world, account)
    user = portal.user("quinn")
    developers = portal.permission_set("Developers")
    portal.assign(developers, user)
    ids = [f"8{n:011d}" for n in range(ACCOUNTS_PAGE + 5)]

    async def add(deps: Deps) -> None:
        async with deps.store.unit() as uow:
            uow.db.add_all(AccountRow(id=i, name=f"bulk {i}", root_email=f"{i}@example.com", root_password_hash="!",
                                      root_password_changed_at=1.0, created_at=1.0) for i in ids)
            await uow.db.flush()
            uow.db.add_all(SsoAssignment(permission_set_arn=developers, account_id=i, principal_type="USER",
                                         principal_id=user, instance_arn=portal.instance, created_at=1.0) for i in ids)
            await uow.commit()

    world.run(add)
    browser = portal.sign_in("quinn")
    expected = sorted([account.account_id, *ids])
    shown: list[str] = []
    url: str | None = f"/portal/{portal.store}/"
    while url is not None:
        page = browser.get(url)
        assert page.status_code == 200
        shown += re.findall(r'data-account="(\d{12})"', page.text)
        more = re.search(r'id="more-accounts" href="([^"]+)"', page.text)
        url = html.unescape(more.group(1)) if more else None
        assert ('id="first-accounts"' in page.text) == (len(shown) > ACCOUNTS_PAGE)
    assert shown == expected
    assert "更多帳戶" in browser.get(f"/portal/{portal.store}/", headers={"accept-language": "zh-TW"}).text
    r = browser.get(f"/portal/{portal.store}/?tab=accounts&after=bogus")
    assert r.status_code == 303 and r.headers["location"] == f"/portal/{portal.store}/?tab=accounts"
