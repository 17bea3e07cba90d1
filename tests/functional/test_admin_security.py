"""Security of the back office: sign-in, sessions, CSRF, and every route against every role.

The route test enumerates the application's routes, so a new /admin page is checked
against anonymous users and each role without anyone remembering to add it here."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from litestar.routes import HTTPRoute
from litestar.testing import TestClient

from registry import roles, totp
from registry.app import create_app

LOGIN = "/admin/login"
# Sample values for path parameters, by name: real demo rows where it matters.
PATH_SAMPLES = {
    "entry_no": "DEMO-GI-TM-0001",
    "user_no": "DEMO-GI-TM-0001-U001",
    "code": "jinnong",
    "register": "jinnong",
    "subtype": "jinnong_product",
    "import_id": "0" * 32,
}
# Routes that end the session: checked on their own, not in the loop.
SKIP = {"/admin/account/logout"}


def admin_routes() -> list[tuple[str, str, dict]]:
    """(method, concrete path, opt) for every /admin route handler of the real app."""
    found = []
    for route in create_app().routes:
        if not isinstance(route, HTTPRoute) or not route.path.startswith("/admin"):
            continue
        if route.path in SKIP:
            continue
        path = route.path
        for name in re.findall(r"\{(\w+)(?::\w+)?\}", route.path):
            path = re.sub(r"\{" + name + r"(?::\w+)?\}", PATH_SAMPLES.get(name, "x"), path)
        for handler in route.route_handlers:
            for method in handler.http_methods:
                if method in ("HEAD", "OPTIONS"):
                    continue
                found.append((method, path, handler.opt))
    return sorted(found, key=lambda r: (r[1], r[0]))


ROUTES = admin_routes()
PROTECTED = [r for r in ROUTES if not r[1].startswith(LOGIN)]


def test_the_route_list_is_not_empty():
    paths = {path for _, path, _ in ROUTES}
    assert "/admin" in paths or "/admin/" in paths
    assert any(p.startswith(LOGIN) for p in paths)
    assert len(PROTECTED) >= 3


@pytest.fixture
def anon(migrated_db):
    with TestClient(create_app(), base_url="https://brand.example.test") as c:
        yield c


@pytest.mark.parametrize("method, path, opt", PROTECTED, ids=lambda v: str(v)[:60])
def test_anonymous_is_refused_everywhere(demo_db, anon, method, path, opt, csrf):
    if method == "GET":
        page = anon.get(path, follow_redirects=False)
        assert page.status_code == 303, (path, page.status_code)
        assert page.headers["location"].startswith(LOGIN + "?next=")
        api = anon.get(path, headers={"Accept": "application/json"}, follow_redirects=False)
        assert api.status_code == 401
        assert api.json()["message_zh"]
    else:
        response = anon.request(
            method, path, data={"_csrf_token": csrf(anon)}, follow_redirects=False
        )
        assert response.status_code in (303, 401), (path, response.status_code)
        if response.status_code == 303:
            assert response.headers["location"].startswith(LOGIN)


@pytest.mark.parametrize(
    "method, path, opt", [r for r in ROUTES if r[0] != "GET"], ids=lambda v: str(v)[:60]
)
def test_unsafe_methods_without_csrf_token_are_refused(demo_db, staff_client, method, path, opt):
    client = staff_client("admin")
    response = client.request(method, path, data={"x": "1"}, follow_redirects=False)
    assert response.status_code == 403, (path, response.status_code)


@pytest.mark.parametrize("role", roles.ROLES)
def test_every_route_against_every_role(demo_db, staff_client, role, csrf):
    client = staff_client(role)
    problems = []
    for method, path, opt in PROTECTED:
        permission = opt.get("permission", "admin.view")
        allowed = roles.allowed(role, permission)
        if method == "GET":
            response = client.get(path, follow_redirects=False)
        else:
            response = client.request(
                method, path, data={"_csrf_token": csrf(client)}, follow_redirects=False
            )
        to_login = response.status_code == 303 and response.headers.get("location", "").startswith(
            LOGIN
        )
        if allowed and (response.status_code in (401, 403) or to_login):
            problems.append(f"{method} {path} ({permission}): refused {response.status_code}")
        if not allowed and response.status_code != 403:
            problems.append(f"{method} {path} ({permission}): allowed {response.status_code}")
        if response.status_code >= 500:
            problems.append(f"{method} {path}: server error {response.status_code}")
    assert not problems, "\n".join(problems)


# --- sign-in -----------------------------------------------------------------------------


def _login(client, username, password, csrf, otp=""):
    return client.post(
        LOGIN,
        data={"username": username, "password": password, "otp": otp, "_csrf_token": csrf(client)},
        follow_redirects=False,
    )


def test_wrong_password_and_unknown_user_look_the_same(demo_db, anon, staff_client, csrf):
    from registry.services.staff import reset_throttle

    staff_client("reviewer")  # makes reviewer1
    reset_throttle()
    wrong = _login(anon, "reviewer1", "not-the-password", csrf)
    unknown = _login(anon, "nobody-here", "not-the-password", csrf)
    assert wrong.status_code == unknown.status_code == 401

    def message(r):
        return re.search(r'role="alert">([^<]+)<', r.text).group(1)

    assert message(wrong) == message(unknown) == "用户名、密码或动态验证码不正确。"


def test_login_is_throttled_after_repeated_failures(demo_db, anon, staff_client, root, csrf):
    from registry.services.staff import MAX_FAILURES, reset_throttle

    staff_client("approver")
    reset_throttle()
    for _ in range(MAX_FAILURES):
        assert _login(anon, "approver1", "wrong-password-x", csrf).status_code == 401
    blocked = _login(anon, "approver1", root.STAFF_PASSWORD, csrf)
    assert blocked.status_code == 401 and "尝试次数过多" in blocked.text
    # The same answer for a name that does not exist: no account enumeration.
    for _ in range(MAX_FAILURES):
        _login(anon, "ghost-user", "wrong-password-x", csrf)
    assert "尝试次数过多" in _login(anon, "ghost-user", "whatever-123", csrf).text
    reset_throttle()
    assert _login(anon, "approver1", root.STAFF_PASSWORD, csrf).status_code == 303


def test_logout_ends_the_session(demo_db, staff_client, csrf):
    client = staff_client("clerk")
    assert client.get("/admin/", follow_redirects=False).status_code == 200
    out = client.post(
        "/admin/account/logout", data={"_csrf_token": csrf(client)}, follow_redirects=False
    )
    assert out.status_code == 303
    assert client.get("/admin/", follow_redirects=False).status_code == 303


def test_idle_and_absolute_timeouts(demo_db, staff_client, monkeypatch):
    import admin.sessions as sessions
    from registry.settings import get_settings

    settings = get_settings()
    client = staff_client("clerk")
    real = sessions.time.time
    assert client.get("/admin/", follow_redirects=False).status_code == 200
    monkeypatch.setattr(sessions.time, "time", lambda: real() + settings.staff_idle_timeout + 5)
    expired = client.get("/admin/", follow_redirects=False)
    assert expired.status_code == 303 and "expired=1" in expired.headers["location"]

    monkeypatch.setattr(sessions.time, "time", real)
    client = staff_client("clerk")
    # Active every few minutes, but past the absolute limit: still ends.
    offset = [0.0]
    monkeypatch.setattr(sessions.time, "time", lambda: real() + offset[0])
    step = settings.staff_idle_timeout / 2
    while offset[0] < settings.staff_absolute_timeout - step:
        offset[0] += step
        assert client.get("/admin/", follow_redirects=False).status_code == 200
    offset[0] += step + 10
    assert client.get("/admin/", follow_redirects=False).status_code == 303


def test_totp_second_factor(demo_db, anon, root, run, csrf):
    import time

    from registry.services import staff
    from registry.services.actors import Actor

    root.ensure_staff("totp-user", "reviewer")
    secret = run(staff.enable_totp("totp-user", Actor.system("tests")))
    staff.reset_throttle()
    assert _login(anon, "totp-user", root.STAFF_PASSWORD, csrf).status_code == 401
    assert _login(anon, "totp-user", root.STAFF_PASSWORD, csrf, otp="000000").status_code == 401
    code = totp.code_at(secret, int(time.time() // totp.STEP))
    staff.reset_throttle()
    assert _login(anon, "totp-user", root.STAFF_PASSWORD, csrf, otp=code).status_code == 303


def test_password_change(demo_db, staff_client, root, csrf, anon):
    from registry.services.staff import reset_throttle

    root.ensure_staff("changer", "clerk")
    reset_throttle()
    assert _login(anon, "changer", root.STAFF_PASSWORD, csrf).status_code == 303
    short = anon.post(
        "/admin/account/password",
        data={
            "current": root.STAFF_PASSWORD,
            "new": "short",
            "again": "short",
            "_csrf_token": csrf(anon),
        },
    )
    assert short.status_code == 400 and "至少需要10个字符" in short.text
    done = anon.post(
        "/admin/account/password",
        data={
            "current": root.STAFF_PASSWORD,
            "new": "a-much-longer-secret-1",
            "again": "a-much-longer-secret-1",
            "_csrf_token": csrf(anon),
        },
    )
    assert done.status_code == 200 and "密码已修改" in done.text
    reset_throttle()
    assert _login(anon, "changer", root.STAFF_PASSWORD, csrf).status_code == 401
    reset_throttle()
    assert _login(anon, "changer", "a-much-longer-secret-1", csrf).status_code == 303


def test_staff_cli_creates_an_account_that_can_sign_in(demo_db, anon, csrf):
    from registry.services.staff import reset_throttle

    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "registry.cli",
            "staff",
            "create",
            "--username",
            "cli-reviewer",
            "--role",
            "reviewer",
            "--display-name",
            "王审核",
            "--password-stdin",
        ],
        input="cli-password-123\n",
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    listing = subprocess.run(
        [sys.executable, "-m", "registry.cli", "staff", "list"],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=60,
    )
    assert "cli-reviewer" in listing.stdout and "Reviewer" in listing.stdout
    reset_throttle()
    response = _login(anon, "cli-reviewer", "cli-password-123", csrf)
    assert response.status_code == 303
    assert "王审核" in anon.get("/admin/").text
    weak = subprocess.run(
        [
            sys.executable,
            "-m",
            "registry.cli",
            "staff",
            "create",
            "--username",
            "weak",
            "--role",
            "clerk",
            "--password-stdin",
        ],
        input="short\n",
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=60,
    )
    assert weak.returncode == 2 and "至少需要10个字符" in weak.stderr
