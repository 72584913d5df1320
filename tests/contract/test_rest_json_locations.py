"""Every REST-JSON row reads each member where botocore's model puts it: the JSON body, or the query string
or header named by the member's `location` and `locationName`."""

from __future__ import annotations

import pytest
from botocore.loaders import Loader

from vestibule.wire.operations import AnyOperation
from vestibule.wire.rest_json.codec import RestMember
from vestibule.wire.services import SERVICES, Protocol, Service

ROWS = [(s, op) for s in SERVICES if s.protocol is Protocol.REST_JSON for op in s.operations.values()]


@pytest.mark.parametrize(("service", "operation"), ROWS, ids=[f"{s.name}.{op.name}" for s, op in ROWS])
def test_members_are_read_where_the_model_puts_them(service: Service, operation: AnyOperation) -> None:
    model = Loader().load_service_model(service.name, "service-2")
    spec = model["operations"][operation.name]
    assert operation.signed == (spec.get("authtype") != "none"), "unsigned exactly where the model says"
    members = model["shapes"][spec["input"]["shape"]]["members"]
    for member in operation.inputs:
        reference = members[member.name]
        location = reference.get("location", "body")
        declared = member.location if isinstance(member, RestMember) else "body"
        assert declared == location, member.name
        if location != "body":
            assert isinstance(member, RestMember)
            name = reference["locationName"]
            assert member.location_name == (name.lower() if location == "header" else name), member.name


def test_every_operation_of_both_models_is_served() -> None:
    for service in SERVICES:
        if service.protocol is Protocol.REST_JSON:
            model = Loader().load_service_model(service.name, "service-2")
            unsigned = {name for name, spec in model["operations"].items() if spec.get("authtype") == "none"}
            assert unsigned == set(service.operations), service.name
