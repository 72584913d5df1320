"""The query operations served without SigV4 are exactly the ones botocore's model marks `noAuth`."""

from __future__ import annotations

from botocore.loaders import Loader

from vestibule.wire.services import SERVICES, Protocol


def test_a_query_row_is_unsigned_exactly_when_the_model_says_no_auth() -> None:
    for service in SERVICES:
        if service.protocol is not Protocol.QUERY:
            continue
        operations = Loader().load_service_model(service.name, "service-2")["operations"]
        for operation in service.operations.values():
            spec = operations[operation.name]
            no_auth = spec.get("authtype") == "none" or "smithy.api#noAuth" in spec.get("auth", ())
            assert operation.signed is not no_auth, f"{service.name}.{operation.name}"
