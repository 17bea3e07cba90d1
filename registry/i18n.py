"""Two languages: Chinese by default, English on request.

Page text is written in Chinese in the templates as ``_("…")``; the English catalogue
maps each Chinese string to its translation.  A test checks every template string
has an English entry, so a new string cannot ship half-translated.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from functools import lru_cache
from pathlib import Path

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"
LANG_COOKIE = "lang"


def pick_lang(query_value: str | None, cookie_value: str | None) -> str:
    for value in (query_value, cookie_value):
        if value in LANGS:
            return value
    return DEFAULT_LANG


@lru_cache(maxsize=8)
def load_catalog(paths: tuple[str, ...]) -> dict[str, str]:
    merged: dict[str, str] = {}
    for path in paths:
        merged.update(json.loads(Path(path).read_text("utf-8")))
    return merged


def make_gettext(lang: str, catalog_paths: Iterable[str]) -> Callable[..., str]:
    catalog = load_catalog(tuple(catalog_paths)) if lang == "en" else {}

    def gettext(text: str, **values: object) -> str:
        translated = catalog.get(text, text)
        return translated.format(**values) if values else translated

    return gettext


def pick(lang: str, zh: str, en: str) -> str:
    """Choose between stored zh/en values, falling back to Chinese when English is empty."""
    return en if lang == "en" and en else zh
