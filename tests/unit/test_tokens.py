"""Verification tokens (registry/tokens.py): layout, MAC, typing tolerance, keys."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import json
import re
import stat

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from registry import settings as registry_settings
from registry import tokens
from registry.tokens import (
    ITEM_LENGTH,
    KIND_AUTHORISED_USER,
    KIND_ENTRY,
    KIND_ITEM,
    SHORT_LENGTH,
    Keyring,
    TokenError,
    decode,
    encode,
    load_keyring,
    normalize_code,
    parse_keys,
)

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
RFC4648 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

KEY_A = bytes(range(32))
KEY_B = bytes(range(100, 132))

keys = st.binary(min_size=16, max_size=64)
key_ids = st.integers(min_value=1, max_value=31)
ref_ids = st.integers(min_value=0, max_value=2**32 - 1)
serials = st.integers(min_value=0, max_value=2**40 - 1)


@st.composite
def kinds_and_serials(draw):
    kind = draw(st.sampled_from([KIND_ENTRY, KIND_AUTHORISED_USER, KIND_ITEM]))
    serial = draw(serials) if kind == KIND_ITEM else None
    return kind, serial


@st.composite
def signed_tokens(draw):
    """(keyring, kind, ref_id, serial, token) for a random key, kind and payload."""
    key_id = draw(key_ids)
    ring = Keyring({key_id: draw(keys)}, key_id)
    kind, serial = draw(kinds_and_serials())
    ref_id = draw(ref_ids)
    return ring, kind, ref_id, serial, encode(ring, kind, ref_id, serial)


def reference_token(key: bytes, key_id: int, kind: int, ref_id: int, serial: int | None) -> str:
    """The layout documented in tokens.py, written out independently."""
    body = bytes([kind << 5 | key_id]) + ref_id.to_bytes(4, "big")
    if serial is not None:
        body += serial.to_bytes(5, "big")
    mac = hmac.new(key, b"registry-token-v1|" + body, hashlib.sha256).digest()[:10]
    rfc = base64.b32encode(body + mac).decode()
    return rfc.translate(str.maketrans(RFC4648, CROCKFORD))


def expected_length(kind: int) -> int:
    return ITEM_LENGTH if kind == KIND_ITEM else SHORT_LENGTH


# --- encode / decode ---------------------------------------------------------------------


@PROPERTY
@given(signed_tokens())
def test_round_trip_all_kinds(case):
    ring, kind, ref_id, serial, token = case
    decoded = decode(ring, token)
    assert decoded.kind == kind
    assert decoded.ref_id == ref_id
    assert decoded.serial == serial
    assert decoded.key_id == ring.current_id
    assert decoded.text == token


@PROPERTY
@given(signed_tokens())
def test_token_shape_uppercase_alphanumeric(case):
    ring, kind, _ref_id, _serial, token = case
    assert len(token) == expected_length(kind)
    assert re.fullmatch(r"[0-9A-Z]+", token)
    # Crockford alphabet: never the ambiguous I, L, O or U.
    assert set(token) <= set(CROCKFORD)
    assert not set(token) & set("ILOU")


@PROPERTY
@given(key_ids, keys, kinds_and_serials(), ref_ids)
def test_matches_documented_layout(key_id, key, kind_serial, ref_id):
    kind, serial = kind_serial
    ring = Keyring({key_id: key}, key_id)
    assert encode(ring, kind, ref_id, serial) == reference_token(key, key_id, kind, ref_id, serial)


def test_known_lengths():
    ring = Keyring({1: KEY_A}, 1)
    assert len(encode(ring, KIND_ENTRY, 1)) == 24
    assert len(encode(ring, KIND_AUTHORISED_USER, 1)) == 24
    assert len(encode(ring, KIND_ITEM, 1, 1)) == 32


def test_kinds_and_payloads_give_distinct_tokens():
    ring = Keyring({1: KEY_A}, 1)
    produced = {
        encode(ring, KIND_ENTRY, 7),
        encode(ring, KIND_ENTRY, 8),
        encode(ring, KIND_AUTHORISED_USER, 7),
        encode(ring, KIND_ITEM, 7, 0),
        encode(ring, KIND_ITEM, 7, 1),
        encode(Keyring({1: KEY_B}, 1), KIND_ENTRY, 7),
    }
    assert len(produced) == 6


@PROPERTY
@given(signed_tokens(), st.data())
def test_any_single_character_change_is_rejected(case, data):
    ring, _kind, _ref, _serial, token = case
    pos = data.draw(st.integers(min_value=0, max_value=len(token) - 1), label="position")
    replacement = data.draw(
        st.sampled_from([c for c in CROCKFORD if c != token[pos]]), label="replacement"
    )
    forged = token[:pos] + replacement + token[pos + 1 :]
    with pytest.raises(TokenError):
        decode(ring, forged)


def test_every_single_character_change_is_rejected_exhaustively():
    ring = Keyring({1: KEY_A, 2: KEY_B}, 1)
    for token in (encode(ring, KIND_ENTRY, 123456), encode(ring, KIND_ITEM, 99, 2**39 + 5)):
        for pos in range(len(token)):
            for c in CROCKFORD:
                if c == token[pos]:
                    continue
                with pytest.raises(TokenError):
                    decode(ring, token[:pos] + c + token[pos + 1 :])


@PROPERTY
@given(signed_tokens(), st.data())
def test_truncation_is_rejected(case, data):
    ring, _kind, _ref, _serial, token = case
    cut = data.draw(st.integers(min_value=0, max_value=len(token) - 1), label="length")
    with pytest.raises(TokenError):
        decode(ring, token[:cut])


@PROPERTY
@given(signed_tokens(), st.text(alphabet=CROCKFORD, min_size=1, max_size=12), st.booleans())
def test_extension_is_rejected(case, extra, at_end):
    ring, _kind, _ref, _serial, token = case
    with pytest.raises(TokenError):
        decode(ring, token + extra if at_end else extra + token)


def test_item_token_cut_to_short_length_and_short_token_padded_are_rejected():
    ring = Keyring({1: KEY_A}, 1)
    item = encode(ring, KIND_ITEM, 5, 5)
    entry = encode(ring, KIND_ENTRY, 5)
    with pytest.raises(TokenError):
        decode(ring, item[:SHORT_LENGTH])
    with pytest.raises(TokenError):
        decode(ring, entry + "0" * (ITEM_LENGTH - SHORT_LENGTH))


@PROPERTY
@given(signed_tokens(), keys)
def test_wrong_key_is_rejected(case, other_key):
    ring, _kind, _ref, _serial, token = case
    key_id = ring.current_id
    assume(other_key != ring.keys[key_id])
    with pytest.raises(TokenError):
        decode(Keyring({key_id: other_key}, key_id), token)


def test_header_key_id_swapped_is_rejected_even_if_both_keys_known():
    ring = Keyring({1: KEY_A, 2: KEY_A}, 1)  # same key material under two ids
    token = encode(ring, KIND_ENTRY, 77)
    raw = bytearray(base64.b32decode(token.translate(str.maketrans(CROCKFORD, RFC4648))))
    raw[0] = KIND_ENTRY << 5 | 2
    swapped = base64.b32encode(bytes(raw)).decode().translate(str.maketrans(RFC4648, CROCKFORD))
    # The MAC covers the header, so the same key under another id still does not verify.
    assert decode(ring, token).key_id == 1
    with pytest.raises(TokenError):
        decode(ring, swapped)


def test_kind_swapped_is_rejected():
    ring = Keyring({1: KEY_A}, 1)
    token = encode(ring, KIND_ENTRY, 77)
    raw = bytearray(base64.b32decode(token.translate(str.maketrans(CROCKFORD, RFC4648))))
    raw[0] = KIND_AUTHORISED_USER << 5 | 1
    swapped = base64.b32encode(bytes(raw)).decode().translate(str.maketrans(RFC4648, CROCKFORD))
    with pytest.raises(TokenError):
        decode(ring, swapped)


@PROPERTY
@given(kinds_and_serials(), ref_ids, keys, keys)
def test_rotation_old_key_verifies_until_retired(kind_serial, ref_id, old_key, new_key):
    assume(old_key != new_key)
    kind, serial = kind_serial
    before = Keyring({1: old_key}, 1)
    old_token = encode(before, kind, ref_id, serial)

    rotated = Keyring({1: old_key, 2: new_key}, 2)
    # Old codes keep verifying after the current key changes ...
    assert decode(rotated, old_token).key_id == 1
    assert decode(rotated, old_token).ref_id == ref_id
    # ... and new codes are signed with the new key id.
    new_token = encode(rotated, kind, ref_id, serial)
    assert new_token != old_token
    assert decode(rotated, new_token).key_id == 2
    with pytest.raises(TokenError):
        decode(before, new_token)  # a process that never got key 2 does not accept it

    retired = Keyring({2: new_key}, 2)
    with pytest.raises(TokenError):
        decode(retired, old_token)
    assert decode(retired, new_token).ref_id == ref_id


def test_retired_key_error_message():
    token = encode(Keyring({3: KEY_A}, 3), KIND_ENTRY, 1)
    with pytest.raises(TokenError, match="retired"):
        decode(Keyring({4: KEY_A}, 4), token)


def test_token_error_is_a_value_error():
    assert issubclass(TokenError, ValueError)


@pytest.mark.parametrize(
    "garbage",
    ["", " ", "hello", "0" * 24, "Z" * 24, "0" * 32, "!" * 24, "中" * 24, "https://x/v/", "/V/"],
)
def test_garbage_is_rejected_with_token_error(garbage):
    with pytest.raises(TokenError):
        decode(Keyring({1: KEY_A}, 1), garbage)


@pytest.mark.parametrize(
    ("kind", "ref_id", "serial"),
    [
        (0, 1, None),
        (4, 1, None),
        (KIND_ENTRY, -1, None),
        (KIND_ENTRY, 2**32, None),
        (KIND_ENTRY, 1, 5),
        (KIND_AUTHORISED_USER, 1, 0),
        (KIND_ITEM, 1, None),
        (KIND_ITEM, 1, -1),
        (KIND_ITEM, 1, 2**40),
    ],
)
def test_encode_refuses_bad_arguments(kind, ref_id, serial):
    with pytest.raises(ValueError):
        encode(Keyring({1: KEY_A}, 1), kind, ref_id, serial)


def test_encode_boundaries():
    ring = Keyring({31: KEY_A}, 31)
    for kind, ref_id, serial in [
        (KIND_ENTRY, 0, None),
        (KIND_ENTRY, 2**32 - 1, None),
        (KIND_ITEM, 2**32 - 1, 2**40 - 1),
        (KIND_ITEM, 0, 0),
    ]:
        token = decode(ring, encode(ring, kind, ref_id, serial))
        assert (token.kind, token.ref_id, token.serial, token.key_id) == (kind, ref_id, serial, 31)


# --- human typing tolerance --------------------------------------------------------------


def _lookalike_typing(token: str, choose) -> str:
    out = []
    for c in token:
        if c == "0":
            out.append(choose(["O", "o", "0"]))
        elif c == "1":
            out.append(choose(["I", "i", "L", "l", "1"]))
        elif c == "V":
            out.append(choose(["U", "u", "V", "v"]))
        else:
            out.append(choose([c, c.lower()]))
    return "".join(out)


@PROPERTY
@given(signed_tokens(), st.data())
def test_typed_variants_decode(case, data):
    ring, kind, ref_id, serial, token = case

    def choose(options):
        return data.draw(st.sampled_from(options))

    typed = _lookalike_typing(token, choose)
    sep = data.draw(st.sampled_from(["", " ", "-", "  ", "\u3000", " - "]))
    grouped = sep.join(typed[i : i + 4] for i in range(0, len(typed), 4))
    padded = choose(["", " ", "\t"]) + grouped + choose(["", " ", "\n"])
    decoded = decode(ring, padded)
    assert (decoded.kind, decoded.ref_id, decoded.serial) == (kind, ref_id, serial)
    assert decoded.text == token


@PROPERTY
@given(signed_tokens(), st.data())
def test_pasted_url_decodes(case, data):
    ring, _kind, ref_id, _serial, token = case
    url = data.draw(
        st.sampled_from(
            [
                "https://host/v/{t}",
                "https://brand.tj.gov.cn/V/{t}",
                "HTTPS://BRAND.TJ.GOV.CN/V/{t}",
                "http://127.0.0.1:8000/v/{t}?from=wechat",
                "https://brand.tj.gov.cn/v/{t}#top",
                "  https://host/v/{t}  ",
            ]
        )
    )
    lower = data.draw(st.booleans())
    text = url.format(t=token.lower() if lower else token)
    assert decode(ring, text).ref_id == ref_id
    assert normalize_code(text) == token


def test_normalize_code_examples():
    assert normalize_code("abcd-efgh ijkm") == "ABCDEFGH1JKM"
    assert normalize_code("oOiIlLuU") == "001111VV"
    assert normalize_code("https://host/v/0123") == "0123"
    assert normalize_code("https://host/v/ab12?x=1") == "AB12"
    assert normalize_code(" 4400\u3000001A_4FHQ.xyz ") == "4400001A4FHQXYZ"


def test_human_typing_of_a_token_with_zeros_and_ones():
    ring = Keyring({1: KEY_A}, 1)
    # Find a token that actually contains 0, 1 and V so every substitution is exercised.
    for ref_id in range(10_000):
        token = encode(ring, KIND_ENTRY, ref_id)
        if {"0", "1", "V"} <= set(token):
            break
    else:  # pragma: no cover - astronomically unlikely
        pytest.fail("no token with 0, 1 and V found")
    typed = token.replace("0", "o").replace("1", "l").replace("V", "u").lower()
    assert typed != token.lower()
    assert decode(ring, typed).ref_id == ref_id
    assert decode(ring, token.replace("1", "I")).ref_id == ref_id
    assert decode(ring, "-".join(token[i : i + 4] for i in range(0, 24, 4))).ref_id == ref_id
    assert decode(ring, f"https://host/v/{typed}").ref_id == ref_id


# --- keys ------------------------------------------------------------------------------


def test_parse_keys():
    spec = f" 1:{KEY_A.hex()} , 2:{KEY_B.hex().upper()},"
    assert parse_keys(spec) == {1: KEY_A, 2: KEY_B}
    assert parse_keys("") == {}


@pytest.mark.parametrize(
    "spec",
    [
        f"0:{KEY_A.hex()}",
        f"32:{KEY_A.hex()}",
        "1:" + "ab" * 15,  # 15 bytes: too short
        "1:zz" + "ab" * 16,  # not hex
        "x:" + "ab" * 16,
    ],
)
def test_parse_keys_refuses_bad_specs(spec):
    with pytest.raises(ValueError):
        parse_keys(spec)


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    """Settings read from a temporary var dir; caches cleared before and after."""
    for name in ("REGISTRY_SIGNING_KEYS", "REGISTRY_SIGNING_KEY_ID", "REGISTRY_KEY_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("REGISTRY_VAR_DIR", str(tmp_path / "var"))
    registry_settings.get_settings.cache_clear()
    tokens.get_keyring.cache_clear()
    yield tmp_path
    registry_settings.get_settings.cache_clear()
    tokens.get_keyring.cache_clear()


def make_settings(**changes) -> registry_settings.Settings:
    """A Settings object from the current environment (uncached), with changes."""
    base = registry_settings.get_settings.__wrapped__()
    return dataclasses.replace(base, **changes)


def test_load_keyring_creates_key_file_with_mode_0600(clean_env):
    key_file = clean_env / "deep" / "dir" / "keys.json"
    s = make_settings(signing_keys="", signing_key_id=None, key_file=key_file)
    assert not key_file.exists()

    ring = load_keyring(s)
    assert key_file.exists()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert ring.current_id == 1
    assert set(ring.keys) == {1}
    assert len(ring.keys[1]) >= 32
    stored = json.loads(key_file.read_text())
    assert bytes.fromhex(stored["keys"]["1"]) == ring.keys[1]

    again = load_keyring(s)
    assert again.keys == ring.keys
    assert again.current_id == ring.current_id
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    # A code issued before a restart still verifies after it.
    token = encode(ring, KIND_ENTRY, 4242)
    assert decode(again, token).ref_id == 4242


def test_two_key_files_give_different_keys(clean_env):
    a = load_keyring(make_settings(signing_keys="", key_file=clean_env / "a.json"))
    b = load_keyring(make_settings(signing_keys="", key_file=clean_env / "b.json"))
    assert a.keys[1] != b.keys[1]
    with pytest.raises(TokenError):
        decode(b, encode(a, KIND_ENTRY, 1))


def test_get_keyring_uses_key_file_in_var_dir(clean_env):
    ring = tokens.get_keyring()
    key_file = clean_env / "var" / "signing-keys.json"
    assert key_file.exists()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert tokens.get_keyring() is ring  # cached
    tokens.get_keyring.cache_clear()
    registry_settings.get_settings.cache_clear()
    assert tokens.get_keyring().keys == ring.keys


def test_load_keyring_from_settings_keys(clean_env, monkeypatch):
    key_file = clean_env / "unused.json"
    monkeypatch.setenv("REGISTRY_SIGNING_KEYS", f"1:{KEY_A.hex()},2:{KEY_B.hex()}")
    monkeypatch.setenv("REGISTRY_KEY_FILE", str(key_file))
    registry_settings.get_settings.cache_clear()
    ring = load_keyring(registry_settings.get_settings())
    assert ring.keys == {1: KEY_A, 2: KEY_B}
    assert ring.current_id == 2  # the highest id by default
    assert not key_file.exists()  # configured keys: no key file written

    monkeypatch.setenv("REGISTRY_SIGNING_KEY_ID", "1")
    registry_settings.get_settings.cache_clear()
    assert load_keyring(registry_settings.get_settings()).current_id == 1

    monkeypatch.setenv("REGISTRY_SIGNING_KEY_ID", "3")
    registry_settings.get_settings.cache_clear()
    with pytest.raises(ValueError):
        load_keyring(registry_settings.get_settings())


def test_load_keyring_refuses_empty_key_list(clean_env):
    key_file = clean_env / "empty.json"
    key_file.write_text(json.dumps({"keys": {}}))
    with pytest.raises(ValueError):
        load_keyring(make_settings(signing_keys="", key_file=key_file))
