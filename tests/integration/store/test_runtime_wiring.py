"""Runtime wiring of the scale-out parts: the bus crosses processes only with Redis; start() and close()
run the invalidation listener and the janitor; the janitor's settings."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from support import reachable_redis_url
from vestibule.runtime import Runtime, build
from vestibule.services.invalidation import ACCESS_KEY
from vestibule.services.throttling import DatabaseThrottle, RedisThrottle
from vestibule.settings import Settings, SettingsError, load_settings


def _settings(tmp_path: Path, **kw: object) -> Settings:
    return Settings(data_dir=tmp_path, master_key="33" * 32).with_overrides(**kw)


async def test_without_redis_the_bus_stays_in_process(tmp_path: Path) -> None:
    runtime = await build(_settings(tmp_path, janitor_interval_seconds=0))
    try:
        assert runtime.bus is runtime.deps.bus and not runtime.bus.crosses_processes
        assert isinstance(runtime.deps.throttle, DatabaseThrottle)
        seen: list[str] = []
        runtime.bus.subscribe(ACCESS_KEY, seen.append)
        await runtime.start()
        await runtime.bus.publish(ACCESS_KEY, "AKIA1")
        assert seen == ["AKIA1"]
        assert runtime.janitor is not None and not runtime.janitor.running, "interval 0 disables it"
        assert runtime.mail_sender is not None and runtime.mail_sender.running, "start() runs the mail sender"
    finally:
        await runtime.close()
    assert not runtime.mail_sender.running, "close() stops it"


async def test_with_redis_two_runtimes_hear_each_other_and_run_janitors(tmp_path: Path) -> None:
    url = await reachable_redis_url()
    runtimes: list[Runtime] = []
    try:
        for name in ("a", "b"):
            runtime = await build(_settings(tmp_path / name, redis_url=url, janitor_interval_seconds=60))
            await runtime.start()
            await runtime.start()  # idempotent
            runtimes.append(runtime)
        a, b = runtimes
        assert a.bus.crosses_processes and isinstance(a.deps.throttle, RedisThrottle)
        assert a.janitor is not None and a.janitor.running
        heard: list[str] = []
        b.bus.subscribe(ACCESS_KEY, heard.append)
        await a.bus.publish(ACCESS_KEY, "AKIA-wiring-test")
        for _ in range(500):
            if "AKIA-wiring-test" in heard:
                break
            await asyncio.sleep(0.01)
        assert "AKIA-wiring-test" in heard
    finally:
        for runtime in runtimes:
            await runtime.close()
    assert all(r.janitor is not None and not r.janitor.running for r in runtimes)


def test_janitor_settings() -> None:
    assert (load_settings({}).janitor_interval_seconds, load_settings({}).janitor_retention_seconds) == (300, 86400)
    custom = load_settings({"VESTIBULE_JANITOR_INTERVAL_SECONDS": "0", "VESTIBULE_JANITOR_RETENTION_SECONDS": "3600"})
    assert (custom.janitor_interval_seconds, custom.janitor_retention_seconds) == (0, 3600)
    with pytest.raises(SettingsError, match="VESTIBULE_JANITOR_INTERVAL_SECONDS"):
        load_settings({"VESTIBULE_JANITOR_INTERVAL_SECONDS": "-1"})
    with pytest.raises(SettingsError, match="VESTIBULE_JANITOR_RETENTION_SECONDS"):
        load_settings({"VESTIBULE_JANITOR_RETENTION_SECONDS": "soon"})


def test_mail_outbox_settings() -> None:
    default = load_settings({})
    assert (default.mail_max_attempts, default.mail_retry_seconds, default.mail_retry_max_seconds,
            default.mail_poll_seconds) == (8, 10, 600, 5)
    custom = load_settings({"VESTIBULE_MAIL_MAX_ATTEMPTS": "3", "VESTIBULE_MAIL_RETRY_SECONDS": "2",
                            "VESTIBULE_MAIL_RETRY_MAX_SECONDS": "60", "VESTIBULE_MAIL_POLL_SECONDS": "30"})
    assert (custom.mail_max_attempts, custom.mail_retry_seconds, custom.mail_retry_max_seconds,
            custom.mail_poll_seconds) == (3, 2, 60, 30)
    for name, bad in (("VESTIBULE_MAIL_MAX_ATTEMPTS", "0"), ("VESTIBULE_MAIL_RETRY_SECONDS", "soon"),
                      ("VESTIBULE_MAIL_POLL_SECONDS", "0")):
        with pytest.raises(SettingsError, match=name):
            load_settings({name: bad})
