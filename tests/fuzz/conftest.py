"""The fuzz suites print how many cases they ran (and how many answered a server error) at the end of the run."""

from __future__ import annotations

import pytest

from fuzz import tally


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    lines = tally.summary()
    if lines:
        terminalreporter.section("fuzz cases")
        for line in lines:
            terminalreporter.write_line(line)
