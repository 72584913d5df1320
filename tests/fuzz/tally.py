"""How many fuzz cases ran, per suite, how many requests they sent and how many of those answered a server error
(printed at the end of the run; `VESTIBULE_FUZZ_OUTCOMES=1` also prints how the requests ended)."""

from __future__ import annotations

import os
from collections import Counter

CASES: Counter[str] = Counter()
REQUESTS: Counter[str] = Counter()
SERVER_ERRORS: Counter[str] = Counter()
OUTCOMES: Counter[tuple[str, str]] = Counter()  # (suite, outcome): how deep the cases went


def case(suite: str) -> None:
    """One generated case (one hypothesis example) of `suite`."""
    CASES[suite] += 1


FAILURES: list[str] = []  # the first requests that answered a server error, for the summary


def request(suite: str, status: int, outcome: str = "", what: str = "") -> None:
    REQUESTS[suite] += 1
    if outcome:
        OUTCOMES[(suite, outcome)] += 1
    if status >= 500:
        SERVER_ERRORS[suite] += 1
        if len(FAILURES) < 10:
            FAILURES.append(f"{suite}: {status} for {what[:300]}")


def summary() -> list[str]:
    if not CASES and not REQUESTS:
        return []
    suites = sorted(set(CASES) | set(REQUESTS))
    lines = [f"{suite}: {CASES[suite]} cases, {REQUESTS[suite]} requests, {SERVER_ERRORS[suite]} server errors"
             for suite in suites]
    lines.append(f"fuzz total: {sum(CASES.values())} cases, {sum(REQUESTS.values())} requests, "
                 f"{sum(SERVER_ERRORS.values())} server errors")
    lines += [f"  server error: {failure}" for failure in FAILURES]
    if os.environ.get("VESTIBULE_FUZZ_OUTCOMES"):
        lines += [f"  {suite} {outcome}: {n}" for (suite, outcome), n in sorted(OUTCOMES.items())]
    return lines
