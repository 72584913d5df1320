"""The policy simulator: SimulatePrincipalPolicy, SimulateCustomPolicy, GetContextKeysForCustomPolicy and
GetContextKeysForPrincipalPolicy."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence

from ....services.iam import simulation
from ....services.iam.simulation_inputs import ContextEntry, Exclusion
from ...errors import AwsError
from ...members import string_list, structure_list, text
from ..errors import ValidationError
from ..request import QueryRequest
from ..xml import Result, XmlMap, XmlValue
from .members import DOCUMENT_PATTERN, PAGES
from .shapes import Shape, snapshot_page
from .table import IAM

POLICY_SOURCE_ARN = text("PolicySourceArn", 20, 2048).required()
POLICY_INPUTS = string_list("PolicyInputList")
BOUNDARY_INPUTS = string_list("PermissionsBoundaryPolicyInputList")
ACTION_NAMES = string_list("ActionNames").required()
RESOURCE_ARNS = string_list("ResourceArns")
RESOURCE_POLICY = text("ResourcePolicy", 1, 131072, DOCUMENT_PATTERN)
RESOURCE_OWNER = text("ResourceOwner", 1, 2048)
CALLER_ARN = text("CallerArn", 1, 2048)
CONTEXT_ENTRIES = structure_list("ContextEntries")
RESOURCE_HANDLING = text("ResourceHandlingOption", 1, 64)
ORGANIZATION_POLICIES = structure_list("OrderedOrganizationPolicyInputList", 7)
EXCLUSIONS = structure_list("PolicyExclusionList", 256)
_SIMULATION = (BOUNDARY_INPUTS, ACTION_NAMES, RESOURCE_ARNS, RESOURCE_POLICY, RESOURCE_OWNER, CALLER_ARN,
               CONTEXT_ENTRIES, RESOURCE_HANDLING, *PAGES)
_DOCUMENT = re.compile(DOCUMENT_PATTERN)
_CONTEXT_TYPES = ("string", "stringList", "numeric", "numericList", "boolean", "booleanList", "ip", "ipList",
                  "binary", "binaryList", "date", "dateList")


class PolicyEvaluation(AwsError):
    code = "PolicyEvaluation"
    status = 500
    sender_fault = False


def _refuse(at: str, rule: str, value: str | None = None) -> ValidationError:
    quoted = f"Value '{value[:64]}' at" if value is not None else "Value at"
    return ValidationError(f"1 validation error detected: {quoted} '{at}' failed to satisfy constraint: {rule}")


def _length(at: str, value: str, low: int, high: int) -> None:
    if not low <= len(value) <= high:
        raise _refuse(at, f"Member must have length between {low} and {high}")


def _documents(values: Sequence[str], wire: str) -> list[str]:
    for number, value in enumerate(values, start=1):
        at = f"{wire}.{number}.member"
        _length(at, value, 1, 131072)
        if _DOCUMENT.fullmatch(value) is None:
            raise _refuse(at, f"Member must satisfy regular expression pattern: {DOCUMENT_PATTERN}")
    return list(values)


def _members(fields: dict[str, str], name: str) -> list[str]:
    """`<name>.member.N` values of one structure member, in index order."""
    prefix = f"{name}.member."
    found = [(key[len(prefix):], value) for key, value in fields.items() if key.startswith(prefix)]
    return [value for index, value in sorted(found, key=lambda item: int(item[0]) if item[0].isdigit() else 0)]


def _context(q: QueryRequest) -> list[ContextEntry]:
    entries = []
    for number, fields in enumerate(q.input.structs("ContextEntries"), start=1):
        at = f"contextEntries.{number}.member"
        name, kind = fields.get("ContextKeyName"), fields.get("ContextKeyType")
        if name is not None:
            _length(f"{at}.contextKeyName", name, 5, 256)
        if kind is not None and kind not in _CONTEXT_TYPES:
            raise _refuse(f"{at}.contextKeyType", f"Member must satisfy enum value set: [{', '.join(_CONTEXT_TYPES)}]",
                          kind)
        entries.append(ContextEntry(name, tuple(_members(fields, "ContextKeyValues")), kind))
    return entries


def _exclusions(q: QueryRequest) -> list[Exclusion]:
    out = []
    for fields in q.input.structs("PolicyExclusionList"):
        inline = tuple(fields.get(f"InlinePolicyIdentifier.{name}")
                       for name in ("PolicyName", "AttachmentType", "AttachmentName"))
        out.append(Exclusion(fields.get("PolicyType"), fields.get("PolicyArn"),
                             (inline[0], inline[1], inline[2]) if any(v is not None for v in inline) else None))
    return out


def _inputs(q: QueryRequest, *, organizations: bool = False, exclusions: bool = False) -> simulation.SimulationInputs:
    actions = q.input.strings("ActionNames")
    for number, action in enumerate(actions, start=1):
        _length(f"actionNames.{number}.member", action, 3, 128)
    resources = q.input.strings("ResourceArns")
    for number, resource in enumerate(resources, start=1):
        _length(f"resourceArns.{number}.member", resource, 1, 2048)
    levels: list[list[str]] = []
    if organizations:
        for number, fields in enumerate(q.input.structs("OrderedOrganizationPolicyInputList"), start=1):
            wire = f"orderedOrganizationPolicyInputList.{number}.member.serviceControlPolicyInputList"
            levels.append(_documents(_members(fields, "ServiceControlPolicyInputList"), wire))
    return simulation.SimulationInputs(
        actions=actions, resources=resources,
        policy_inputs=_documents(q.input.strings("PolicyInputList"), "policyInputList"),
        boundary_inputs=_documents(q.input.strings("PermissionsBoundaryPolicyInputList"),
                                   "permissionsBoundaryPolicyInputList"),
        resource_policy=q.input.text("ResourcePolicy"), resource_owner=q.input.text("ResourceOwner"),
        caller_arn=q.input.text("CallerArn"), context=_context(q), scenario=q.input.text("ResourceHandlingOption"),
        organization_levels=levels, exclusions=_exclusions(q) if exclusions else ())


def _statement(matched: simulation.MatchedStatement) -> Shape:
    shape: Shape = {"SourcePolicyId": matched.source_id, "SourcePolicyType": matched.source_type}
    if matched.span is not None:
        start, end = matched.span
        shape["StartPosition"] = {"Line": start.line, "Column": start.column}
        shape["EndPosition"] = {"Line": end.line, "Column": end.column}
    return shape


def _common(found: simulation.ResourceResult | simulation.EvaluationResult) -> Shape:
    shape: Shape = {"MatchedStatements": [_statement(m) for m in found.matched],
                    "MissingContextValues": list(found.missing)}
    if found.details is not None:
        shape["EvalDecisionDetails"] = XmlMap(found.details)
    if found.allowed_by_boundary is not None:
        shape["PermissionsBoundaryDecisionDetail"] = {"AllowedByPermissionsBoundary": found.allowed_by_boundary}
    return shape


def _result(found: simulation.EvaluationResult) -> Shape:
    shape: Shape = {"EvalActionName": found.action, "EvalResourceName": found.resource,
                    "EvalDecision": found.decision.value, **_common(found),
                    "OrganizationsDecisionDetail": {"AllowedByOrganizations": found.allowed_by_organizations}}
    if found.resource_results is not None:
        shape["ResourceSpecificResults"] = [
            {"EvalResourceName": one.resource, "EvalResourceDecision": one.decision.value, **_common(one)}
            for one in found.resource_results]
    return shape


def _answer(q: QueryRequest, results: list[simulation.EvaluationResult]) -> Result:
    digest = hashlib.sha256(json.dumps([(r.action, r.resource) for r in results]).encode()).hexdigest()
    items, extra = snapshot_page(q, "SimulatePolicy", digest, results)  # the same inputs give the same results
    listed: list[XmlValue] = [_result(r) for r in items]
    return {"EvaluationResults": listed, **extra}


@IAM.operation("SimulatePrincipalPolicy", action="iam:SimulatePrincipalPolicy",
               inputs=(POLICY_SOURCE_ARN, POLICY_INPUTS, EXCLUSIONS, *_SIMULATION))
async def simulate_principal_policy(q: QueryRequest) -> Result:
    source = q.input.required("PolicySourceArn")
    try:
        results = await simulation.simulate_principal(q.call, source, _inputs(q, exclusions=True))
    except simulation.PolicyNotEvaluable as exc:
        raise PolicyEvaluation(str(exc)) from None
    return _answer(q, results)


@IAM.operation("SimulateCustomPolicy", action="iam:SimulateCustomPolicy",
               inputs=(POLICY_INPUTS.required(), ORGANIZATION_POLICIES, *_SIMULATION))
async def simulate_custom_policy(q: QueryRequest) -> Result:
    return _answer(q, await simulation.simulate_custom(q.call, _inputs(q, organizations=True)))


@IAM.operation("GetContextKeysForCustomPolicy", action="iam:GetContextKeysForCustomPolicy",
               inputs=(POLICY_INPUTS.required(),))
async def get_context_keys_for_custom_policy(q: QueryRequest) -> Result:
    documents = _documents(q.input.strings("PolicyInputList"), "policyInputList")
    return {"ContextKeyNames": list(await simulation.context_keys_custom(q.call, documents))}


@IAM.operation("GetContextKeysForPrincipalPolicy", action="iam:GetContextKeysForPrincipalPolicy",
               inputs=(POLICY_SOURCE_ARN, POLICY_INPUTS))
async def get_context_keys_for_principal_policy(q: QueryRequest) -> Result:
    documents = _documents(q.input.strings("PolicyInputList"), "policyInputList")
    try:
        keys = await simulation.context_keys_principal(q.call, q.input.required("PolicySourceArn"), documents)
    except simulation.PolicyNotEvaluable as exc:
        raise PolicyEvaluation(str(exc)) from None
    return {"ContextKeyNames": list(keys)}
