"""The wire layer parses, calls one use case and shapes the answer: it never reaches the store."""

from __future__ import annotations

import ast
from pathlib import Path

import vestibule.wire

WIRE = Path(vestibule.wire.__file__).parent
FORBIDDEN = ("vestibule.store", "sqlalchemy")


def _imports(path: Path) -> list[str]:
    """Every module `path` imports, relative imports resolved (`x/__init__.py` is in package `x`)."""
    package = "vestibule." + ".".join(path.relative_to(WIRE.parent).with_suffix("").parts[:-1])
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
            module = (f"{base}.{node.module}" if node.module else base) if node.level else node.module or ""
            found.append(module)
            found.extend(f"{module}.{alias.name}" for alias in node.names)
    return found


def test_no_wire_module_imports_the_store_or_sqlalchemy() -> None:
    offenders = {str(path.relative_to(WIRE)): name for path in WIRE.rglob("*.py") for name in _imports(path)
                 if name.startswith(FORBIDDEN)}
    assert offenders == {}


def test_the_check_sees_relative_imports() -> None:
    imports = _imports(WIRE / "aws_query" / "iam" / "users.py")
    assert "vestibule.services.iam.users" in imports and "vestibule.wire.aws_query.request" in imports
