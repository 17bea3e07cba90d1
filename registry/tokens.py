"""Verification tokens: a small signed payload, base32 encoded for compact QR codes.

Layout (bytes):  header | reference id (4) | [serial (5), item codes only] | MAC (10)
  header = kind << 5 | key id      (kind 1..7, key id 1..31)
  MAC    = HMAC-SHA256(key, DOMAIN + header..serial) truncated to 80 bits

Entry and authorised-user tokens are 15 bytes = 24 characters, item tokens 20 bytes
= 32 characters: multiples of 5 bytes, so base32 needs no padding.  We use Crockford's
base32 alphabet (digits and upper-case letters without I, L, O, U), which keeps the
QR code in alphanumeric mode and lets a person type it: I/L read as 1 and O as 0.

A forged or mistyped token fails the MAC check here, before any database work.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import struct
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from registry.settings import Settings, get_settings

KIND_ENTRY = 1
KIND_AUTHORISED_USER = 2
KIND_ITEM = 3
KINDS = (KIND_ENTRY, KIND_AUTHORISED_USER, KIND_ITEM)

MAC_BYTES = 10
DOMAIN = b"registry-token-v1|"
SHORT_LENGTH = 24  # entry and authorised-user tokens
ITEM_LENGTH = 32

_RFC = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_TO_CROCKFORD = str.maketrans(_RFC, _CROCKFORD)
_FROM_CROCKFORD = str.maketrans(_CROCKFORD, _RFC)
_CROCKFORD_SET = frozenset(_CROCKFORD)
# What people type for what they see: lower case, O for 0, I/L for 1, U for V.
_HUMAN = str.maketrans({"O": "0", "I": "1", "L": "1", "U": "V"})
_SEPARATORS = str.maketrans("", "", " -_.\u3000\u2010\u2011\u2012\u2013\u2014\t\r\n")


class TokenError(ValueError):
    """The string is not a genuine code (bad shape, unknown key or wrong MAC)."""


@dataclass(frozen=True)
class Token:
    kind: int
    ref_id: int
    serial: int | None
    key_id: int
    text: str


@dataclass(frozen=True)
class Keyring:
    keys: dict[int, bytes]
    current_id: int

    def __post_init__(self) -> None:
        # The header has 5 bits for the key id; 0 is never issued.
        if not all(1 <= k <= 31 for k in self.keys):
            raise ValueError("signing key ids run from 1 to 31")
        if self.current_id not in self.keys:
            raise ValueError(f"current key id {self.current_id} has no key")

    def sign(self, key_id: int, message: bytes) -> bytes:
        return hmac.new(self.keys[key_id], DOMAIN + message, hashlib.sha256).digest()[:MAC_BYTES]


def normalize_code(raw: str) -> str:
    """What a person typed or a scanner read -> canonical token characters."""
    text = raw.strip()
    # Accept a whole URL pasted into the form: keep what follows the last /V/.
    upper = text.upper()
    cut = upper.rfind("/V/")
    if cut >= 0:
        text = text[cut + 3 :]
    text = text.split("?", 1)[0].split("#", 1)[0]
    return text.translate(_SEPARATORS).upper().translate(_HUMAN)


def encode(keyring: Keyring, kind: int, ref_id: int, serial: int | None = None) -> str:
    if kind not in KINDS:
        raise ValueError(f"unknown token kind {kind}")
    if not 0 <= ref_id < 2**32:
        raise ValueError("reference id out of range")
    key_id = keyring.current_id
    body = struct.pack(">BI", kind << 5 | key_id, ref_id)
    if kind == KIND_ITEM:
        if serial is None or not 0 <= serial < 2**40:
            raise ValueError("item tokens need a serial between 0 and 2**40")
        body += serial.to_bytes(5, "big")
    elif serial is not None:
        raise ValueError("only item tokens carry a serial")
    raw = body + keyring.sign(key_id, body)
    return base64.b32encode(raw).decode("ascii").translate(_TO_CROCKFORD)


def decode(keyring: Keyring, text: str) -> Token:
    """Check shape, key id and MAC; never touches the database."""
    if len(text) not in (SHORT_LENGTH, ITEM_LENGTH) or not _CROCKFORD_SET.issuperset(text):
        text = normalize_code(text)
        if len(text) not in (SHORT_LENGTH, ITEM_LENGTH) or not _CROCKFORD_SET.issuperset(text):
            raise TokenError("malformed")
    raw = base64.b32decode(text.translate(_FROM_CROCKFORD))
    header = raw[0]
    kind, key_id = header >> 5, header & 0x1F
    expected_len = 20 if kind == KIND_ITEM else 15
    if kind not in KINDS or len(raw) != expected_len:
        raise TokenError("malformed")
    key = keyring.keys.get(key_id)
    if key is None:
        raise TokenError("unknown or retired key")
    body, mac = raw[:-MAC_BYTES], raw[-MAC_BYTES:]
    if not hmac.compare_digest(keyring.sign(key_id, body), mac):
        raise TokenError("bad MAC")
    ref_id = int.from_bytes(body[1:5], "big")
    serial = int.from_bytes(body[5:10], "big") if kind == KIND_ITEM else None
    return Token(kind, ref_id, serial, key_id, text)


# --- keys -----------------------------------------------------------------------------


def parse_keys(spec: str) -> dict[int, bytes]:
    """``"1:hex,2:hex"`` -> {1: bytes, 2: bytes}; keys must be at least 16 bytes."""
    keys: dict[int, bytes] = {}
    for part in spec.split(","):
        part = part.strip()
        if not part:
            continue
        key_id_text, _, hex_key = part.partition(":")
        key_id = int(key_id_text)
        key = bytes.fromhex(hex_key)
        if not 1 <= key_id <= 31:
            raise ValueError("signing key ids run from 1 to 31")
        if len(key) < 16:
            raise ValueError(f"signing key {key_id} is shorter than 16 bytes")
        keys[key_id] = key
    return keys


def load_keyring(settings: Settings) -> Keyring:
    if settings.signing_keys:
        keys = parse_keys(settings.signing_keys)
    else:
        keys = _read_or_create_key_file(settings.key_file)
    if not keys:
        raise ValueError("no signing keys configured")
    current = settings.signing_key_id or max(keys)
    if current not in keys:
        raise ValueError(f"REGISTRY_SIGNING_KEY_ID={current} is not among the configured keys")
    return Keyring(keys=keys, current_id=current)


def _read_or_create_key_file(path: Path) -> dict[int, bytes]:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {"keys": {"1": secrets.token_hex(32)}}
        # Write a private temp file (0600 from the start), then link it into place:
        # several workers starting at once all end up reading the one complete file.
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(data, handle, indent=2)
        try:
            os.link(tmp, path)  # fails if another worker won the race: use theirs
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)
    data = json.loads(path.read_text())
    return parse_keys(",".join(f"{k}:{v}" for k, v in data["keys"].items()))


@lru_cache(maxsize=1)
def get_keyring() -> Keyring:
    return load_keyring(get_settings())
