"""Staff sessions: a random cookie token, server-side state in a Litestar store.

A new token is issued at every login (no session fixation), the store keeps only the
token's hash, and a session ends after ``staff_idle_timeout`` without a request or
``staff_absolute_timeout`` after login, whichever comes first.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time

from litestar import Request, Response
from litestar.stores.base import Store

from registry.services import staff as staff_service
from registry.services.staff import StaffInfo
from registry.settings import get_settings

COOKIE = "registry_staff"
STORE = "staff_sessions"
# Refresh "last seen" at most this often, so every admin page does not write the store.
SEEN_RESOLUTION = 60


def _store(request: Request) -> Store:
    return request.app.stores.get(STORE)


def _key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def start(request: Request, response: Response, staff: StaffInfo) -> None:
    settings = get_settings()
    old = request.cookies.get(COOKIE)
    if old:
        await _store(request).delete(_key(old))
    token = secrets.token_urlsafe(32)
    now = time.time()
    data = {"staff_id": staff.id, "login_at": now, "seen_at": now}
    await _store(request).set(
        _key(token), json.dumps(data), expires_in=settings.staff_absolute_timeout
    )
    response.set_cookie(
        COOKIE,
        token,
        path="/admin",
        httponly=True,
        secure=settings.secure_cookies,
        samesite="lax",
    )


async def end(request: Request, response: Response) -> None:
    token = request.cookies.get(COOKIE)
    if token:
        await _store(request).delete(_key(token))
    response.delete_cookie(COOKIE, path="/admin")


async def current(request: Request) -> tuple[StaffInfo | None, str | None]:
    """The logged-in staff member, or (None, reason) with reason "expired" or None."""
    token = request.cookies.get(COOKIE)
    if not token:
        return None, None
    store = _store(request)
    raw = await store.get(_key(token))
    if raw is None:
        return None, "expired"
    data = json.loads(raw)
    settings = get_settings()
    now = time.time()
    if (
        now - data["seen_at"] > settings.staff_idle_timeout
        or now - data["login_at"] > settings.staff_absolute_timeout
    ):
        await store.delete(_key(token))
        return None, "expired"
    info = await staff_service.get_staff(data["staff_id"])
    if info is None or not info.is_active:
        await store.delete(_key(token))
        return None, "expired"
    if now - data["seen_at"] > SEEN_RESOLUTION:
        data["seen_at"] = now
        remaining = settings.staff_absolute_timeout - (now - data["login_at"])
        await store.set(_key(token), json.dumps(data), expires_in=max(1, int(remaining)))
    return info, None
