"""`registry migrate` and `registry demo` from an empty database, as an operator runs them.

Each test gets a brand new database of the kind under test (a new SQLite file, or a new
PostgreSQL database that is dropped afterwards) and runs the CLI in a subprocess."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

TABLES = {"register", "subtype", "enterprise", "entry", "authorised_user", "status_change"}
PROJECT = Path(__file__).resolve().parents[2]


class FreshDatabase:
    def __init__(self, kind: str, url: str, var_dir: Path):
        self.kind = kind
        self.url = url
        self.var_dir = var_dir

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        env = {
            **os.environ,
            "REGISTRY_DATABASE_URL": self.url,
            "REGISTRY_VAR_DIR": str(self.var_dir),
        }
        return subprocess.run(
            [sys.executable, "-m", "registry.cli", *args],
            env=env,
            cwd=PROJECT,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def query(self, sql: str) -> list[tuple]:
        if self.kind == "sqlite":
            with sqlite3.connect(self.url.removeprefix("sqlite:///")) as conn:
                return [tuple(r) for r in conn.execute(sql).fetchall()]

        async def go():
            import asyncpg

            conn = await asyncpg.connect(self.url)
            try:
                return [tuple(r) for r in await conn.fetch(sql)]
            finally:
                await conn.close()

        return asyncio.run(go())

    def tables(self) -> set[str]:
        if self.kind == "sqlite":
            sql = "SELECT name FROM sqlite_master WHERE type = 'table'"
        else:
            sql = "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        return {r[0] for r in self.query(sql)}

    def count(self, table: str) -> int:
        return self.query(f'SELECT COUNT(*) FROM "{table}"')[0][0]

    def counts(self) -> dict[str, int]:
        return {t: self.count(t) for t in sorted(TABLES)}


async def _pg_admin(admin_url: str, sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture
def fresh_db(root, tmp_path):
    var_dir = tmp_path / "var"
    var_dir.mkdir()
    if root.DB_KIND == "sqlite":
        path = tmp_path / "fresh.sqlite"
        assert not path.exists()
        yield FreshDatabase("sqlite", f"sqlite:///{path}", var_dir)
        return
    name = f"registry_fresh_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = root.PG_ADMIN_URL
    asyncio.run(_pg_admin(admin, f'CREATE DATABASE "{name}"'))
    url = urlunsplit(urlsplit(admin)._replace(path="/" + name))
    try:
        yield FreshDatabase("postgres", url, var_dir)
    finally:
        asyncio.run(_pg_admin(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_migrate_creates_the_schema_and_seeds_the_registers(fresh_db):
    assert not (TABLES & fresh_db.tables())

    first = fresh_db.cli("migrate")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "Database up to date" in first.stdout
    assert "Seeded 20 register definitions" in first.stdout  # 5 registers + 15 subtypes
    assert TABLES <= fresh_db.tables()
    assert fresh_db.count("register") == 5
    assert fresh_db.count("subtype") == 15
    codes = {r[0] for r in fresh_db.query("SELECT code FROM register")}
    assert codes == {
        "famous_brand",
        "time_honoured",
        "jinnong",
        "certification",
        "geographic_indication",
    }
    for table in ("enterprise", "entry", "authorised_user", "status_change"):
        assert fresh_db.count(table) == 0
    counts = fresh_db.counts()

    second = fresh_db.cli("migrate")
    assert second.returncode == 0, second.stdout + second.stderr
    assert "Database up to date" in second.stdout
    assert "Seeded" not in second.stdout
    assert fresh_db.counts() == counts


def test_demo_on_a_fresh_database_then_again(fresh_db):
    first = fresh_db.cli("demo")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "Demo data: 62 entries" in first.stdout
    assert "62 entries in total" in first.stdout
    counts = fresh_db.counts()
    assert counts["entry"] == 62
    assert counts["register"] == 5 and counts["subtype"] == 15
    assert counts["authorised_user"] > 0
    assert counts["status_change"] >= counts["entry"] + counts["authorised_user"]

    second = fresh_db.cli("demo")
    assert second.returncode == 0, second.stdout + second.stderr
    assert "Demo data: 0 entries and 0 GI users added; 62 entries in total" in second.stdout
    assert fresh_db.counts() == counts


def test_migrate_refuses_a_bad_database_url(tmp_path):
    env = {
        **os.environ,
        "REGISTRY_DATABASE_URL": "mysql://nobody@localhost/x",
        "REGISTRY_VAR_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "-m", "registry.cli", "migrate"],
        env=env,
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "REGISTRY_DATABASE_URL" in result.stderr
