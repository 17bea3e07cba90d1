"""Staff accounts: argon2 passwords, roles, optional TOTP, login throttling."""

from __future__ import annotations

import datetime as dt
import re
import time
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from registry import roles, totp
from registry.db import write_transaction
from registry.services import audit
from registry.services.actors import Actor, require
from registry.services.errors import Conflict, NotFound, ServiceError
from registry.tables import StaffUser

MIN_PASSWORD_LENGTH = 10
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
#: Failed logins per username (or per client address) before a lock-out window.
MAX_FAILURES = 5
LOCK_SECONDS = 15 * 60

_hasher = PasswordHasher()
# Compared against when the username does not exist, so both cases cost the same time.
_DUMMY_HASH = _hasher.hash("not-a-real-password-for-timing")


@dataclass(frozen=True)
class StaffInfo:
    id: int
    username: str
    display_name: str
    role: str
    totp_enabled: bool
    is_active: bool

    def actor(self, client_addr: str = "") -> Actor:
        return Actor(self.username, self.role, self.display_name, client_addr)


def _info(row: StaffUser | dict) -> StaffInfo:
    get = row.get if isinstance(row, dict) else lambda k: getattr(row, k)
    return StaffInfo(
        id=get("id"),
        username=get("username"),
        display_name=get("display_name") or get("username"),
        role=get("role"),
        totp_enabled=bool(get("totp_secret")),
        is_active=bool(get("is_active")),
    )


def check_password_strength(password: str, username: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ServiceError(
            f"密码至少需要{MIN_PASSWORD_LENGTH}个字符。",
            f"The password needs at least {MIN_PASSWORD_LENGTH} characters.",
            field="password",
        )
    if username.lower() in password.lower():
        raise ServiceError(
            "密码不能包含用户名。", "The password must not contain the username.", field="password"
        )


async def create_staff(
    username: str, role: str, password: str, actor: Actor, display_name: str = ""
) -> StaffInfo:
    require(actor, "staff.manage")
    username = username.strip().lower()
    if not USERNAME_RE.match(username):
        raise ServiceError(
            "用户名须为3至64位小写字母、数字或 . _ -，以字母或数字开头。",
            "Usernames are 3-64 lower-case letters, digits or . _ -, starting with a letter "
            "or digit.",
            field="username",
        )
    if role not in roles.ROLES:
        raise ServiceError(
            f"未知的角色：{role}。可选：{', '.join(roles.ROLES)}",
            f"Unknown role {role}. Valid: {', '.join(roles.ROLES)}",
            field="role",
        )
    check_password_strength(password, username)
    async with write_transaction():
        if await StaffUser.exists().where(StaffUser.username == username):
            raise Conflict(f"用户名 {username} 已存在。", f"The username {username} is taken.")
        row = StaffUser(
            username=username,
            display_name=display_name.strip() or username,
            role=role,
            password_hash=_hasher.hash(password),
        )
        await row.save()
        await audit.record(
            actor,
            "staff.create",
            "staff",
            username,
            None,
            {"username": username, "role": role, "display_name": row.display_name},
        )
    return _info(row)


async def list_staff() -> list[StaffInfo]:
    rows = await StaffUser.select().order_by(StaffUser.username)
    return [_info(r) for r in rows]


async def get_staff(user_id: int) -> StaffInfo | None:
    row = await StaffUser.select().where(StaffUser.id == user_id).first()
    return _info(row) if row else None


# --- login ------------------------------------------------------------------------------

_failures: dict[str, list[float]] = {}


def _recent_failures(key: str, now: float) -> list[float]:
    recent = [t for t in _failures.get(key, []) if now - t < LOCK_SECONDS]
    _failures[key] = recent
    return recent


class LoginRefused(ServiceError):
    status_code = 401


GENERIC_REFUSAL = LoginRefused(
    "用户名、密码或动态验证码不正确。",
    "The username, password or one-time code is not correct.",
)


async def authenticate(
    username: str, password: str, otp: str = "", client_addr: str = ""
) -> StaffInfo:
    """The account, or LoginRefused with one message whatever was wrong.

    The message never says whether the username exists; throttling counts failures per
    username and per client address, and a locked account answers the same way."""
    now = time.monotonic()
    username = username.strip().lower()
    keys = [f"user:{username}", f"addr:{client_addr}"]
    if any(len(_recent_failures(k, now)) >= MAX_FAILURES for k in keys):
        _hasher_verify(_DUMMY_HASH, password)  # same cost as a real attempt
        raise LoginRefused(
            "尝试次数过多，请15分钟后再试；如忘记密码，请联系管理员重置。",
            "Too many attempts: try again in 15 minutes, or ask an administrator to "
            "reset your password.",
        )
    row = await StaffUser.objects().get(StaffUser.username == username)
    ok = _hasher_verify(row.password_hash if row else _DUMMY_HASH, password)
    ok = ok and row is not None and row.is_active
    if ok and row.totp_secret:
        ok = totp.verify(row.totp_secret, otp)
    if not ok:
        for k in keys:
            _failures.setdefault(k, []).append(now)
        raise GENERIC_REFUSAL
    for k in keys:
        _failures.pop(k, None)
    if _hasher.check_needs_rehash(row.password_hash):
        row.password_hash = _hasher.hash(password)
    row.last_login_at = dt.datetime.now(dt.UTC)
    await row.save()
    return _info(row)


def _hasher_verify(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def reset_throttle() -> None:
    _failures.clear()


async def change_password(user_id: int, current: str, new: str, actor: Actor) -> None:
    row = await StaffUser.objects().get(StaffUser.id == user_id)
    if row is None:
        raise NotFound("账号不存在。", "No such account.")
    if not _hasher_verify(row.password_hash, current):
        raise ServiceError(
            "当前密码不正确。", "The current password is not correct.", field="current"
        )
    check_password_strength(new, row.username)
    async with write_transaction():
        row.password_hash = _hasher.hash(new)
        row.password_changed_at = dt.datetime.now(dt.UTC)
        await row.save()
        await audit.record(actor, "staff.password_change", "staff", row.username)


async def set_password(username: str, new: str, actor: Actor) -> None:
    """An administrator (or the CLI) sets a new password."""
    require(actor, "staff.manage")
    row = await StaffUser.objects().get(StaffUser.username == username.strip().lower())
    if row is None:
        raise NotFound(f"账号 {username} 不存在。", f"No account {username}.")
    check_password_strength(new, row.username)
    async with write_transaction():
        row.password_hash = _hasher.hash(new)
        row.password_changed_at = dt.datetime.now(dt.UTC)
        await row.save()
        await audit.record(actor, "staff.password_reset", "staff", row.username)


async def enable_totp(username: str, actor: Actor) -> str:
    """Give the account a new TOTP secret; returns it (shown once)."""
    row = await StaffUser.objects().get(StaffUser.username == username.strip().lower())
    if row is None:
        raise NotFound(f"账号 {username} 不存在。", f"No account {username}.")
    if actor.username != row.username:
        require(actor, "staff.manage")
    secret = totp.new_secret()
    async with write_transaction():
        row.totp_secret = secret
        await row.save()
        await audit.record(actor, "staff.totp_enable", "staff", row.username)
    return secret
