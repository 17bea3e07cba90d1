"""Settings from environment variables, read once behind a cached getter.

Every knob is a ``REGISTRY_*`` variable so the same code runs on a laptop (SQLite
file under ./var) and on a server (PostgreSQL, a fixed public base URL, keys from
a secret store).  Tests call ``get_settings.cache_clear()`` after changing the env.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    #: ``sqlite:///path/to/file.sqlite`` or ``postgresql://user@host:port/db``.
    database_url: str
    #: Public base URL printed in QR codes, e.g. ``https://brand.tj.gov.cn``.
    base_url: str
    #: Directory for the SQLite file, the key file and other local state.
    var_dir: Path
    #: ``"1:hexkey,2:hexkey"``; when empty, keys come from ``key_file``.
    signing_keys: str
    #: Which key id signs new codes (defaults to the highest one available).
    signing_key_id: int | None
    key_file: Path
    #: City shown on the pages (data, not code: another city sets its own name).
    city_name_zh: str
    city_name_en: str
    #: Keep an asyncpg pool on PostgreSQL (off in tests, whose clients use other loops).
    db_pool: bool
    #: Seconds a verification snapshot may be served from memory by *another* process
    #: before it is re-read; changes made through this process invalidate at once.
    verify_cache_ttl: float
    debug: bool
    #: Signs CSRF tokens; from REGISTRY_SECRET_KEY or var/secret-key (created on first run).
    secret_key_env: str
    #: ``redis://host:port/db`` for sessions, throttling and caches shared by several
    #: app servers; empty: in-process memory (one server).
    redis_url: str
    #: Staff sessions: idle and absolute timeouts in seconds.
    staff_idle_timeout: int
    staff_absolute_timeout: int

    @property
    def secure_cookies(self) -> bool:
        return self.base_url.startswith("https://")

    @property
    def secret_key(self) -> str:
        if self.secret_key_env:
            return self.secret_key_env
        from registry.keyfiles import read_or_create_secret

        return read_or_create_secret(self.var_dir / "secret-key")

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith(("postgres://", "postgresql://"))

    @property
    def sqlite_path(self) -> Path:
        assert not self.is_postgres
        return Path(self.database_url.removeprefix("sqlite:///"))


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    env = os.environ
    var_dir = Path(env.get("REGISTRY_VAR_DIR", "var")).resolve()
    database_url = env.get("REGISTRY_DATABASE_URL") or f"sqlite:///{var_dir / 'registry.sqlite'}"
    if not database_url.startswith(("sqlite:///", "postgres://", "postgresql://")):
        raise ValueError(
            "REGISTRY_DATABASE_URL must start with sqlite:/// or postgresql:// "
            f"(got {database_url!r})"
        )
    base_url = env.get("REGISTRY_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
    if base_url.count("/") != 2 or not base_url.startswith(("http://", "https://")):
        # Codes upper-case the whole URL; a path prefix would become /PREFIX and miss routes.
        raise ValueError(
            f"REGISTRY_BASE_URL must be scheme and host only, like https://brand.tj.gov.cn "
            f"(got {base_url!r})"
        )
    key_id = env.get("REGISTRY_SIGNING_KEY_ID")
    return Settings(
        database_url=database_url,
        base_url=base_url,
        var_dir=var_dir,
        signing_keys=env.get("REGISTRY_SIGNING_KEYS", ""),
        signing_key_id=int(key_id) if key_id else None,
        key_file=Path(env.get("REGISTRY_KEY_FILE", str(var_dir / "signing-keys.json"))),
        city_name_zh=env.get("REGISTRY_CITY_NAME_ZH", "天津市"),
        city_name_en=env.get("REGISTRY_CITY_NAME_EN", "Tianjin"),
        db_pool=_bool(env.get("REGISTRY_DB_POOL"), True),
        verify_cache_ttl=float(env.get("REGISTRY_VERIFY_CACHE_TTL", "5")),
        debug=_bool(env.get("REGISTRY_DEBUG"), False),
        secret_key_env=env.get("REGISTRY_SECRET_KEY", ""),
        redis_url=env.get("REGISTRY_REDIS_URL", ""),
        staff_idle_timeout=int(env.get("REGISTRY_STAFF_IDLE_TIMEOUT", str(30 * 60))),
        staff_absolute_timeout=int(env.get("REGISTRY_STAFF_ABSOLUTE_TIMEOUT", str(8 * 3600))),
    )
