"""Every IAM and STS operation of the installed botocore's models is either served (a row of the service's
operation table) or listed as not served with a reason, never both and never neither."""

from __future__ import annotations

import pytest
from botocore.loaders import Loader

from vestibule.wire.aws_query.iam.unserved import UNSERVED
from vestibule.wire.services import SERVICES

_BY_NAME = {s.name: s for s in SERVICES}


def _model_operations(service: str) -> set[str]:
    return set(Loader().load_service_model(service, "service-2")["operations"])


@pytest.mark.parametrize("service", sorted(UNSERVED))
def test_every_model_operation_is_served_or_listed_with_a_reason(service: str) -> None:
    model = _model_operations(service)
    served = set(_BY_NAME[service].operations)
    unserved = set(UNSERVED[service])
    assert not served & unserved, f"served and listed as not served: {sorted(served & unserved)}"
    assert not model - served - unserved, f"neither served nor listed: {sorted(model - served - unserved)}"
    assert not unserved - model, f"listed, but not in botocore's model: {sorted(unserved - model)}"
    assert not served - model, f"served, but not in botocore's model: {sorted(served - model)}"
    for operation, reason in UNSERVED[service].items():
        assert reason.strip(), f"{operation} has an empty reason"


def test_the_list_covers_exactly_the_query_services_with_a_model_of_their_own() -> None:
    assert set(UNSERVED) == {"iam", "sts"}
