"""QR codes: verification URLs and their PNG/SVG renderings.

The URL is upper case (``HTTPS://HOST/V/TOKEN``) so the whole string fits the QR
alphanumeric mode and the symbol stays small.  Renderings use a fixed version
(the smallest that fits the URL length) and a fixed mask, which is ~6x cheaper
than letting the encoder try all eight masks, and they are cached by token.
"""

from __future__ import annotations

import io
from functools import lru_cache

import qrcode
import qrcode.constants
from PIL import Image, ImageDraw, ImageFont

from registry import tokens
from registry.settings import get_settings

QR_ERROR_CORRECTION = qrcode.constants.ERROR_CORRECT_M
QR_MASK = 4
QR_BORDER = 4  # quiet zone in modules, as the standard asks
PNG_BOX = 8  # pixels per module
SVG_FONTS = "DejaVu Sans Mono, Menlo, Consolas, monospace"


def token_for_entry(entry_id: int) -> str:
    return tokens.encode(tokens.get_keyring(), tokens.KIND_ENTRY, entry_id)


def token_for_authorised_user(user_id: int) -> str:
    return tokens.encode(tokens.get_keyring(), tokens.KIND_AUTHORISED_USER, user_id)


def verify_url(token: str) -> str:
    return f"{get_settings().base_url}/V/{token}".upper()


def qr_png_url(token: str) -> str:
    return f"{get_settings().base_url}/qr/{token}.png"


def qr_svg_url(token: str) -> str:
    return f"{get_settings().base_url}/qr/{token}.svg"


def group_code(token: str) -> str:
    """``4400001A4FHQ...`` -> ``4400 001A 4FHQ ...`` for people to read and type."""
    return " ".join(token[i : i + 4] for i in range(0, len(token), 4))


@lru_cache(maxsize=64)
def _version_for_length(length: int) -> int:
    probe = qrcode.QRCode(error_correction=QR_ERROR_CORRECTION)
    probe.add_data("A" * length)
    return probe.best_fit()


def qr_matrix(data: str) -> list[list[bool]]:
    qr = qrcode.QRCode(
        version=_version_for_length(len(data)),
        error_correction=QR_ERROR_CORRECTION,
        border=QR_BORDER,
        mask_pattern=QR_MASK,
    )
    qr.add_data(data)
    qr.make(fit=False)
    return qr.get_matrix()


@lru_cache(maxsize=2048)
def render_png(token: str) -> bytes:
    data = verify_url(token)
    matrix = qr_matrix(data)
    size = len(matrix) * PNG_BOX
    caption_height = 30
    image = Image.new("L", (size, size + caption_height), 255)
    draw = ImageDraw.Draw(image)
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            if dark:
                x0, y0 = x * PNG_BOX, y * PNG_BOX
                draw.rectangle((x0, y0, x0 + PNG_BOX - 1, y0 + PNG_BOX - 1), fill=0)
    caption = group_code(token)
    # The largest font whose caption fits inside the quiet zone's inner edge.
    for font_size in range(18, 7, -1):
        font = _caption_font(font_size)
        width = draw.textlength(caption, font=font)
        if width <= size - 2 * PNG_BOX:
            break
    # Below the symbol's 4-module quiet zone, never inside it.
    draw.text(((size - width) / 2, size + 2), caption, fill=0, font=font)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


@lru_cache(maxsize=2048)
def render_svg(token: str) -> str:
    data = verify_url(token)
    matrix = qr_matrix(data)
    n = len(matrix)
    path = "".join(
        f"M{x} {y}h1v1h-1z" for y, row in enumerate(matrix) for x, dark in enumerate(row) if dark
    )
    caption = group_code(token)
    text_y = n + 1.2
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {n} {n + 2.2}" '
        f'width="{n * PNG_BOX}" height="{(n + 2.2) * PNG_BOX:.0f}" '
        'shape-rendering="crispEdges" role="img">'
        f"<title>{data}</title>"
        f'<rect width="{n}" height="{n + 2.2}" fill="#fff"/>'
        f'<path d="{path}" fill="#000"/>'
        f'<text x="{n / 2}" y="{text_y}" font-family="{SVG_FONTS}" '
        f'font-size="1.6" text-anchor="middle" fill="#000">{caption}</text>'
        "</svg>"
    )


@lru_cache(maxsize=4)
def _caption_font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    for name in ("DejaVuSansMono.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"):
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default(size=size)


def clear_render_caches() -> None:
    render_png.cache_clear()
    render_svg.cache_clear()
