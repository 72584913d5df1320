"""A personal profile's Privacy & data in Chromium: request the data, open the link mailed over real SMTP, download
the ZIP (a Playwright download) and read its files, then delete the profile (every disclaimer, the password) and
find it gone; the troubleshooting and forgot-password pages on the way out (screenshots of each page)."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile

import pytest
from playwright.sync_api import Page

from e2e.browser_support import Site, run_async
from profile_steps import make_profile
from vestibule.runtime import Runtime

EMAIL = "private@example.com"
PASSWORD = "Quiet-Harbor-42"
TABLES = ("profile", "mfa_devices", "trusted_browsers", "sessions", "audit_events")


def _sign_in(site: Site, page: Page) -> None:
    page.goto("/profile")
    page.fill("input[name=email]", EMAIL)
    page.get_by_role("button", name="Next").click()
    page.wait_for_url(re.compile(r"/profile/signin\?flow="))
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/profile/details(\?.*)?$"))


@pytest.mark.browser
def test_request_download_and_delete_a_profile(site: Site) -> None:
    async def work(rt: Runtime) -> str:
        return await make_profile(rt, email=EMAIL, name="Mei Private", password=PASSWORD)

    profile_id = run_async(site.settings, work)
    page = site.new_browser()
    _sign_in(site, page)
    page.click("#nav-privacy")
    page.wait_for_url(f"{site.url}/profile/privacy")
    site.shot(page, "privacy")
    before = len(site.smtp.messages)
    page.click("#request-data")
    page.wait_for_url(re.compile(r"/profile/privacy\?notice=export_requested$"))
    site.shot(page, "privacy-requested")
    assert "We received your request" in page.locator("#notice").inner_text()

    mail, link = site.smtp.wait_for(EMAIL, r"(http://\S+/profile/privacy/export\?id=\S+)", after=before)
    assert "data is ready" in mail.subject and link.startswith(site.url)
    page.goto(link)
    site.shot(page, "export-ready")
    with page.expect_download() as info:
        page.click("#download")
    download = info.value
    assert re.fullmatch(r"personal-profile-data-\d{4}-\d{2}-\d{2}\.zip", download.suggested_filename)
    path = download.path()
    assert path is not None
    archive = zipfile.ZipFile(path)
    assert sorted(archive.namelist()) == sorted(["README.txt", *(f"{t}.{x}" for t in TABLES for x in ("json", "csv"))])
    for table in TABLES:
        rows = json.loads(archive.read(f"{table}.json"))
        lines = list(csv.DictReader(io.StringIO(archive.read(f"{table}.csv").decode("utf-8"))))
        assert len(rows) == len(lines), table
        text = archive.read(f"{table}.json").decode() + archive.read(f"{table}.csv").decode()
        assert "argon2" not in text and PASSWORD not in text
    (profile,) = json.loads(archive.read("profile.json"))
    assert (profile["id"], profile["email"], profile["name"]) == (profile_id, EMAIL, "Mei Private")
    (session,) = json.loads(archive.read("sessions.json"))
    assert session["browser"].startswith("Mozilla/") and session["ended"] is None
    assert "ProfileLogin" in {e["event"] for e in json.loads(archive.read("audit_events.json"))}

    page.goto("/profile/privacy")
    assert page.locator("#export-status").get_attribute("data-status") == "ready"
    site.shot(page, "privacy-ready")
    page.click("#delete-link")
    page.wait_for_url(f"{site.url}/profile/privacy/delete")
    for box in page.locator("input[name=disclaimer]").all():
        box.check()
    page.fill("#password", PASSWORD)
    site.shot(page, "delete")
    before = len(site.smtp.messages)
    page.click("#delete-submit")
    page.locator("#profile-deleted").wait_for()
    site.shot(page, "deleted")
    notice, _ = site.smtp.wait_for(EMAIL, r"(was deleted, as you asked)", after=before)
    assert "was deleted" in notice.subject
    page.goto("/profile/privacy")
    page.wait_for_url(f"{site.url}/profile")  # signed out: the profile is gone

    page.goto("/profile/help")
    site.shot(page, "help")
    page.click("#help-authenticator-unexpected-error")
    assert "time" in page.locator("#help-text").inner_text()
    site.shot(page, "help-authenticator")
    page.goto("/profile/recover")
    page.fill("#email", EMAIL)
    page.click("#recover-submit")
    page.locator("#recover-sent").wait_for()
    site.shot(page, "recover-sent")
