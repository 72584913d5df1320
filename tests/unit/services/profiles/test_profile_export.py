"""The data export's archive: every table as JSON and CSV (same rows, same columns), the README, fixed
timestamps, formula-looking CSV cells quoted, non-ASCII kept."""

from __future__ import annotations

import csv
import io
import json
import zipfile

from vestibule.services.profiles.export import README, Table, build_archive, iso

T = 1_800_000_000.0


def _archive(*tables: Table) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(build_archive(tables, T)))


def test_each_table_is_json_and_csv_with_the_same_rows() -> None:
    table = Table("sessions", ("started", "browser", "mfa_used", "ended"), (
        {"started": iso(T), "browser": "Firefox", "mfa_used": True, "ended": None},
        {"started": iso(T + 60), "browser": "瀏覽器", "mfa_used": False, "ended": iso(T + 90), "extra": "dropped"},
    ))
    archive = _archive(table, Table("mfa_devices", ("type", "name"), ()))
    assert archive.namelist() == ["README.txt", "sessions.json", "sessions.csv", "mfa_devices.json",
                                  "mfa_devices.csv"]
    assert archive.read("README.txt").decode() == README
    rows = json.loads(archive.read("sessions.json"))
    assert rows == [{"started": "2027-01-15T08:00:00Z", "browser": "Firefox", "mfa_used": True, "ended": None},
                    {"started": "2027-01-15T08:01:00Z", "browser": "瀏覽器", "mfa_used": False,
                     "ended": "2027-01-15T08:01:30Z"}]
    assert list(csv.DictReader(io.StringIO(archive.read("sessions.csv").decode()))) == [
        {"started": "2027-01-15T08:00:00Z", "browser": "Firefox", "mfa_used": "true", "ended": ""},
        {"started": "2027-01-15T08:01:00Z", "browser": "瀏覽器", "mfa_used": "false", "ended": "2027-01-15T08:01:30Z"}]
    assert json.loads(archive.read("mfa_devices.json")) == []
    assert archive.read("mfa_devices.csv").decode() == "type,name\n"
    assert {info.date_time for info in archive.infolist()} == {(2027, 1, 15, 8, 0, 0)}


def test_csv_cells_that_look_like_formulas_are_quoted() -> None:
    archive = _archive(Table("profile", ("name", "nickname"), ({"name": "=HYPERLINK(1)", "nickname": "@me"},)))
    assert list(csv.reader(io.StringIO(archive.read("profile.csv").decode()))) == [
        ["name", "nickname"], ["'=HYPERLINK(1)", "'@me"]]
    assert json.loads(archive.read("profile.json")) == [{"name": "=HYPERLINK(1)", "nickname": "@me"}]


def test_iso_times() -> None:
    assert iso(None) is None and iso(0) == "1970-01-01T00:00:00Z"
