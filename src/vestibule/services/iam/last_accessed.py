"""Service last accessed data (GenerateServiceLastAccessedDetails, GetServiceLastAccessedDetails,
GetServiceLastAccessedDetailsWithEntities, ListPoliciesGrantingServiceAccess) for the services Vestibule
serves, IAM and STS.

Every successful authorized call of an IAM user or a role is remembered per principal, service and action
(`noted`, called once a call has succeeded). The request path only puts the call in a per-process batch; one
background task writes each batch in one statement, and a principal's same action is written at most once a
minute. A Generate... writes what is still pending first. A report is computed when it is generated and kept
as its job."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import uuid
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from ...core import access_advisor, arns
from ...core import policy as engine
from ...core.principals import PrincipalKind
from ...errors import InvalidInput, NotFound
from ...store.models import IamGroup, IamRole, IamUser, ReportJob, ServiceLastAccessed
from ...store.repositories import Store, UnitOfWork
from ...store.sql.reports import AccessNote
from .. import authorization
from ..api_call import ApiCall
from .common import entity_arn, entity_at

log = logging.getLogger("vestibule.iam.last_accessed")

TRACKING_SECONDS = 365 * 86400  # IAM reports the last 365 days
WRITE_INTERVAL = 60.0  # a principal's same action is written at most this often
JOB_DAYS = 30  # jobs are kept this long
KIND = "service-access"
Granularity = Literal["SERVICE_LEVEL", "ACTION_LEVEL"]
EntityType = Literal["USER", "ROLE", "GROUP"]
ServedActions = access_advisor.ServedActions
_ARN = re.compile(r"arn:aws:iam::([0-9]{12}|aws):(user|group|role|policy)(/(?:[\u0021-\u007E]*/)?)([\w+=,.@-]+)",
                  re.ASCII)


# ---- recording -----------------------------------------------------------------------------------------


class AccessRecorder:
    """The calls of one store waiting to be written, and the one task writing them."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._pending: dict[tuple[str, str, str], AccessNote] = {}
        self._written: dict[tuple[str, str, str], float] = {}
        self._task: asyncio.Task[None] | None = None

    def note(self, note: AccessNote) -> None:
        key = (note.principal_key, note.service, note.action)
        if 0 <= note.at - self._written.get(key, float("-inf")) < WRITE_INTERVAL:
            return
        if len(self._written) > 100_000:
            self._written.clear()
        self._written[key] = note.at
        self._pending[key] = note
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._write())

    async def _write(self) -> None:
        while self._pending:
            batch, self._pending = list(self._pending.values()), {}
            try:
                async with self._store.unit() as uow:
                    await uow.last_accessed.note(batch)
            except Exception:  # the calls themselves succeeded; their last-accessed data is best effort
                log.exception("could not record the last access of %d principal actions", len(batch))

    async def settle(self) -> None:
        """Until everything noted so far is written."""
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)


_RECORDERS: weakref.WeakKeyDictionary[Store, AccessRecorder] = weakref.WeakKeyDictionary()


def recorder(store: Store) -> AccessRecorder:
    found = _RECORDERS.get(store)
    if found is None:
        found = _RECORDERS[store] = AccessRecorder(store)
    return found


def noted(call: ApiCall) -> None:
    """Remember a call that was authorized and succeeded, if an IAM user or a role made it."""
    principal = call.caller.principal
    if call.action is None or principal.kind not in (PrincipalKind.IAM_USER, PrincipalKind.ROLE):
        return
    service, _, action = call.action.partition(":")
    recorder(call.deps.store).note(AccessNote(principal.key, call.account_id, service, action, call.now(),
                                              call.region[:32]))


# ---- the entity a report is about ------------------------------------------------------------------------


@dataclass(frozen=True)
class Entity:
    """A user or role whose calls count in a report."""

    type: EntityType
    id: str
    name: str
    path: str
    arn: str

    @property
    def principal_key(self) -> str:
        return f"{'user' if self.type == 'USER' else 'role'}:{self.id}"


