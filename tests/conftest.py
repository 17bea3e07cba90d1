"""Test set-up: a fresh database per session, on SQLite or PostgreSQL.

Which database: ``REGISTRY_TEST_DATABASE=sqlite`` (default) or ``postgres``; the
PostgreSQL server comes from ``REGISTRY_TEST_POSTGRES_URL`` (default: the local
server, trust auth).  A new database named ``registry_test_<pid>`` is created for the
session and dropped at the end, so tests never touch development data.

Litestar's test clients run the app on another thread and loop, so isolation is by
cleaning tables between tests, not by rolled-back transactions.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

TEST_KEY = "1:" + "5a" * 32
BASE_URL = "https://brand.example.test"
_VAR = Path(tempfile.mkdtemp(prefix="registry-test-"))
DB_KIND = os.environ.get("REGISTRY_TEST_DATABASE", "sqlite")
PG_ADMIN_URL = os.environ.get(
    "REGISTRY_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
PG_DB_NAME = f"registry_test_{os.getpid()}"
STRICT = os.environ.get("REGISTRY_TEST_STRICT") == "1"


def _pg_url(dbname: str) -> str:
    parts = urlsplit(PG_ADMIN_URL)
    return urlunsplit(parts._replace(path="/" + dbname))


async def _pg_admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


if DB_KIND == "postgres":
    asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{PG_DB_NAME}"'))
    asyncio.run(_pg_admin(f'CREATE DATABASE "{PG_DB_NAME}"'))
    DATABASE_URL = _pg_url(PG_DB_NAME)
elif DB_KIND == "sqlite":
    DATABASE_URL = f"sqlite:///{_VAR / 'test.sqlite'}"
else:
    raise SystemExit(f"REGISTRY_TEST_DATABASE must be sqlite or postgres, not {DB_KIND!r}")

# Before anything imports registry.piccolo_conf (which builds the engine from these).
os.environ.update(
    REGISTRY_DATABASE_URL=DATABASE_URL,
    REGISTRY_VAR_DIR=str(_VAR),
    REGISTRY_SIGNING_KEYS=TEST_KEY,
    REGISTRY_BASE_URL=BASE_URL,
    REGISTRY_DB_POOL="0",
)
os.environ.pop("REGISTRY_SIGNING_KEY_ID", None)

from registry.services import cache  # noqa: E402
from registry.services.codes import clear_render_caches  # noqa: E402
from registry.services.demo import load_demo  # noqa: E402
from registry.services.registers import invalidate_catalog, seed_registers  # noqa: E402
from registry.services.schema import migrate  # noqa: E402
from registry.settings import get_settings  # noqa: E402
from registry.tables import ALL_TABLES, Register, StaffUser, Subtype  # noqa: E402
from registry.tokens import get_keyring  # noqa: E402


def run(coro):
    """Run a coroutine from a sync test (each call gets its own event loop)."""
    return asyncio.run(coro)


def pytest_report_header(config):
    return f"registry database: {DB_KIND} ({DATABASE_URL})"


def pytest_sessionfinish(session, exitstatus):
    if DB_KIND == "postgres":
        try:
            asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{PG_DB_NAME}" WITH (FORCE)'))
        except Exception as exc:  # leave a note, never mask the test result
            print(f"\ncould not drop {PG_DB_NAME}: {exc}", file=sys.stderr)
    shutil.rmtree(_VAR, ignore_errors=True)


def require_tool(path_or_name: str, why: str) -> str:
    """The tool's path; skip (or, with REGISTRY_TEST_STRICT=1, fail) when it is missing."""
    found = shutil.which(path_or_name)
    if found:
        return found
    message = f"{path_or_name} not found: {why}"
    if STRICT:
        pytest.fail(message + " (REGISTRY_TEST_STRICT=1 requires it)")
    pytest.skip(message)


# --- database state ---------------------------------------------------------------------

_state = {"migrated": False, "content": None}  # content: None, "empty" or "demo"


