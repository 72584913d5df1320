"""Property: no served AWS operation answers a server error or shows a stack trace, whatever its parameters.

Every operation of the services table, with parameters generated from botocore's model of it (`aws_inputs.py`),
signed by botocore for one of three callers (the root user's key, an administrator's key, a role session), sent
to the app in process; the answer must be below 500, free of tracebacks and in the protocol's shape. Also:
hostile SigV4 headers and presigned parameters on a signed request, and every JSON 1.1 and REST-JSON route of
the table with bodies generated from the model."""

from __future__ import annotations

import asyncio
import json
import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fuzz import tally
from fuzz.aws_inputs import HUGE_DIGITS, UNICODE_DIGITS, json_bodies, query_calls, service_model
from fuzz.aws_world import BASE, FuzzWorld, Keys, check_answer, raw_headers, signed_request
from fuzz.fuzzing import budget
from support import CHEAP_HASH
from vestibule.settings import Settings
from vestibule.wire.operations import AnyOperation
from vestibule.wire.services import SERVICES, Protocol, Service

PER_OPERATION = 36
QUERY_ROWS = [(s, op) for s in SERVICES if s.protocol is Protocol.QUERY for op in s.operations.values()]
JSON_SERVICES = [s for s in SERVICES if s.protocol is Protocol.JSON]
REST_SERVICES = [s for s in SERVICES if s.protocol is Protocol.REST_JSON]


@pytest.fixture(scope="module")
def fuzz_settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(data_dir=Path(tmp_path_factory.mktemp("fuzz-aws")), database_url=database_url,
                    redis_url=os.environ.get("VESTIBULE_TEST_REDIS_URL", ""), public_url=BASE,
                    master_key="33" * 32, argon2_memory_kib=CHEAP_HASH.memory_kib,
                    argon2_time_cost=CHEAP_HASH.time_cost, argon2_parallelism=1)


@pytest.fixture(scope="module")
def world(fuzz_settings: Settings) -> Iterator[FuzzWorld]:
    """One event loop for the module, driven by the (synchronous) Hypothesis tests through `world.run`."""
    with asyncio.Runner() as runner:
        made = runner.run(FuzzWorld.open(fuzz_settings, runner, tag=uuid.uuid4().hex[:8]))
        try:
            yield made
        finally:
            runner.run(made.close())


def _send(world: FuzzWorld, request: httpx.Request, suite: str) -> httpx.Response:
    response = world.run(world.client.send(request))
    tally.case(suite)
    tally.request(suite, response.status_code, _outcome(response),
                  f"{request.method} {request.url.query.decode()} {request.content.decode('latin-1')}")
    return response


def _outcome(response: httpx.Response) -> str:
    """The status and error code, for the outcome table (VESTIBULE_FUZZ_OUTCOMES=1)."""
    code = ""
    if response.status_code >= 400:
        found = re.search(r"<Code>([^<]*)</Code>|\"__type\":\s*\"([^\"]*)\"", response.text)
        code = (found.group(1) or found.group(2)) if found else ""
    return f"{response.status_code} {code}".strip()


@pytest.mark.parametrize(("service", "operation"), QUERY_ROWS, ids=[f"{s.name}.{op.name}" for s, op in QUERY_ROWS])
@budget(PER_OPERATION)
@given(data=st.data())
def test_no_query_operation_answers_a_server_error(world: FuzzWorld, service: Service,
                                                         operation: AnyOperation, data: st.DataObject) -> None:
    call = data.draw(query_calls(service.name, operation.name, world.pools), label="call")
    caller = data.draw(st.sampled_from(sorted(world.callers)), label="caller")
    body = call.encoded()
    method = call.method if len(body) < 60000 else "POST"  # httpx refuses URLs over 64 KiB
    request = signed_request(method, body, world.callers[caller], service.signing_name)
    suite = f"aws {operation.name}" if os.environ.get("VESTIBULE_FUZZ_OUTCOMES") == "op" else "aws operations"
    check_answer(_send(world, request, suite), "query")


# ---- SigV4 itself: one signed GetCallerIdentity, then one part of its authentication made hostile ----------

_HOSTILE = st.one_of(st.sampled_from(["", " ", HUGE_DIGITS, "²", "20240101T000000Z", "99999999T999999Z",
                                      "Mon, 31 Dec 9999 23:59:59 -2359", "AWS4-HMAC-SHA256", "UNSIGNED-PAYLOAD",
                                      "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "a" * 70000, "x/y/z", "\x00", "é" * 10,
                                      *UNICODE_DIGITS]),
                     st.text(st.characters(max_codepoint=0xFF, blacklist_characters="\r\n"), max_size=60))
_HEADERS = ("Authorization", "X-Amz-Date", "X-Amz-Security-Token", "X-Amz-Content-SHA256", "Host", "Date",
            "Content-Type", "X-Amz-Target")
_AUTH_PARTS = ("Credential", "SignedHeaders", "Signature")
_PRESIGN = ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders",
            "X-Amz-Signature", "X-Amz-Security-Token")


