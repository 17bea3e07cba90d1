"""Database engines: a SQLite file by default, PostgreSQL when configured.

SQLite runs in WAL mode with a busy timeout and foreign keys on, and every write
goes through an IMMEDIATE transaction so two writers queue instead of failing
half-way with "database is locked".
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from urllib.parse import urlsplit

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType

from registry.settings import Settings, get_settings

SQLITE_BUSY_TIMEOUT_SECONDS = 10


def make_engine(settings: Settings | None = None) -> Engine:
    settings = settings or get_settings()
    if settings.is_postgres:
        url = settings.database_url.replace("postgres://", "postgresql://", 1)
        return PostgresEngine(config={"dsn": url})
    path = settings.sqlite_path
    path.parent.mkdir(parents=True, exist_ok=True)
    _prepare_sqlite_file(str(path))
    return SQLiteEngine(path=str(path), timeout=SQLITE_BUSY_TIMEOUT_SECONDS)


def _prepare_sqlite_file(path: str) -> None:
    # journal_mode=WAL is stored in the file, so setting it once is enough; readers
    # then never block the writer (the verification page keeps answering during imports).
    with sqlite3.connect(path, timeout=SQLITE_BUSY_TIMEOUT_SECONDS) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")


def is_postgres() -> bool:
    return isinstance(engine(), PostgresEngine)


def engine() -> Engine:
    from registry.piccolo_conf import DB

    return DB


_write_depth: ContextVar[int] = ContextVar("registry_write_depth", default=0)
_after_commit: list[Callable[[], None]] = []


def after_every_commit(hook: Callable[[], None]) -> Callable[[], None]:
    """Run ``hook`` after each outermost write transaction commits (cache invalidation).

    After the commit, not before: a page read between a nested change and the outer
    commit would otherwise be cached with the old data."""
    _after_commit.append(hook)
    return hook


@asynccontextmanager
async def write_transaction() -> AsyncIterator[None]:
    """One all-or-nothing write: IMMEDIATE on SQLite, a normal transaction on PostgreSQL.

    Nested calls join the outer transaction; the commit hooks run once, after it."""
    depth = _write_depth.get()
    token = _write_depth.set(depth + 1)
    db = engine()
    try:
        if isinstance(db, SQLiteEngine):
            async with db.transaction(transaction_type=TransactionType.immediate):
                yield
        else:
            async with db.transaction():
                yield
    finally:
        _write_depth.reset(token)
    if depth == 0:  # committed (an exception skips this: a rollback changed nothing)
        for hook in _after_commit:
            hook()


def describe_database(settings: Settings | None = None) -> str:
    """A printable description without any password."""
    settings = settings or get_settings()
    if not settings.is_postgres:
        return f"SQLite {settings.sqlite_path}"
    parts = urlsplit(settings.database_url)
    return f"PostgreSQL {parts.hostname}:{parts.port or 5432}{parts.path}"


async def start_pool() -> None:
    db = engine()
    if isinstance(db, PostgresEngine) and get_settings().db_pool:
        await db.start_connection_pool(min_size=1, max_size=10)


async def close_pool() -> None:
    db = engine()
    if isinstance(db, PostgresEngine) and get_settings().db_pool:
        await db.close_connection_pool()
