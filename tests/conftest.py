"""Shared fixtures: a migrated database (SQLite, or PostgreSQL via VESTIBULE_TEST_DATABASE_URL),
an optional Redis (VESTIBULE_TEST_REDIS_URL), the app in-process, and a live server for real clients."""

from __future__ import annotations

import asyncio
import gc
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from support import (
    CHEAP_HASH,
    CaptchaAnswers,
    DeliveringTransport,
    LiveServer,
    flush_test_redis,
    start_live_server,
    stop_live_server,
)
from vestibule.core.passwords import PasswordHasher
from vestibule.runtime import Runtime, build
from vestibule.services.mail import DevMailbox
from vestibule.settings import Settings
from vestibule.store.database import make_engine, migrate, table_names


def _crt_signs_on_botocore_clock() -> None:
    """With awscrt installed (botocore[crt], which the login credential provider needs) botocore signs SigV4
    through CRT, whose module reads the clock through its own name: route it through `botocore.auth`'s, so a
    test that moves botocore's signing clock (monkeypatching `botocore.auth.get_current_datetime`) moves both."""
    import importlib

    for package in ("botocore", "awscli.botocore"):
        try:
            auth = importlib.import_module(f"{package}.auth")
            crt_auth = importlib.import_module(f"{package}.crt.auth")
        except ImportError:
            continue
        setattr(crt_auth, "get_current_datetime",  # noqa: B010 (a module of another package, typed as ModuleType)
                lambda *args, _auth=auth, **kwargs: _auth.get_current_datetime(*args, **kwargs))


_crt_signs_on_botocore_clock()


def _templates_compiled_once_per_process() -> None:
    """Each test builds its own app and runtime, so its own Jinja environments, which compiled every page and mail
    template it rendered again (about 270 compilations in 26 HTTP tests, some 30 ms a test): the environments of
    a kind (configured alike) share an in-memory bytecode cache, keyed as Jinja's file cache is (the template's
    name, then its source's checksum), so each template is compiled once per test process."""
    import jinja2
    from jinja2.bccache import Bucket

    try:
        from vestibule import mail_templates
        from vestibule.web import rendering
    except Exception:  # a web layer that does not import fails its own tests, not the store suites
        return

    class MemoryBytecodeCache(jinja2.BytecodeCache):
        def __init__(self) -> None:
            self.stored: dict[str, bytes] = {}

        def load_bytecode(self, bucket: Bucket) -> None:
            if bucket.key in self.stored:
                bucket.bytecode_from_string(self.stored[bucket.key])  # a changed source's checksum: compiled again

        def dump_bytecode(self, bucket: Bucket) -> None:
            self.stored[bucket.key] = bucket.bytecode_to_string()

    pages, mails = MemoryBytecodeCache(), MemoryBytecodeCache()
    build_web = rendering.Web.build

    def web_build(*args: Any, **kwargs: Any) -> rendering.Web:
        web = build_web(*args, **kwargs)
        web.env.bytecode_cache = pages
        return web

    init_mail = mail_templates.JinjaMailTemplates.__init__

    def mail_init(self: mail_templates.JinjaMailTemplates, *args: Any, **kwargs: Any) -> None:
        init_mail(self, *args, **kwargs)
        self._env.bytecode_cache = mails

    setattr(rendering.Web, "build", staticmethod(web_build))  # noqa: B010 (a method replaced on its class)
    setattr(mail_templates.JinjaMailTemplates, "__init__", mail_init)  # noqa: B010


_templates_compiled_once_per_process()


def pytest_configure(config: pytest.Config) -> None:
    # Here rather than in pyproject: tests/run_suite.py leaves these out of its SQLite pass.
    config.addinivalue_line("markers", "multinode: needs PostgreSQL + Redis and starts several nodes behind HAProxy "
                            "(tests/e2e/test_multi_node.py); run in the PostgreSQL + Redis pass only")
    config.addinivalue_line("markers", "own_sqlite: starts `vestibule serve` or the CLI on a SQLite data directory of "
                            "its own whatever the pass (the test database's URL is left out of its environment), "
                            "so the PostgreSQL + Redis pass leaves it out instead of running the same thing twice")


