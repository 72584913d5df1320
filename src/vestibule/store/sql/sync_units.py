"""Whole units of work as plain functions on one synchronous connection, one hand-off per unit.

Through the ORM on aiosqlite every statement costs thread hand-offs, greenlet switches and the ORM's
statement building and row loading. A hot unit is `fn(connection, *args)` made of Core statements built
once (`hot.py`), and runs:

- on a file SQLite database, in one dedicated thread holding one `sqlite3` connection to the same file with
  the same pragmas: one hand-off for the whole unit (a `SimpleQueue` in, `call_soon_threadsafe` out), and
  the process's hot writes are serialized in that thread;
- elsewhere (PostgreSQL, in-memory SQLite), through the async engine: `begin()` + `run_sync`.

Either way the unit is one transaction: it commits when `fn` returns and rolls back when it raises.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
from collections.abc import Callable
from queue import SimpleQueue
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from .base import Conflict

T = TypeVar("T")
A = ParamSpec("A")
_Job = tuple[asyncio.AbstractEventLoop, "asyncio.Future[Any]", Callable[..., Any], tuple[Any, ...]]


class SyncUnits:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        url = engine.url
        self._sqlite_file = url.get_backend_name() == "sqlite" and bool(url.database) and url.database != ":memory:"
        self._sync: Engine | None = None
        self._conn: Connection | None = None
        self._worker: _Worker | None = None
        self._closed = False

    async def run(self, fn: Callable[Concatenate[Connection, A], T], *args: A.args, **kwargs: A.kwargs) -> T:
        try:
            if self._sqlite_file:
                return await self._thread().submit(self._in_thread, fn, args, kwargs)
            async with self._engine.begin() as conn:
                return await conn.run_sync(fn, *args, **kwargs)
        except IntegrityError as exc:
            raise Conflict(str(exc.orig)) from None
        except sqlite3.IntegrityError as exc:  # a statement run on the sqlite3 cursor itself (`hot.Statement`)
            raise Conflict(str(exc)) from None

    def _thread(self) -> _Worker:
        if self._worker is None:
            if self._closed:
                raise RuntimeError("the store is closed")
            self._worker = _Worker()
        return self._worker

    def _in_thread(self, fn: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]) -> T:
        if self._conn is None:
            from ..database import make_sync_sqlite_engine

            self._sync = make_sync_sqlite_engine(self._engine.url)
            self._conn = self._sync.connect()
        with self._conn.begin():
            return fn(self._conn, *args, **kwargs)

    def _close_in_thread(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._sync is not None:
            self._sync.dispose()
            self._sync = None

    async def close(self) -> None:
        self._closed = True
        worker, self._worker = self._worker, None
        if worker is not None:
            await worker.submit(self._close_in_thread)
            worker.stop()


class _Worker:
    """One thread and a queue: cheaper per hand-off than ThreadPoolExecutor + run_in_executor."""

    def __init__(self) -> None:
        self._queue: SimpleQueue[_Job | None] = SimpleQueue()
        self._thread = threading.Thread(target=self._loop, name="vestibule-sqlite-unit", daemon=True)
        self._thread.start()

    def submit(self, fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._queue.put((loop, future, fn, args))
        return future

    def stop(self) -> None:
        self._queue.put(None)
        self._thread.join()

    def _loop(self) -> None:
        while (job := self._queue.get()) is not None:
            loop, future, fn, args = job
            try:
                result = fn(*args)
            except BaseException as exc:  # handed to the awaiting coroutine
                _answer(loop, future, None, exc)
            else:
                _answer(loop, future, result, None)


def _answer(loop: asyncio.AbstractEventLoop, future: asyncio.Future[Any], result: Any,
            exc: BaseException | None) -> None:
    with contextlib.suppress(RuntimeError):  # the loop has closed: nobody is waiting any more
        loop.call_soon_threadsafe(_settle, future, result, exc)


def _settle(future: asyncio.Future[Any], result: Any, exc: BaseException | None) -> None:
    if future.cancelled():
        return
    if exc is None:
        future.set_result(result)
    else:
        future.set_exception(exc)
