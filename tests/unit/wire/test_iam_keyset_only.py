"""No IAM list can fall back to offset pages: the offset pager is gone, and every IAM operation that takes a
Marker reads it as a keyset page request (`page_request`, or `snapshot_page` for a job's or a simulation's fixed
results, or GetAccountAuthorizationDetails' signed section marker), never as a number; the few whose answer is
always whole (one alias, an Organizations report that always fails here, at most 10 namespaces) hand out none."""

from __future__ import annotations

import ast
import inspect
import textwrap

from vestibule.wire.aws_query.iam import IAM, shapes

_KEYSET_READERS = {"page_request", "snapshot_page"}
_WHOLE = {"ListAccountAliases", "GetOrganizationsAccessReport", "ListPoliciesGrantingServiceAccess"}


def _called_names(handler: object) -> set[str]:
    tree = ast.parse(textwrap.dedent(inspect.getsource(handler)))  # type: ignore[arg-type]
    calls = [node.func for node in ast.walk(tree) if isinstance(node, ast.Call)]
    return {f.id if isinstance(f, ast.Name) else f.attr for f in calls if isinstance(f, (ast.Name, ast.Attribute))}


def test_the_offset_pager_is_gone() -> None:
    assert not hasattr(shapes, "page")
    for operation in IAM.rows.values():
        module = inspect.getmodule(operation.handler)
        assert module is not None and not hasattr(module, "page"), operation.name


def test_every_iam_marker_is_a_keyset_marker() -> None:
    paged = [op for op in IAM.rows.values() if any(member.name == "Marker" for member in op.inputs)]
    assert len(paged) >= 37, len(paged)  # every List*, GetGroup, the reports, the simulations
    for operation in paged:
        called = _called_names(operation.handler)
        assert "int" not in called, operation.name  # a marker never read as a number
        if operation.name in _WHOLE:
            source = inspect.getsource(operation.handler)
            assert '"IsTruncated": False' in source or '["IsTruncated"] = False' in source, operation.name
            assert '"Marker"]' not in source, operation.name
            continue
        if operation.name == "GetAccountAuthorizationDetails":
            source = inspect.getsource(operation.handler)
            assert 'q.input.text("Marker")' in source  # handed to the use case, which decodes it with MarkerCodec
            continue
        assert called & _KEYSET_READERS or "_answer" in called, operation.name  # the simulations' shared answer
