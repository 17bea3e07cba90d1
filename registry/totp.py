"""Time-based one-time passwords (RFC 6238: HMAC-SHA1, 30 s steps, 6 digits).

Works with any authenticator app; the secret is shown once as an otpauth:// URI."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
import time
from urllib.parse import quote

STEP = 30
DIGITS = 6


def new_secret() -> str:
    return base64.b32encode(secrets.token_bytes(20)).decode("ascii").rstrip("=")


def code_at(secret: str, counter: int) -> str:
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**DIGITS).zfill(DIGITS)


def verify(secret: str, code: str, now: float | None = None, window: int = 1) -> bool:
    """Accept the current step and ``window`` steps either side (clock drift)."""
    code = "".join(code.split())
    if len(code) != DIGITS or not code.isdigit():
        return False
    counter = int((now if now is not None else time.time()) // STEP)
    return any(
        hmac.compare_digest(code_at(secret, counter + d), code) for d in range(-window, window + 1)
    )


def provisioning_uri(secret: str, username: str, issuer: str) -> str:
    label = quote(f"{issuer}:{username}")
    return f"otpauth://totp/{label}?secret={secret}&issuer={quote(issuer)}&digits={DIGITS}&period={STEP}"
