"""Remembered mail languages: one row per principal, written in one statement (no read-then-insert race)."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite

from ..models import MailLanguage
from .base import Repository


class MailLanguages(Repository):
    async def get(self, principal_key: str) -> str | None:
        row = await self.db.get(MailLanguage, principal_key)
        return None if row is None else row.language

    async def put(self, principal_key: str, language: str, at: float) -> None:
        dialect = sqlite if self.db.get_bind().dialect.name == "sqlite" else postgresql
        new = dialect.insert(MailLanguage).values(principal_key=principal_key, language=language, updated_at=at)
        await self.db.execute(new.on_conflict_do_update(index_elements=[MailLanguage.principal_key], set_={
            "language": new.excluded.language, "updated_at": new.excluded.updated_at}))

    async def forget(self, principal_key: str) -> None:
        await self.db.execute(delete(MailLanguage).where(MailLanguage.principal_key == principal_key))
