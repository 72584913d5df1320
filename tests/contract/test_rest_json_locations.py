"""Every REST-JSON row reads each member where botocore's model puts it: the JSON body (the input's structure
`payload` when it has one), or the query string or header named by the member's `location` and `locationName`.
Every operation of the models is served, or (signin) listed as not served with a reason; an unserved operation
told apart from a served one of the same path by a query parameter is named by that parameter."""

from __future__ import annotations

import pytest
from botocore.loaders import Loader

from vestibule.wire.operations import AnyOperation
from vestibule.wire.rest_json import signin
from vestibule.wire.rest_json.codec import RestMember
from vestibule.wire.services import SERVICES, Protocol, Service

ROWS = [(s, op) for s in SERVICES if s.protocol is Protocol.REST_JSON for op in s.operations.values()]


@pytest.mark.parametrize(("service", "operation"), ROWS, ids=[f"{s.name}.{op.name}" for s, op in ROWS])
def test_members_are_read_where_the_model_puts_them(service: Service, operation: AnyOperation) -> None:
    model = Loader().load_service_model(service.name, "service-2")
    spec = model["operations"][operation.name]
    assert operation.signed == (spec.get("authtype") != "none"), "unsigned exactly where the model says"
    shape = model["shapes"][spec["input"]["shape"]]
    if "payload" in shape and model["shapes"][shape["members"][shape["payload"]]["shape"]]["type"] == "structure":
        shape = model["shapes"][shape["members"][shape["payload"]]["shape"]]
    members = shape["members"]
    for member in operation.inputs:
        reference = members[member.name]
        location = reference.get("location", "body")
        declared = member.location if isinstance(member, RestMember) else "body"
        assert declared == location, member.name
        if location != "body":
            assert isinstance(member, RestMember)
            name = reference["locationName"]
            assert member.location_name == (name.lower() if location == "header" else name), member.name


UNSERVED = {"signin": signin.UNSERVED}


def test_every_operation_of_both_models_is_served() -> None:
    for service in SERVICES:
        if service.protocol is Protocol.REST_JSON and service.name not in UNSERVED:
            model = Loader().load_service_model(service.name, "service-2")
            unsigned = {name for name, spec in model["operations"].items() if spec.get("authtype") == "none"}
            assert unsigned == set(service.operations), service.name


def test_every_signin_operation_is_served_or_listed_with_a_reason() -> None:
    model = Loader().load_service_model("signin", "service-2")
    served = set({s.name: s for s in SERVICES}["signin"].operations)
    assert served == {"CreateOAuth2Token", "ListSessions", "GetSession", "BatchRevokeSessions"}
    assert not served & set(signin.UNSERVED)
    assert served | set(signin.UNSERVED) == set(model["operations"])
    assert all(reason.strip() for reason in signin.UNSERVED.values())


def test_operations_named_by_a_query_parameter_on_a_served_path_are_refused_by_it() -> None:
    model = Loader().load_service_model("signin", "service-2")
    served_paths = {spec["http"]["requestUri"] for name, spec in model["operations"].items()
                    if name in {s.name: s for s in SERVICES}["signin"].operations}
    named = {}
    for name, spec in model["operations"].items():
        path, _, query = spec["http"]["requestUri"].partition("?")
        if query and path in served_paths:
            named[query.partition("=")[0]] = name
    assert named == dict(signin.QUERY_NAMED)
