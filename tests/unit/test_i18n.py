"""Every page string is translatable and translated: Chinese first, English available."""

import json
import re
from pathlib import Path

import pytest

from registry.i18n import make_gettext, pick_lang

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = sorted((ROOT / "public_site" / "templates").glob("*.html")) + sorted(
    (ROOT / "admin" / "templates").rglob("*.html")
)
CATALOGS = [ROOT / "public_site" / "locale" / "en.json", ROOT / "admin" / "locale" / "en.json"]
MSGID = re.compile(r"""_\(\s*(?:"([^"]*)"|'([^']*)')""")
CJK = re.compile(r"[\u3400-\u9fff\uff00-\uffef\u3000-\u303f]")


def _catalog() -> dict[str, str]:
    merged: dict[str, str] = {}
    for path in CATALOGS:
        merged.update(json.loads(path.read_text("utf-8")))
    return merged


def _msgids(text: str) -> set[str]:
    return {a or b for a, b in MSGID.findall(text)}


def test_templates_exist():
    assert len(TEMPLATES) >= 10


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.name)
def test_every_template_string_has_an_english_translation(template: Path):
    catalog = _catalog()
    missing = sorted(m for m in _msgids(template.read_text("utf-8")) if m not in catalog)
    assert not missing, f"{template.name}: add English for {missing}"


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.name)
def test_no_chinese_text_outside_translatable_strings(template: Path):
    text = template.read_text("utf-8")
    # Remove Jinja expressions/statements/comments: what is left is literal page text.
    literal = re.sub(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", "", text, flags=re.S)
    found = CJK.findall(literal)
    assert not found, f"{template.name}: untranslatable text {''.join(found)!r}; wrap it in _()"


def test_placeholders_survive_translation():
    catalog = _catalog()
    for zh, en in catalog.items():
        assert set(re.findall(r"\{(\w+)\}", zh)) == set(re.findall(r"\{(\w+)\}", en)), zh


def test_gettext_falls_back_to_chinese_and_formats():
    paths = [str(p) for p in CATALOGS]
    en = make_gettext("en", paths)
    zh = make_gettext("zh", paths)
    assert en("查询") == "Search"
    assert zh("查询") == "查询"
    assert en("共 {n} 条", n=3) == "3 results"
    assert en("一个没有译文的句子") == "一个没有译文的句子"


def test_language_choice():
    assert pick_lang(None, None) == "zh"
    assert pick_lang("en", None) == "en"
    assert pick_lang(None, "en") == "en"
    assert pick_lang("zh", "en") == "zh"
    assert pick_lang("fr", "de") == "zh"