@st.composite
def _hostile_authentication(draw: st.DrawFn, world: FuzzWorld) -> httpx.Request:
    keys: Keys = world.callers[draw(st.sampled_from(sorted(world.callers)))]
    body = b"Action=GetCallerIdentity&Version=2011-06-15"
    signed = signed_request("POST", body, keys, "sts")
    headers = dict(signed.headers)
    how = draw(st.sampled_from(["header", "authorization part", "duplicate", "presigned"]))
    value = draw(_HOSTILE)
    if how == "header":
        headers[draw(st.sampled_from(_HEADERS))] = value
    elif how == "authorization part":
        part = draw(st.sampled_from(_AUTH_PARTS))
        auth = headers["authorization"]
        start = auth.index(part + "=") + len(part) + 1
        end = auth.find(",", start)
        headers["authorization"] = auth[:start] + value + (auth[end:] if end >= 0 else "")
    elif how == "duplicate":
        name = draw(st.sampled_from(["authorization", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256"]))
        pairs = [*headers.items(), (name, headers.get(name, value))]
        return httpx.Request("POST", BASE + "/", content=body, headers=raw_headers(pairs))
    else:
        token = f"&X-Amz-Security-Token={quote(keys.session_token, safe='')}" if keys.session_token else ""
        params = {"X-Amz-Algorithm": "AWS4-HMAC-SHA256", "X-Amz-Credential": f"{keys.access_key_id}/20240101/"
                  "us-east-1/sts/aws4_request", "X-Amz-Date": "20240101T000000Z", "X-Amz-Expires": "60",
                  "X-Amz-SignedHeaders": "host", "X-Amz-Signature": "0" * 64}
        params[draw(st.sampled_from(_PRESIGN))] = value[:8000]  # httpx refuses URLs over 64 KiB
        query = "&".join(f"{k}={quote(v, safe='')}" for k, v in params.items()) + token
        return httpx.Request("GET", f"{BASE}/?Action=GetCallerIdentity&Version=2011-06-15&{query}")
    return httpx.Request("POST", BASE + "/", content=body, headers=raw_headers(list(headers.items())))


@budget(500)
@given(data=st.data())
def test_hostile_sigv4_authentication_gets_an_authentication_error(world: FuzzWorld,
                                                                          data: st.DataObject) -> None:
    request = data.draw(_hostile_authentication(world), label="request")
    response = _send(world, request, "aws sigv4")
    protocol = "json" if "x-amz-target" in {k.lower() for k in request.headers} else "query"
    check_answer(response, protocol)


# ---- JSON 1.1 and REST-JSON: every route of the table, operations of the model, bodies from the model ------

def _json_operations(service: Service) -> list[str]:
    return sorted(service_model(service.name).operation_names)


@pytest.mark.parametrize("service", JSON_SERVICES, ids=[s.name for s in JSON_SERVICES])
@budget(60)
@given(data=st.data())
def test_json_services_answer_no_server_error(world: FuzzWorld, service: Service, data: st.DataObject) -> None:
    name = data.draw(st.one_of(st.sampled_from(_json_operations(service)), st.text(max_size=30)), label="operation")
    body = data.draw(json_bodies(service.name, name, world.pools) if name in _json_operations(service)
                     else st.binary(max_size=64), label="body")
    keys = world.callers[data.draw(st.sampled_from(sorted(world.callers)), label="caller")]
    target = f"{service.target_prefix}.{name}"
    request = signed_request("POST", body, keys, service.signing_name, headers={
        "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": target}, form=False)
    check_answer(_send(world, request, "aws json"), "json")


def _rest_routes(service: Service) -> list[tuple[str, str, str]]:
    model = service_model(service.name)
    return sorted((name, model.operation_model(name).http["method"],
                   model.operation_model(name).http["requestUri"].split("?", 1)[0])
                  for name in model.operation_names)


@pytest.mark.parametrize("service", REST_SERVICES, ids=[s.name for s in REST_SERVICES])
@budget(60)
@given(data=st.data())
def test_rest_json_services_answer_no_server_error(world: FuzzWorld, service: Service,
                                                         data: st.DataObject) -> None:
    name, method, path = data.draw(st.sampled_from(_rest_routes(service)), label="route")
    body = data.draw(json_bodies(service.name, name, world.pools), label="body") if method == "POST" else b""
    query = data.draw(st.sampled_from(["", "role_name=ops&account_id=123456789012", f"x={HUGE_DIGITS}",
                                       "a=%FF%FE", "max_result=²"]), label="query")
    headers: dict[str, Any] = {"Content-Type": "application/json"}
    token = data.draw(st.sampled_from(["", "token", HUGE_DIGITS]), label="bearer")
    if token:
        headers["x-amz-sso_bearer_token"] = token
    signed = data.draw(st.booleans(), label="signed")
    url_path = path + (f"?{query}" if query else "")
    if signed:
        keys = world.callers[data.draw(st.sampled_from(sorted(world.callers)), label="caller")]
        request = signed_request(method, body, keys, service.signing_name, headers=headers, path=url_path,
                                 form=False)
    else:
        request = httpx.Request(method, BASE + url_path, content=body, headers=headers)
    check_answer(_send(world, request, "aws rest-json"), "json")


def test_every_served_operation_is_fuzzed() -> None:
    """The table and this suite cannot drift: every row is parametrized above (the JSON services by route)."""
    served = {(s.name, op.name) for s in SERVICES for op in s.operations.values()}
    fuzzed = {(s.name, op.name) for s, op in QUERY_ROWS}
    fuzzed |= {(s.name, name) for s in JSON_SERVICES for name in _json_operations(s)}
    fuzzed |= {(s.name, name) for s in REST_SERVICES for name, _, _ in _rest_routes(s)}
    assert served <= fuzzed
    assert len(QUERY_ROWS) >= 80
    assert json.dumps(sorted(served))