def pytest_collection_finish(session: pytest.Session) -> None:
    """What is loaded by now (the modules, botocore's models, the collected tests) lives as long as the run: out of
    the collector's way (`gc.freeze`), and young objects collected less often. Each full collection walked the
    whole heap of a test process; 338 integration tests took 66-67 s of wall time instead of 70-72 s."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(100_000, 50, 1000)


# A vestibule.toml named in the developer's shell must not reach the servers and commands the tests start (the
# tests that want a file pass --config or set VESTIBULE_CONFIG themselves).
os.environ.pop("VESTIBULE_CONFIG", None)

TEST_DATABASE_URL = os.environ.get("VESTIBULE_TEST_DATABASE_URL", "")
TEST_REDIS_URL = os.environ.get("VESTIBULE_TEST_REDIS_URL", "")
ARTIFACTS = Path(os.environ.get("VESTIBULE_TEST_ARTIFACTS", "test-artifacts"))
MASTER_KEY = "11" * 32


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = TEST_DATABASE_URL or f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"

    async def _prepare() -> None:
        engine = make_engine(url)
        if url.startswith("postgresql"):
            from sqlalchemy import text

            async with engine.begin() as conn:
                await conn.execute(text("DROP SCHEMA public CASCADE"))
                await conn.execute(text("CREATE SCHEMA public"))
        await migrate(engine)
        await engine.dispose()
        await flush_test_redis()

    asyncio.run(_prepare())
    return url


def _pg_wipe_script() -> str:
    return "; ".join([*(f"DELETE FROM {name}" for name in reversed(table_names())),
                      "SELECT setval(format('%I.%I', schemaname, sequencename)::regclass, start_value, false) "
                      "FROM pg_sequences WHERE schemaname = current_schema()"])


async def _wipe(url: str) -> None:
    from sqlalchemy import text

    engine = make_engine(url)
    async with engine.begin() as conn:
        if url.startswith("postgresql"):
            # DELETE, not TRUNCATE: TRUNCATE gives each of the ~60 tables new files (0.2-1 s a test, most of the
            # pass's set-up), a test leaves a few rows. One round trip (the driver's simple query protocol takes
            # many statements); the sequences start again as TRUNCATE's RESTART IDENTITY had them.
            driver = (await conn.get_raw_connection()).driver_connection
            assert driver is not None
            await driver.execute(_pg_wipe_script())
        else:
            for name in reversed(table_names()):
                await conn.execute(text(f"DELETE FROM {name}"))
    await engine.dispose()
    await flush_test_redis()


def _wipe_sqlite_file(url: str) -> None:
    """What `_wipe` does to a SQLite file, in one script on a plain sqlite3 connection (the 64 statements through
    the async engine's thread took 15-20 ms a test; this about 2 ms)."""
    import sqlite3

    conn = sqlite3.connect(url.split("///", 1)[-1], timeout=30, isolation_level=None)
    try:
        conn.executescript("PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL; BEGIN IMMEDIATE; "
                           + "".join(f"DELETE FROM {name}; " for name in reversed(table_names())) + "COMMIT;")
    finally:
        conn.close()


@pytest.fixture
def clean_database(database_url: str) -> str:
    if database_url.startswith("sqlite"):
        _wipe_sqlite_file(database_url)
        asyncio.run(flush_test_redis())
    else:
        asyncio.run(_wipe(database_url))
    return database_url


@pytest.fixture
def settings(clean_database: str, tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=clean_database,
        redis_url=TEST_REDIS_URL,
        public_url="http://testserver",
        master_key=MASTER_KEY,
        argon2_memory_kib=CHEAP_HASH.memory_kib,
        argon2_time_cost=CHEAP_HASH.time_cost,
        argon2_parallelism=1,
    )


@pytest.fixture
def captcha() -> CaptchaAnswers:
    return CaptchaAnswers()


@pytest.fixture
def mailbox() -> DevMailbox:
    return DevMailbox()


@pytest.fixture
async def runtime(settings: Settings, mailbox: DevMailbox) -> AsyncIterator[Runtime]:
    rt = await build(settings, run_migrations=False, mailer=mailbox, hasher=PasswordHasher(CHEAP_HASH))
    yield rt
    await rt.close()


@pytest.fixture
async def client(runtime: Runtime, captcha: CaptchaAnswers) -> AsyncIterator[httpx.AsyncClient]:
    from vestibule.app import create_app  # here, so the store suites collect without the web layer

    app = create_app(runtime, captcha_text_source=captcha, close_runtime=False)
    transport = DeliveringTransport(app, runtime)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver", follow_redirects=False) as c:
        yield c


@pytest.fixture
def live_server(settings: Settings) -> Iterator[LiveServer]:
    live = start_live_server(settings, DevMailbox())
    yield live
    stop_live_server(live)
