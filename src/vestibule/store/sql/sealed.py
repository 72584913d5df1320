"""Every value sealed under the master keys, where it is stored: the registry a key rotation re-seals from.

A sealed value reads `v1.<key ID>.<blob>` (core/secretbox.py), so the key a row uses is a prefix of its column.
A new sealed column is one row in `SEALED_COLUMNS` (tests/integration/test_master_key_rotation.py checks that
every `*_sealed` column of the models is listed) and one context in services/key_rotation.py."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Table, func, select, update

from ..models import (
    AccessKey,
    Base,
    Captcha,
    ConsoleOidcLogin,
    FlowRecord,
    MfaDevice,
    OutboundWebIdentity,
    OutboxMail,
    SsoIdentitySource,
    TemporaryCredential,
)
from .base import Repository, rowcount
from .unit import UnitOfWork


@dataclass(frozen=True)
class SealedColumn:
    """A text column of sealed values: its table, the primary key that pages through it and the columns the
    sealing context is made of."""

    model: type[Base]
    column: str
    key: str
    fields: tuple[str, ...]

    @property
    def name(self) -> str:
        return f"{self.table.name}.{self.column}"

    @property
    def table(self) -> Table:
        table = self.model.__table__
        assert isinstance(table, Table)
        return table

    def col(self, name: str) -> Column[Any]:
        return self.table.c[name]


SEALED_COLUMNS: tuple[SealedColumn, ...] = (
    SealedColumn(MfaDevice, "secret_sealed", "id", ("serial",)),
    SealedColumn(AccessKey, "secret_sealed", "id", ("id",)),
    SealedColumn(TemporaryCredential, "secret_sealed", "id", ("id",)),
    SealedColumn(OutboxMail, "body_sealed", "id", ("id",)),
    SealedColumn(OutboundWebIdentity, "rsa_key_sealed", "account_id", ("account_id",)),
    SealedColumn(OutboundWebIdentity, "ec_key_sealed", "account_id", ("account_id",)),
    SealedColumn(Captcha, "answer_sealed", "browser_hash", ("browser_hash",)),
    SealedColumn(ConsoleOidcLogin, "client_secret_sealed", "id", ("id",)),
    SealedColumn(SsoIdentitySource, "secret_sealed", "instance_arn", ("instance_arn",)),
)
# Flow payloads that carry a sealed value in their JSON data (core/flows/base.py keeps a flow's payload under
# "payload"): (flow kind, key in the payload); the context comes from the rest of the payload.
SEALED_FLOW_FIELDS: tuple[tuple[str, str], ...] = (("mfa_enrolment", "secret_sealed"),
                                                  ("oidc_signin", "verifier_sealed"))
FLOW_PAYLOAD = "payload"


@dataclass(frozen=True)
class SealedRow:
    key: Any
    value: str
    fields: dict[str, Any]


@dataclass(frozen=True)
class SealedFlow:
    id: str
    version: int
    data: dict[str, Any]


def _prefix(kid: str) -> str:
    return f"v1.{kid}.%"


class SealedValues(Repository):
    async def counts(self, where: SealedColumn) -> dict[str, int]:
        """Values per key ID in one column (empty and non-sealed values left out)."""
        value = where.col(where.column)
        kid = func.substr(value, 4, 8)
        stmt = select(kid, func.count()).where(value.like("v1.%")).group_by(kid)
        return {str(k): int(n) for k, n in (await self.db.execute(stmt)).all()}

    async def not_under(self, where: SealedColumn, kid: str, after: Any, limit: int) -> list[SealedRow]:
        """The next `limit` rows (by primary key, after `after`) whose value is sealed under another key."""
        value, key = where.col(where.column), where.col(where.key)
        stmt = select(key, value, *(where.col(f) for f in where.fields)).where(
            value.like("v1.%"), ~value.like(_prefix(kid))).order_by(key).limit(limit)
        if after is not None:
            stmt = stmt.where(key > after)
        rows = (await self.db.execute(stmt)).all()
        return [SealedRow(r[0], str(r[1]), dict(zip(where.fields, r[2:], strict=True))) for r in rows]

    async def replace(self, where: SealedColumn, key: Any, old: str, new: str) -> bool:
        """Compare-and-set: the new value only where the row still holds `old` (a concurrent writer wins)."""
        value = where.col(where.column)
        result = await self.db.execute(
            update(where.table).where(where.col(where.key) == key, value == old).values({where.column: new}))
        return rowcount(result) == 1

    async def flows(self, kind: str, after: str | None, limit: int) -> list[SealedFlow]:
        stmt = select(FlowRecord.id, FlowRecord.version, FlowRecord.data).where(
            FlowRecord.kind == kind).order_by(FlowRecord.id).limit(limit)
        if after is not None:
            stmt = stmt.where(FlowRecord.id > after)
        return [SealedFlow(str(i), int(v), dict(d or {})) for i, v, d in (await self.db.execute(stmt)).all()]

    async def replace_flow(self, flow_id: str, version: int, data: dict[str, Any]) -> bool:
        """Compare-and-set on the flow's version, which stays as it is: a request holding the flow still saves
        (with the value it read, which the next pass re-seals again)."""
        result = await self.db.execute(
            update(FlowRecord).where(FlowRecord.id == flow_id, FlowRecord.version == version)
            .values(data=data).execution_options(synchronize_session=False))
        return rowcount(result) == 1


def sealed_column_names() -> Sequence[str]:
    return [c.name for c in SEALED_COLUMNS]



def sealed_values(uow: UnitOfWork) -> SealedValues:
    """The registry's repository inside a unit of work (used by key rotation only, so not on every unit)."""
    return SealedValues(uow.db)
