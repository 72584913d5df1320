"""Property: no form of the web pages answers a server error or shows a stack trace, whatever is posted.

Each case opens a page in a new browser, in the state that shows the form (signed out; in a root or IAM
sign-in at the password, emailed-code, MFA or new-password step; signed in on the console and its security
pages; in a password reset from a mailed link; in a sign-up's e-mail verification), reads its forms from the
HTML and posts one of them with generated values (`forms.Submission`): correct ones, the page's own, hostile
ones, missing or repeated fields; the CSRF token is mostly valid, so that the handlers behind it run."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fuzz import tally
from fuzz.forms import SUBMISSIONS, Form, Submission, encode_form, good_fill
from fuzz.fuzzing import budget
from fuzz.web_world import FORM, PASSWORD, Person, Site
from support import CHEAP_HASH
from vestibule.settings import Settings

HOUR = 3600.0


@pytest.fixture(scope="module")
def web_settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(data_dir=Path(tmp_path_factory.mktemp("fuzz-web")), database_url=database_url,
                    redis_url=os.environ.get("VESTIBULE_TEST_REDIS_URL", ""), public_url="http://testserver",
                    master_key="44" * 32, argon2_memory_kib=CHEAP_HASH.memory_kib,
                    argon2_time_cost=CHEAP_HASH.time_cost, argon2_parallelism=1)


@pytest.fixture(scope="module")
def site(web_settings: Settings) -> Iterator[Site]:
    """One event loop for the module, driven by the (synchronous) Hypothesis tests through `site.run`."""
    with asyncio.Runner() as runner:
        made = runner.run(Site.open(web_settings, runner, uuid.uuid4().hex[:8]))
        try:
            yield made
        finally:
            runner.run(made.close())


async def _fuzz_one(site: Site, client: httpx.AsyncClient, plan: Submission, path: str,
                    person: Person | None, good: dict[str, list[str]] | None = None) -> None:
    """Open `path`, pick one of its forms and post the planned values to it. The plan is drawn before any
    request, so a case draws the same values whatever the server's state (as Hypothesis requires)."""
    path, forms = await site.page(client, path)
    forms = [f for f in forms if f.action != "/signout"] or forms  # the top bar's sign-out: one field, on every page
    if forms:
        form = forms[plan.form % len(forms)]
        await site.post(client, form, plan.pairs(form, good or site.good(person)))


@budget(180)
@given(data=st.data())
def test_signed_out_pages(site: Site, data: st.DataObject) -> None:
    async def case() -> None:
        tally.case("web forms")
        root, alice = site.people["root"], site.people["alice"]
        path = data.draw(st.sampled_from(["/", "/?root=1", "/?lang=zh-TW", "/signup", "/recovery",
                                          f"/{root.alias}/console", f"/{root.account_id}/console", "/console",
                                          "/console/security", "/signin?flow=" + "0" * 64, "/recovery/reset?token=x",
                                          "/signup/verify?flow=x"]), label="page")
        person = data.draw(st.sampled_from([root, alice, None]), label="who")
        plan = data.draw(SUBMISSIONS, label="submission")
        site.clock.advance(HOUR)  # failure counts of earlier cases age out: each case starts unthrottled
        async with site.browser() as client:
            await _fuzz_one(site, client, plan, path, person)

    site.run(case())


def _is_step(form: Form) -> bool:
    return any(form.field(name) for name in ("email", "password", "mfa_code", "verification_code", "new_password"))


async def _walk(site: Site, client: httpx.AsyncClient, person: Person, steps: int) -> str | None:
    """Start the person's sign-in and take `steps` correct steps: the path of the step then shown, or None
    when the walk signed in or stopped."""
    path, forms = await site.page(client, "/?root=1" if person.email else f"/{person.alias}/console")
    for _ in range(steps):
        form = next((f for f in forms if _is_step(f)), None)
        if form is None:
            return None
        response = await client.post(form.action, content=encode_form(good_fill(form, site.good(person))),
                                     headers={"Content-Type": FORM})
        location = response.headers.get("location", "")
        if response.status_code != 303 or location == "/console" or not location.startswith("/"):
            return None
        path, forms = await site.page(client, location)
    return path


# correct steps a case may take first: root (choose root, password, then the mailed code or MFA), IAM
# users (password, then MFA for alice, the new password for bob; carol signs in)
_DEPTHS = {"root": 2, "root-mfa": 2, "alice": 1, "bob": 1, "carol": 0}


@budget(200)
@given(data=st.data())
def test_sign_in_steps(site: Site, data: st.DataObject) -> None:
    async def case() -> None:
        tally.case("web forms")
        who = data.draw(st.sampled_from(sorted(_DEPTHS)), label="who")
        depth = data.draw(st.integers(0, _DEPTHS[who]), label="correct steps first")
        plan = data.draw(SUBMISSIONS, label="submission")
        person = site.people[who]
        site.clock.advance(HOUR)
        if who == "bob":
            await site.reset_bob()
        async with site.browser() as client:
            reached = await _walk(site, client, person, depth)
            if reached is not None:
                await _fuzz_one(site, client, plan, reached, person)

    site.run(case())


@budget(150)
@given(data=st.data())
def test_signed_in_pages(site: Site, data: st.DataObject) -> None:
    """The console, its security page (password, MFA devices, access keys) and the MFA enrolment page."""
    async def case() -> None:
        tally.case("web forms")
        who = data.draw(st.sampled_from(["root", "carol"]), label="who")
        where = data.draw(st.sampled_from(["/console", "/console/security", "/console/security", "enrolment"]),
                          label="page")
        plan = data.draw(SUBMISSIONS, label="submission")
        person = site.people[who]
        client = await site.signed_in(who)
        if where == "enrolment":
            opened = await site.enrolment_page(client, person)
            where = opened[0] if opened else "/console/security"
        # a new password equal to the current one: whatever a case changes, the next one signs in the same way
        good = {**site.good(person), "new_password": [person.password], "confirm_password": [person.password]}
        await _fuzz_one(site, client, plan, where, person, good)

    site.run(case())


@budget(100)
@given(data=st.data())
def test_password_reset_from_a_mailed_link(site: Site, data: st.DataObject) -> None:
    async def case() -> None:
        tally.case("web forms")
        plan = data.draw(SUBMISSIONS, label="submission")
        person = site.people["recovery"]
        site.clock.advance(HOUR)
        async with site.browser() as client:
            _, forms = await site.page(client, "/recovery")
            await site.post(client, forms[0], good_fill(forms[0], site.good(person)))
            link = site.mailed_link(person.email)
            assert link, "no reset link was mailed"
            await _fuzz_one(site, client, plan, link, person)

    site.run(case())


@budget(80)
@given(data=st.data())
def test_sign_up_and_its_email_verification(site: Site, data: st.DataObject) -> None:
    async def case() -> None:
        tally.case("web forms")
        plan = data.draw(SUBMISSIONS, label="submission")
        site.clock.advance(HOUR)
        person = Person("", "", email=f"new-{uuid.uuid4().hex[:12]}@example.com", password=PASSWORD)
        async with site.browser() as client:
            _, forms = await site.page(client, "/signup")
            good = {**site.good(person), "confirm_password": [PASSWORD]}
            response = await client.post(forms[0].action, content=encode_form(good_fill(forms[0], good)),
                                         headers={"Content-Type": FORM})
            location = response.headers.get("location", "")
            assert response.status_code == 303 and location, response.text[:1000]
            await _fuzz_one(site, client, plan, location, person)

    site.run(case())