@dataclass(frozen=True)
class Granted:
    """A policy that can give an identity access (ListPoliciesGrantingServiceAccess)."""

    name: str
    type: Literal["INLINE", "MANAGED"]
    document: str
    arn: str | None = None
    entity_type: EntityType | None = None
    entity_name: str | None = None


@dataclass(frozen=True)
class Subject:
    entities: list[Entity]
    policies: list[Granted]


def _user(user: IamUser) -> Entity:
    return Entity("USER", user.id, user.name, user.path, arns.user_arn(user.account_id, user.name, user.path))


def _role(role: IamRole) -> Entity:
    return Entity("ROLE", role.id, role.name, role.path, arns.role_arn(role.account_id, role.name, role.path))


async def _policies_of(uow: UnitOfWork, kind: str, target_id: str, owner: str, owner_type: EntityType
                       ) -> list[Granted]:
    found = []
    for arn in await uow.policies.attached_to(kind, target_id):
        document = await authorization.managed_document(uow, arn)
        if document is not None:
            found.append(Granted(arn.rsplit("/", 1)[1], "MANAGED", document, arn=arn))
    found += [Granted(row.name, "INLINE", row.document, entity_type=owner_type, entity_name=owner)
              for row in await uow.policies.inline_of(kind, target_id)]
    return found


def _missing(kind: str, name: str) -> NotFound:
    return NotFound(f"The {kind} with name {name} cannot be found.")


async def _subject(call: ApiCall, uow: UnitOfWork, arn: str, *, policies_allowed: bool = True) -> Subject:
    """The entities and policies of the user, group, role (or managed policy) `arn`, after authorizing the call
    on it."""
    match = _ARN.fullmatch(arn)
    if match is None or (match.group(1) == "aws" and match.group(2) != "policy") or (
            match.group(2) == "policy" and not policies_allowed):
        raise InvalidInput("arn", f"ARN {arn} is not valid.")
    kind, path, name = match.group(2), match.group(3), match.group(4)
    if kind == "policy":
        await call.authorize(uow, arn)
        return await _policy_subject(call, uow, arn)
    # names match without regard to case: the stored entity's ARN is the one authorized (a Deny on
    # user/Admin holds for user/admin too), the ARN as given when there is none
    entity = await entity_at(uow, call.account_id, kind, path, name) if match.group(1) == call.account_id else None
    await call.authorize(uow, entity_arn(kind, entity) if entity is not None else arn)
    if isinstance(entity, IamUser):
        policies = await _policies_of(uow, "user", entity.id, entity.name, "USER")
        for group in await uow.groups.of_user(entity.id):
            policies += await _policies_of(uow, "group", group.id, group.name, "GROUP")
        return Subject([_user(entity)], policies)
    if isinstance(entity, IamRole):
        return Subject([_role(entity)], await _policies_of(uow, "role", entity.id, entity.name, "ROLE"))
    if isinstance(entity, IamGroup):
        return Subject([_user(u) for u in await uow.groups.members(entity.id)],
                       await _policies_of(uow, "group", entity.id, entity.name, "GROUP"))
    raise _missing(kind, name)


async def _policy_subject(call: ApiCall, uow: UnitOfWork, arn: str) -> Subject:
    document = await authorization.managed_document(uow, arn)
    row = None if arns.is_aws_managed(arn) else await uow.policies.get(arn)
    if document is None or (row is not None and row.account_id != call.account_id):
        raise NotFound(f"Policy {arn} does not exist or is not attachable.")
    entities: dict[str, Entity] = {}
    for kind, entity_id, _, _ in await uow.policies.attached_entities(arn, call.account_id):
        if kind == "user":
            user = await uow.users.get(entity_id)
            if user is not None:
                entities[user.id] = _user(user)
        elif kind == "role":
            role = await uow.roles.get(entity_id)
            if role is not None:
                entities[role.id] = _role(role)
        else:
            for member in await uow.groups.members(entity_id):
                entities[member.id] = _user(member)
    ordered = sorted(entities.values(), key=lambda e: (e.type, e.name.lower()))
    return Subject(ordered, [Granted(arn.rsplit("/", 1)[1], "MANAGED", document, arn=arn)])


