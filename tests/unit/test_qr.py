"""QR codes (registry/services/codes.py), decoded with the real zbar decoder."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest
from PIL import Image, ImageDraw

from registry import settings as registry_settings
from registry import tokens
from registry.services import codes

BASE_URL = "https://brand.tj.gov.cn"
SIGNING_KEYS = "1:" + "5a" * 32
SVG_NS = "{http://www.w3.org/2000/svg}"
QR_ALPHANUMERIC = set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")
# ISO/IEC 18004 asks for a quiet zone of 4 modules on every side.
QUIET_MODULES = 4
# Version 3 is 29 modules wide; plus the quiet zone on each side.
MAX_MODULES = 29 + 2 * QUIET_MODULES


def _clear_caches() -> None:
    registry_settings.get_settings.cache_clear()
    tokens.get_keyring.cache_clear()
    codes.clear_render_caches()


@pytest.fixture
def qr_env(monkeypatch):
    monkeypatch.setenv("REGISTRY_BASE_URL", BASE_URL)
    monkeypatch.setenv("REGISTRY_SIGNING_KEYS", SIGNING_KEYS)
    monkeypatch.delenv("REGISTRY_SIGNING_KEY_ID", raising=False)
    _clear_caches()
    yield monkeypatch
    _clear_caches()


@pytest.fixture(scope="session")
def zbarimg() -> str:
    path = shutil.which("zbarimg") or (
        "/usr/bin/zbarimg" if os.path.exists("/usr/bin/zbarimg") else None
    )
    if path is None:
        message = (
            "zbarimg not found: install the Debian package zbar-tools to decode QR codes "
            "in these tests"
        )
        if os.environ.get("REGISTRY_TEST_STRICT") == "1":
            pytest.fail(message + " (REGISTRY_TEST_STRICT=1)")
        pytest.skip(message)
    return path


def zbar_decode(zbarimg: str, png: bytes, tmp_path, name: str = "code.png") -> list[str]:
    target = tmp_path / name
    target.write_bytes(png)
    proc = subprocess.run(
        [zbarimg, "--raw", "-q", str(target)], capture_output=True, text=True, timeout=30
    )
    assert proc.returncode == 0, f"zbarimg found no code (rc={proc.returncode}): {proc.stderr}"
    return [line for line in proc.stdout.splitlines() if line]


def sample_tokens() -> list[tuple[str, int, int | None, str]]:
    ring = tokens.get_keyring()
    return [
        ("entry", 42, None, codes.token_for_entry(42)),
        ("entry-max", 2**32 - 1, None, codes.token_for_entry(2**32 - 1)),
        ("user", 7, None, codes.token_for_authorised_user(7)),
        ("item", 5, 123_456_789, tokens.encode(ring, tokens.KIND_ITEM, 5, 123_456_789)),
        ("item-max", 9, 2**40 - 1, tokens.encode(ring, tokens.KIND_ITEM, 9, 2**40 - 1)),
    ]


def qr_version(matrix: list[list[bool]]) -> int:
    inner = len(matrix) - 2 * QUIET_MODULES
    assert (inner - 17) % 4 == 0
    return (inner - 17) // 4


# --- URL and grouping --------------------------------------------------------------------


def test_verify_url_is_upper_case_and_alphanumeric(qr_env):
    token = codes.token_for_entry(42)
    url = codes.verify_url(token)
    assert url == "HTTPS://BRAND.TJ.GOV.CN/V/" + token
    assert url == url.upper()
    assert set(url) <= QR_ALPHANUMERIC
    # The scanned URL leads back to the token.
    assert tokens.decode(tokens.get_keyring(), url).ref_id == 42


def test_verify_url_follows_base_url_setting(qr_env):
    qr_env.setenv("REGISTRY_BASE_URL", "http://127.0.0.1:8000/")
    _clear_caches()
    token = codes.token_for_entry(1)
    assert codes.verify_url(token) == f"HTTP://127.0.0.1:8000/V/{token}"


def test_group_code():
    assert codes.group_code("4400001A4FHQ") == "4400 001A 4FHQ"
    assert codes.group_code("") == ""
    assert codes.group_code("ABCDE") == "ABCD E"


def test_group_code_of_real_tokens_reads_back(qr_env):
    ring = tokens.get_keyring()
    for _label, ref_id, serial, token in sample_tokens():
        grouped = codes.group_code(token)
        groups = grouped.split(" ")
        assert len(groups) == len(token) // 4
        assert all(len(g) == 4 for g in groups)
        assert grouped.replace(" ", "") == token
        decoded = tokens.decode(ring, grouped)
        assert (decoded.ref_id, decoded.serial) == (ref_id, serial)


# --- matrix ------------------------------------------------------------------------------


def test_matrix_is_small_for_entry_and_item_tokens(qr_env):
    for label, _ref, _serial, token in sample_tokens():
        matrix = codes.qr_matrix(codes.verify_url(token))
        assert len(matrix) <= MAX_MODULES, label
        assert all(len(row) == len(matrix) for row in matrix)
        assert 2 <= qr_version(matrix) <= 3, label


def test_short_token_url_uses_alphanumeric_mode(qr_env):
    # 24-character token + https://brand.tj.gov.cn/V/ = 50 characters; version 3-M holds 61
    # alphanumeric characters but only 42 bytes, so version 3 proves alphanumeric mode.
    url = codes.verify_url(codes.token_for_entry(42))
    assert len(url) == 50
    assert qr_version(codes.qr_matrix(url)) == 3


def test_quiet_zone_in_matrix(qr_env):
    matrix = codes.qr_matrix(codes.verify_url(codes.token_for_entry(42)))
    b = QUIET_MODULES
    n = len(matrix)
    for i in range(n):
        for j in range(b):
            assert not matrix[i][j] and not matrix[i][n - 1 - j]
            assert not matrix[j][i] and not matrix[n - 1 - j][i]
    # Finder pattern corner is dark just inside the quiet zone.
    assert matrix[b][b] and matrix[b][n - 1 - b] and matrix[n - 1 - b][b]


# --- PNG ---------------------------------------------------------------------------------


@pytest.mark.parametrize("index", range(5))
def test_png_decodes_to_verify_url(qr_env, zbarimg, tmp_path, index):
    label, ref_id, serial, token = sample_tokens()[index]
    png = codes.render_png(token)
    decoded = zbar_decode(zbarimg, png, tmp_path)
    url = codes.verify_url(token)
    assert decoded == [url], label
    assert decoded[0] == decoded[0].upper()
    assert decoded[0].startswith("HTTPS://BRAND.TJ.GOV.CN/V/")
    # What the phone reads verifies against the keyring.
    back = tokens.decode(tokens.get_keyring(), decoded[0])
    assert (back.ref_id, back.serial) == (ref_id, serial)


def test_png_geometry_and_quiet_zone(qr_env):
    token = codes.token_for_entry(42)
    png = codes.render_png(token)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(png))
    matrix = codes.qr_matrix(codes.verify_url(token))
    size = len(matrix) * codes.PNG_BOX
    assert image.size[0] == size
    assert image.size[1] > size  # room for the caption below
    px = image.convert("L").load()
    # Modules are drawn where the matrix says (sample the centre of every module).
    half = codes.PNG_BOX // 2
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            value = px[x * codes.PNG_BOX + half, y * codes.PNG_BOX + half]
            assert (value < 128) == dark, (x, y)
    # The caption is drawn below the symbol and is not empty.
    caption_rows = range(size, image.size[1])
    assert any(px[x, y] < 128 for y in caption_rows for x in range(size))
    # The whole 4-module quiet zone around the symbol is white (the caption starts below).
    quiet = QUIET_MODULES * codes.PNG_BOX
    clear_to = size
    for y in range(clear_to):
        for x in list(range(quiet)) + list(range(size - quiet, size)):
            assert px[x, y] == 255, (x, y)
    for y in list(range(quiet)) + list(range(size - quiet, clear_to)):
        for x in range(size):
            assert px[x, y] == 255, (x, y)


def test_png_is_cached_and_clear_render_caches_follows_settings(qr_env, zbarimg, tmp_path):
    token = codes.token_for_entry(42)
    first = codes.render_png(token)
    assert codes.render_png(token) is first

    qr_env.setenv("REGISTRY_BASE_URL", "https://verify.example.cn")
    registry_settings.get_settings.cache_clear()
    codes.clear_render_caches()
    second = codes.render_png(token)
    assert second != first
    assert zbar_decode(zbarimg, second, tmp_path) == ["HTTPS://VERIFY.EXAMPLE.CN/V/" + token]


# --- SVG ---------------------------------------------------------------------------------


def _svg_dark_modules(svg: str) -> set[tuple[int, int]]:
    root = ET.fromstring(svg.encode("utf-8"))
    path = root.find(f"{SVG_NS}path")
    assert path is not None
    d = path.get("d")
    squares = re.findall(r"M(\d+) (\d+)h1v1h-1z", d)
    assert "".join(f"M{x} {y}h1v1h-1z" for x, y in squares) == d
    return {(int(x), int(y)) for x, y in squares}


@pytest.mark.parametrize("index", [0, 2, 3])
def test_svg_is_well_formed_and_matches_matrix(qr_env, index):
    _label, _ref, _serial, token = sample_tokens()[index]
    svg = codes.render_svg(token)
    root = ET.fromstring(svg.encode("utf-8"))  # raises on malformed XML
    assert root.tag == f"{SVG_NS}svg"
    url = codes.verify_url(token)
    assert root.find(f"{SVG_NS}title").text == url
    texts = [el.text for el in root.iter(f"{SVG_NS}text")]
    assert texts == [codes.group_code(token)]
    assert codes.group_code(token) in svg

    matrix = codes.qr_matrix(url)
    n = len(matrix)
    assert root.get("viewBox").split()[:3] == ["0", "0", str(n)]
    expected = {(x, y) for y, row in enumerate(matrix) for x, dark in enumerate(row) if dark}
    assert _svg_dark_modules(svg) == expected


def test_svg_rasterised_decodes_to_verify_url(qr_env, zbarimg, tmp_path):
    token = sample_tokens()[3][3]  # an item code, the longest URL
    svg = codes.render_svg(token)
    dark = _svg_dark_modules(svg)
    n = len(codes.qr_matrix(codes.verify_url(token)))
    scale = 8
    image = Image.new("L", (n * scale, n * scale), 255)
    draw = ImageDraw.Draw(image)
    for x, y in dark:
        draw.rectangle((x * scale, y * scale, x * scale + scale - 1, y * scale + scale - 1), 0)
    out = io.BytesIO()
    image.save(out, format="PNG")
    assert zbar_decode(zbarimg, out.getvalue(), tmp_path, "svg.png") == [codes.verify_url(token)]


def test_svg_is_cached(qr_env):
    token = codes.token_for_entry(42)
    assert codes.render_svg(token) is codes.render_svg(token)
