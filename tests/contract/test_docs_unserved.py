"""The "Not served" section of docs/aws-clients.md lists exactly the operations of
vestibule.wire.aws_query.iam.unserved, operation for operation and reason for reason. `render()` prints the
table (in tests/contract: `../../.venv/bin/python -c "import test_docs_unserved as t; print(t.render())"`).
"""

from __future__ import annotations

import re
from pathlib import Path

from vestibule.wire.aws_query.iam.unserved import UNSERVED

DOC = Path(__file__).resolve().parents[2] / "docs" / "aws-clients.md"
_HEADER = "| service | operations | why not |"
_RULE = "| --- | --- | --- |"


def render() -> str:
    """The table: one row per service and reason, its operations in alphabetical order."""
    rows = [_HEADER, _RULE]
    for service in sorted(UNSERVED):
        by_reason: dict[str, list[str]] = {}
        for operation, reason in sorted(UNSERVED[service].items()):
            by_reason.setdefault(reason, []).append(operation)
        for reason, operations in by_reason.items():
            rows.append(f"| {service.upper()} | {', '.join(f'`{o}`' for o in operations)} | {reason} |")
    return "\n".join(rows)


def _documented() -> dict[str, dict[str, str]]:
    text = DOC.read_text(encoding="utf-8")
    found = re.search(r"^## Not served\n(.*?)(?=^## |\Z)", text, re.MULTILINE | re.DOTALL)
    assert found, "docs/aws-clients.md has no '## Not served' section"
    listed: dict[str, dict[str, str]] = {}
    for line in found.group(1).splitlines():
        if not line.startswith("| ") or line in (_HEADER, _RULE):
            continue
        service, operations, reason = (cell.strip() for cell in line.strip("|").split(" | "))
        for operation in re.findall(r"`([A-Za-z]+)`", operations):
            assert operation not in listed.get(service.lower(), {}), f"{operation} listed twice"
            listed.setdefault(service.lower(), {})[operation] = reason
    return listed


def test_the_docs_list_exactly_the_operations_not_served_with_their_reasons() -> None:
    documented = _documented()
    assert set(documented) == set(UNSERVED)
    for service, operations in UNSERVED.items():
        assert documented[service] == dict(operations), (
            f"docs/aws-clients.md and unserved.py differ for {service}; paste render()'s table")
