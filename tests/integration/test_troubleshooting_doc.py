"""docs/troubleshooting.md stays true: every page path it names is served, and every `vestibule` command line
in its shell blocks parses with today's command line (its commands and flags exist)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import httpx
import pytest

from vestibule import cli
from vestibule.web.i18n import Translator

DOC = Path(__file__).resolve().parents[2] / "docs" / "troubleshooting.md"
TEXT = DOC.read_text(encoding="utf-8")


def _paths() -> list[str]:
    found = set(re.findall(r"`(/[a-z?][A-Za-z0-9/_?=.-]*)`", TEXT))
    return sorted(p for p in found if "..." not in p)


def _commands() -> list[list[str]]:
    lines: list[list[str]] = []
    for block in re.findall(r"```sh\n(.*?)```", TEXT, re.DOTALL):
        joined = block.replace("\\\n", " ")
        for line in joined.splitlines():
            line = line.split(" #")[0].split(" | ")[0].strip()
            if line.startswith("vestibule "):
                lines.append(shlex.split(line)[1:])
    return lines


def test_the_doc_names_pages_and_commands() -> None:
    assert {"/help/network", "/signin/recover", "/recovery", "/console/contacts", "/console/close"} <= set(_paths())
    assert len(_commands()) >= 10


@pytest.mark.parametrize("path", _paths())
async def test_each_page_path_is_served(client: httpx.AsyncClient, path: str) -> None:
    """Served: anything but the site's "page not found" (a flow's page without its flow may answer 404 itself)."""
    r = await client.get(path)
    assert r.status_code < 500, (path, r.status_code)
    assert Translator("en")("notfound.title") not in r.text, path


@pytest.mark.parametrize("argv", _commands(), ids=lambda a: " ".join(a[:2]))
def test_each_command_line_parses(argv: list[str]) -> None:
    args = cli._parser().parse_args(argv)
    assert args.command == argv[0]
