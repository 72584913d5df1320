"""Every registered operation against botocore's service model, loaded from the installed botocore:
the service's protocol metadata, the operation's name, its input members (required, type, length, value
range, pattern, enum), and the declared parsing really refusing what the model refuses."""

from __future__ import annotations

import functools
import re
from typing import Any

import pytest
from botocore.loaders import Loader

from vestibule.wire.aws_query.errors import ValidationError
from vestibule.wire.aws_query.params import Input, QueryParams
from vestibule.wire.errors import AwsError as QueryError
from vestibule.wire.members import Member
from vestibule.wire.operations import AnyOperation
from vestibule.wire.services import SERVICES, Protocol, Service

Model = dict[str, Any]
_TYPES = {"string": "string", "integer": "integer", "boolean": "boolean", "list": "list", "structure": "structure"}
_ALSO = {("integer", "long")}  # (declared, model): an integer member reads a Long (the handler bounds it)


@functools.cache
def model(service: str) -> Model:
    loaded: Model = Loader().load_service_model(service, "service-2")
    return loaded


def _rows() -> list[tuple[Service, AnyOperation]]:
    return [(service, op) for service in SERVICES for op in service.operations.values()]


ROWS = _rows()
IDS = [f"{s.name}.{op.name}" for s, op in ROWS]


def _input_shape(service: Service, operation: str) -> Model:
    """The operation's input members; when its input has a structure `payload` (signin's CreateOAuth2Token:
    the body IS `tokenInput`), that structure's members, as the body carries them."""
    spec = model(service.name)["operations"][operation]
    if "input" not in spec:
        return {"members": {}, "required": []}
    shape: Model = model(service.name)["shapes"][spec["input"]["shape"]]
    if "payload" in shape:
        payload: Model = model(service.name)["shapes"][shape["members"][shape["payload"]]["shape"]]
        if payload["type"] == "structure":
            return payload
    return shape


def _member_shape(service: Service, operation: str, member: str) -> Model:
    shape: Model = model(service.name)["shapes"][_input_shape(service, operation)["members"][member]["shape"]]
    return shape


def test_every_protocol_has_a_service_and_every_service_matches_its_model() -> None:
    assert {s.protocol for s in SERVICES} == set(Protocol)
    for service in SERVICES:
        metadata = model(service.name)["metadata"]
        assert metadata["protocol"] == service.protocol.value, service.name
        assert metadata.get("signingName", metadata["endpointPrefix"]) == service.signing_name, service.name
        if service.protocol is Protocol.QUERY:
            assert metadata["apiVersion"] == service.version
            assert metadata["xmlNamespace"] == service.namespace
        if service.protocol is Protocol.JSON:
            assert metadata["targetPrefix"] == service.target_prefix and metadata["jsonVersion"] == "1.1"


def test_rest_json_paths_cover_every_operation_of_the_model() -> None:
    for service in SERVICES:
        if service.protocol is not Protocol.REST_JSON:
            continue
        for name, spec in model(service.name)["operations"].items():  # served or not: answered in its shape
            path = spec["http"]["requestUri"].split("?", 1)[0]
            assert any(path == p or (p.endswith("/") and path.startswith(p)) for p in service.paths), (name, path)
        for operation in service.operations.values():
            http = model(service.name)["operations"][operation.name]["http"]
            assert operation.http == (http["method"], http["requestUri"].split("?", 1)[0])


def test_the_table_serves_the_operations_of_today() -> None:
    by_name = {s.name: s for s in SERVICES}
    assert len(by_name["iam"].operations) >= 75
    assert {"GetCallerIdentity", "AssumeRole", "GetSessionToken", "GetFederationToken"} <= set(
        by_name["sts"].operations)


@pytest.mark.parametrize(("service", "operation"), ROWS, ids=IDS)
def test_operation_exists_and_its_row_is_consistent(service: Service, operation: AnyOperation) -> None:
    assert operation.name in model(service.name)["operations"]
    if operation.action is not None:
        assert operation.action == f"{service.signing_name}:{operation.name}"
    if not operation.name.startswith(("Get", "List", "Simulate", "Describe", "Is")):
        assert operation.audit, f"{operation.name} changes something and records no audit event"
    assert len({m.name for m in operation.inputs}) == len(operation.inputs), "a member declared twice"