def _reset_caches() -> None:
    get_settings.cache_clear()
    get_keyring.cache_clear()
    clear_render_caches()
    invalidate_catalog()
    cache.invalidate_all()


async def _wipe() -> None:
    """Delete listings and enterprises; keep the seeded registers so their ids stay
    stable for a running live server (tests that edit registers restore them)."""
    for table in reversed(ALL_TABLES):
        if table not in (Register, Subtype, StaffUser):
            await table.delete(force=True)


@pytest.fixture(scope="session")
def migrated_db():
    if not _state["migrated"]:
        run(migrate())
        _state["migrated"] = True
    return DATABASE_URL


@pytest.fixture
def empty_db(migrated_db):
    """Registers seeded, no enterprises or entries; tests may change anything."""
    _reset_caches()
    run(_wipe())
    run(seed_registers())
    _state["content"] = None  # whatever the test writes makes it unknown
    yield
    _reset_caches()


@pytest.fixture
def demo_db(migrated_db):
    """The demo data, shared between tests that only read it."""
    if _state["content"] != "demo":
        _reset_caches()
        run(_wipe())
        run(load_demo())
        _state["content"] = "demo"
    _reset_caches()
    yield


@pytest.fixture
def demo_db_mutable(demo_db):
    """The demo data for a test that changes it (reloaded for the next test)."""
    _state["content"] = None
    yield


@pytest.fixture
def client(migrated_db):
    from litestar.testing import TestClient

    from registry.app import create_app

    with TestClient(create_app(), base_url=BASE_URL) as test_client:
        yield test_client


# --- a real server ----------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def live_server(migrated_db):
    """``registry serve`` in a subprocess on a free port, against the test database.

    Its verification cache TTL is 0 so it sees changes the tests write directly."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "REGISTRY_BASE_URL": base, "REGISTRY_VERIFY_CACHE_TTL": "0"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "registry.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError as exc:
            if proc.poll() is not None:
                output = proc.stdout.read() if proc.stdout else ""
                raise RuntimeError("registry serve exited:\n" + output) from exc
            time.sleep(0.1)
    else:
        proc.kill()
        raise RuntimeError("registry serve did not start within 30 s")
    yield base
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


# --- staff ------------------------------------------------------------------------------

STAFF_PASSWORD = "correct-horse-battery-9"


def csrf_token_of(client) -> str:
    """The CSRF token a form on an /admin page would carry (from the cookie Litestar set)."""
    token = client.cookies.get("registry_csrf")
    if token is None:
        client.get("/admin/login")
        token = client.cookies.get("registry_csrf")
    assert token, "no CSRF cookie was set"
    return token


def ensure_staff(username: str, role: str, password: str = STAFF_PASSWORD) -> None:
    from registry.services import staff
    from registry.services.actors import Actor
    from registry.tables import StaffUser

    async def go():
        if not await StaffUser.exists().where(StaffUser.username == username):
            await staff.create_staff(username, role, password, Actor.system("tests"))

    run(go())


def login(client, username: str, password: str = STAFF_PASSWORD, otp: str = ""):
    from registry.services.staff import reset_throttle

    reset_throttle()
    response = client.post(
        "/admin/login",
        data={
            "username": username,
            "password": password,
            "otp": otp,
            "next": "/admin/",
            "_csrf_token": csrf_token_of(client),
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text[:300]
    return response


@pytest.fixture
def staff_client(migrated_db):
    """A factory: ``staff_client("reviewer")`` is a TestClient signed in with that role.

    Each role gets the account ``<role>1``; every client has its own cookies."""
    from litestar.testing import TestClient

    from registry.app import create_app

    opened = []

    def make(role: str):
        username = f"{role}1"
        ensure_staff(username, role)
        client = TestClient(create_app(), base_url=BASE_URL)
        client.__enter__()
        opened.append(client)
        login(client, username)
        return client

    yield make
    for client in opened:
        client.__exit__(None, None, None)
