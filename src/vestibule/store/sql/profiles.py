"""Personal profiles, their trusted browsers and their data exports."""

from __future__ import annotations

from sqlalchemy import delete, select, update

from ..models import Profile, ProfileExport, ProfileTrustedBrowser
from .base import Repository, rowcount


class Profiles(Repository):
    async def add(self, profile: Profile) -> None:
        """Conflict when the email has a profile already."""
        await self._add(profile)

    async def by_id(self, profile_id: str) -> Profile | None:
        return await self.db.get(Profile, profile_id)

    async def by_email(self, email: str) -> Profile | None:
        """`email` as stored: lower-cased."""
        return (await self.db.execute(select(Profile).where(Profile.email == email.lower()))).scalar_one_or_none()

    async def save(self, profile: Profile) -> None:
        """Write a changed (loaded) profile now; Conflict on a taken email."""
        await self.db.merge(profile)
        await self._flush()

    async def delete(self, profile_id: str) -> bool:
        """The profile and (cascade) its trusted browsers and exports."""
        await self.db.execute(delete(ProfileTrustedBrowser).where(ProfileTrustedBrowser.profile_id == profile_id))
        await self.db.execute(delete(ProfileExport).where(ProfileExport.profile_id == profile_id))
        return rowcount(await self.db.execute(delete(Profile).where(Profile.id == profile_id))) > 0


class ProfileTrustedBrowsers(Repository):
    async def add(self, browser: ProfileTrustedBrowser) -> None:
        await self._add(browser)

    async def by_token(self, token_hash: str) -> ProfileTrustedBrowser | None:
        stmt = select(ProfileTrustedBrowser).where(ProfileTrustedBrowser.token_hash == token_hash)
        return (await self.db.execute(stmt)).scalar_one_or_none()

    async def of_profile(self, profile_id: str, now: float) -> list[ProfileTrustedBrowser]:
        """The profile's unexpired trusted browsers, most recently used first."""
        stmt = (select(ProfileTrustedBrowser)
                .where(ProfileTrustedBrowser.profile_id == profile_id, ProfileTrustedBrowser.expires_at > now)
                .order_by(ProfileTrustedBrowser.last_used_at.desc(), ProfileTrustedBrowser.id))
        return list((await self.db.execute(stmt)).scalars().all())

    async def used(self, browser_id: str, at: float) -> None:
        await self.db.execute(update(ProfileTrustedBrowser).where(ProfileTrustedBrowser.id == browser_id)
                              .values(last_used_at=at))

    async def revoke(self, profile_id: str, browser_id: str) -> bool:
        """Forget one of the profile's trusted browsers; False when it is not the profile's (or gone)."""
        result = await self.db.execute(delete(ProfileTrustedBrowser).where(
            ProfileTrustedBrowser.profile_id == profile_id, ProfileTrustedBrowser.id == browser_id))
        return rowcount(result) > 0

    async def revoke_all(self, profile_id: str) -> int:
        result = await self.db.execute(delete(ProfileTrustedBrowser).where(
            ProfileTrustedBrowser.profile_id == profile_id))
        return rowcount(result)

    async def purge_expired(self, before: float) -> int:
        """Trusted browsers whose trust ended before `before` (for the janitor)."""
        return rowcount(await self.db.execute(delete(ProfileTrustedBrowser).where(
            ProfileTrustedBrowser.expires_at < before)))


class ProfileExports(Repository):
    async def add(self, export: ProfileExport) -> None:
        await self._add(export)

    async def by_id(self, export_id: str) -> ProfileExport | None:
        return await self.db.get(ProfileExport, export_id)

    async def of_profile(self, profile_id: str) -> list[ProfileExport]:
        """Newest first."""
        stmt = (select(ProfileExport).where(ProfileExport.profile_id == profile_id)
                .order_by(ProfileExport.requested_at.desc(), ProfileExport.id))
        return list((await self.db.execute(stmt)).scalars().all())

    async def save(self, export: ProfileExport) -> None:
        await self.db.merge(export)
        await self._flush()

    async def delete(self, export_id: str) -> bool:
        return rowcount(await self.db.execute(delete(ProfileExport).where(ProfileExport.id == export_id))) > 0

    async def pending(self, limit: int) -> list[str]:
        """IDs of exports still to prepare, oldest first."""
        stmt = (select(ProfileExport.id).where(ProfileExport.status == "pending")
                .order_by(ProfileExport.requested_at, ProfileExport.id).limit(limit))
        return [str(i) for i in (await self.db.execute(stmt)).scalars().all()]

    async def mark_ready(self, export_id: str, *, token_hash: str, content: bytes, ready_at: float,
                         expires_at: float) -> bool:
        """Compare-and-set pending -> ready; False when another node prepared it first (or it is gone)."""
        result = await self.db.execute(
            update(ProfileExport).where(ProfileExport.id == export_id, ProfileExport.status == "pending")
            .values(status="ready", token_hash=token_hash, content=content, ready_at=ready_at, expires_at=expires_at)
            .execution_options(synchronize_session=False))
        return rowcount(result) == 1

    async def purge_expired(self, before: float) -> int:
        """Exports (and their content) past their download window."""
        return rowcount(await self.db.execute(delete(ProfileExport).where(ProfileExport.expires_at < before)))