@pytest.mark.parametrize(("service", "operation"), ROWS, ids=IDS)
def test_declared_members_match_the_model(service: Service, operation: AnyOperation) -> None:
    shape = _input_shape(service, operation.name)
    required = set(shape.get("required", []))
    declared = {m.name: m for m in operation.inputs}
    assert required <= set(declared), f"required by the model, not declared: {required - set(declared)}"
    for member in operation.inputs:
        assert member.name in shape["members"], f"{member.name} is not a member of {operation.name}"
        target = _member_shape(service, operation.name, member.name)
        assert member.is_required == (member.name in required), member.name
        if member.type == "structure-list":
            assert target["type"] == "list"
            assert model(service.name)["shapes"][target["member"]["shape"]]["type"] == "structure"
        else:
            assert _TYPES[member.type] == target["type"] or (member.type, target["type"]) in _ALSO, member.name
        assert (member.min, member.max) == (target.get("min"), target.get("max")), member.name
        assert member.pattern == target.get("pattern"), member.name
        assert member.enum == tuple(target.get("enum", ())), member.name
        reference = shape["members"][member.name]
        assert member.is_sensitive == bool(target.get("sensitive") or reference.get("sensitive")), member.name


def _violations(member: Member) -> list[str]:
    """Values the model refuses for `member`."""
    if member.type == "boolean":
        return ["maybe"]
    if member.type != "string":
        return []
    values = []
    if member.max is not None:
        values.append("a" * (member.max + 1))
    if member.min is not None and member.min > 1:
        values.append("a" * (member.min - 1))
    if member.matcher is not None:
        length = max(member.min or 1, 1)
        for char in "\u2603 ;\x7f":
            if not member.matcher.fullmatch(char * length) and (member.max is None or length <= member.max):
                values.append(char * length)
                break
    if member.enum:
        values.append("NotOneOfThem")
    return values


QUERY_ROWS = [(s, op) for s, op in ROWS if s.protocol is Protocol.QUERY]


@pytest.mark.parametrize(("service", "operation"), QUERY_ROWS, ids=[f"{s.name}.{op.name}" for s, op in QUERY_ROWS])
def test_parsing_refuses_what_the_model_refuses(service: Service, operation: AnyOperation) -> None:
    for member in operation.inputs:
        if member.is_required:
            with pytest.raises(ValidationError) as missing:
                Input(QueryParams([]), [member])
            assert missing.value.message == (f"1 validation error detected: Value null at '{member.wire_name}' "
                                             "failed to satisfy constraint: Member must not be null")
        for value in _violations(member):
            with pytest.raises(QueryError) as refused:
                Input(QueryParams([(member.name, value)]), [member])
            assert refused.value.code == "ValidationError", (member.name, value)
            message = refused.value.message
            assert message.startswith(("1 validation error detected: Value ", "2 validation errors detected: "))
            assert f" at '{member.wire_name}' failed to satisfy constraint: Member must " in message
            quoted = f"Value '{value if len(value) <= 64 else value[:64] + '...'}' at"
            assert (quoted in message) != member.is_sensitive, message
        if member.type == "integer" and member.max is not None:
            with pytest.raises(ValidationError) as too_big:
                Input(QueryParams([(member.name, str(member.max + 1))]), [member])
            assert too_big.value.message == (
                f"1 validation error detected: Value '{member.max + 1}' at '{member.wire_name}' failed to satisfy "
                f"constraint: Member must have value less than or equal to {member.max}")


CHECKED_ROWS = [(s, op) for s, op in QUERY_ROWS if any(m.is_required or _violations(m) for m in op.inputs)]


@pytest.mark.parametrize(("service", "operation"), CHECKED_ROWS,
                         ids=[f"{s.name}.{op.name}" for s, op in CHECKED_ROWS])
def test_one_request_reports_every_member_that_fails(service: Service, operation: AnyOperation) -> None:
    """All members wrong at once: one ValidationError listing each violation, in declaration order."""
    pairs, expected = [], []
    for member in operation.inputs:
        values = _violations(member)
        if values:
            pairs.append((member.name, values[0]))
            expected.append(member.wire_name)
        elif member.is_required:
            expected.append(member.wire_name)
    with pytest.raises(ValidationError) as refused:
        Input(QueryParams(pairs), operation.inputs)
    message = refused.value.message
    named = re.findall(r"(?:^|; )Value(?: null| '[^']*')? at '([^']+)' failed to satisfy constraint: ",
                       message.partition(" detected: ")[2])
    assert message.startswith(f"{len(named)} validation error{'' if len(named) == 1 else 's'} detected: ")
    assert sorted(set(named), key=named.index) == expected


def test_user_name_is_64_where_a_user_is_named_and_128_where_one_is_looked_up() -> None:
    iam = {s.name: s for s in SERVICES}["iam"]
    create = iam.operations["CreateUser"].member("UserName")
    get = iam.operations["GetUser"].member("UserName")
    assert (create.max, get.max) == (64, 128)
    Input(QueryParams([("UserName", "a" * 128)]), [get])
    with pytest.raises(ValidationError):
        Input(QueryParams([("UserName", "a" * 65)]), [create])