# ---- reports ---------------------------------------------------------------------------------------------


def _parsed(policies: Sequence[Granted]) -> list[engine.Policy]:
    return [engine.parse_policy(p.document) for p in policies]


def _report(subject: Subject, rows: Sequence[ServiceLastAccessed], served: ServedActions, granularity: Granularity
            ) -> list[dict[str, Any]]:
    """The report's services, each with its last access, its tracked actions (ACTION_LEVEL) and its entities."""
    parsed = _parsed(subject.policies)
    by_key = {e.principal_key: e for e in subject.entities}
    services = []
    for namespace in access_advisor.allowed_services(parsed, served):
        used = [r for r in rows if r.service == namespace and r.principal_key in by_key]  # newest first
        entry: dict[str, Any] = {"namespace": namespace, "name": access_advisor.service_name(namespace),
                                 "total": len({r.principal_key for r in used})}
        if used:
            entry.update(last_at=used[0].last_at, entity=by_key[used[0].principal_key].arn, region=used[0].region)
        if granularity == "ACTION_LEVEL" and namespace in served and used:
            actions = []
            for action in access_advisor.allowed_actions(parsed, namespace, served[namespace]):
                last = next((r for r in used if r.action == action), None)
                actions.append({"name": action} if last is None else {
                    "name": action, "last_at": last.last_at, "entity": by_key[last.principal_key].arn,
                    "region": last.region})
            entry["actions"] = actions
        entry["entities"] = [{"type": e.type, "id": e.id, "name": e.name, "path": e.path, "arn": e.arn,
                              "last_at": max((r.last_at for r in used if r.principal_key == e.principal_key),
                                             default=None)} for e in subject.entities]
        services.append(entry)
    return services


async def generate(call: ApiCall, arn: str, granularity: Granularity, served: ServedActions) -> str:
    """A report on the user, group, role or managed policy `arn`; its job ID."""
    await recorder(call.deps.store).settle()
    now = call.now()
    async with call.unit() as uow:
        subject = await _subject(call, uow, arn)
        rows = await uow.last_accessed.of([e.principal_key for e in subject.entities], since=now - TRACKING_SECONDS)
        services = _report(subject, rows, served, granularity)
        await uow.report_jobs.purge_before(call.account_id, now - JOB_DAYS * 86400)
        job = ReportJob(id=str(uuid.uuid4()), account_id=call.account_id, kind=KIND, subject=arn,
                        granularity=granularity, status="COMPLETED", created_at=now, completed_at=now,
                        result=json.dumps({"services": services}))
        await uow.report_jobs.add(job)
        await call.record(uow, arn=arn, granularity=granularity, job_id=job.id)
        return job.id


@dataclass(frozen=True)
class Job:
    status: str
    granularity: str
    created_at: float
    completed_at: float | None
    services: list[dict[str, Any]]


async def job(call: ApiCall, job_id: str) -> Job:
    async with call.unit() as uow:
        await call.authorize(uow, "*")
        row = await uow.report_jobs.get(job_id, call.account_id, KIND)
    if row is None:
        raise NotFound(f"No service last accessed report with job ID {job_id} exists.")
    return Job(row.status, row.granularity, row.created_at, row.completed_at, json.loads(row.result)["services"])


@dataclass(frozen=True)
class GrantingPolicies:
    namespace: str
    policies: list[Granted]


async def policies_granting(call: ApiCall, arn: str, namespaces: Sequence[str],
                            served: Mapping[str, Sequence[str]]) -> list[GrantingPolicies]:
    """For each namespace, the policies of the user, group or role `arn` that allow some action of it."""
    async with call.unit() as uow:
        subject = await _subject(call, uow, arn, policies_allowed=False)
    allowing = [(p, set(access_advisor.allowed_services([engine.parse_policy(p.document)], served)))
                for p in subject.policies]
    return [GrantingPolicies(ns, [p for p, services in allowing if ns in services]) for ns in namespaces]

