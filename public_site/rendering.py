"""Shared page plumbing: language, translations and the Jinja environment."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from litestar import Request
from litestar.response import Template

from registry import i18n, roles, statuses
from registry.districts import TIANJIN_DISTRICTS, district_name
from registry.settings import get_settings

HERE = Path(__file__).resolve().parent
TEMPLATE_DIRS = [HERE / "templates", HERE.parent / "admin" / "templates"]
CATALOGS = (
    str(HERE / "locale" / "en.json"),
    str(HERE.parent / "admin" / "locale" / "en.json"),
)


def request_lang(request: Request) -> str:
    return i18n.pick_lang(request.query_params.get("lang"), request.cookies.get(i18n.LANG_COOKIE))


@lru_cache(maxsize=4)
def gettext(lang: str):
    return i18n.make_gettext(lang, [p for p in CATALOGS if Path(p).exists()])


def fmt_date(value: dt.date | dt.datetime | None, lang: str = "zh") -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        local = value.astimezone(dt.timezone(dt.timedelta(hours=8)))
        return local.strftime("%Y-%m-%d %H:%M")
    if lang == "zh":
        return f"{value.year}年{value.month}月{value.day}日"
    return value.isoformat()


def make_environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader([str(d) for d in TEMPLATE_DIRS]),
        autoescape=select_autoescape(["html", "xml"]),
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=get_settings().debug,
    )
    env.globals.update(
        LABELS=statuses.LABELS,
        DISTRICTS=TIANJIN_DISTRICTS,
        district_name=district_name,
        pick=i18n.pick,
    )
    env.filters["date"] = fmt_date
    return env


def page(request: Request, template: str, status_code: int = 200, **context: Any) -> Template:
    lang = request_lang(request)
    settings = get_settings()
    staff = getattr(request.state, "staff", None)
    context.update(
        staff=staff,
        can=lambda permission: staff is not None and roles.allowed(staff.role, permission),
        role_label=roles.role_label,
        request=request,
        lang=lang,
        _=gettext(lang),
        colon=": " if lang == "en" else "：",
        city=i18n.pick(lang, settings.city_name_zh, settings.city_name_en),
        switch_lang_url=switch_lang_url(request, "en" if lang == "zh" else "zh"),
    )
    return Template(template_name=template, context=context, status_code=status_code)


def render(request: Request, template: str, back: str | None = None, **context: Any) -> str:
    """The page as a string (for pages cached whole), with the same context as ``page``.

    ``back`` replaces the current path in the language-switch link.
    """
    response = page(request, template, **context)
    if back is not None:
        other = "en" if response.context["lang"] == "zh" else "zh"
        response.context["switch_lang_url"] = f"/lang/{other}?" + urlencode({"next": back})
    env = request.app.template_engine.engine
    return env.get_template(response.template_name).render(response.context)


def switch_lang_url(request: Request, target: str) -> str:
    query = {k: v for k, v in request.query_params.items() if k != "lang"}
    back = request.url.path + ("?" + urlencode(query) if query else "")
    return "/lang/" + target + "?" + urlencode({"next": back})


def query_with(request: Request, **changes: Any) -> str:
    """The current query string with some parameters changed (for filters and paging)."""
    query = dict(request.query_params.items())
    for key, value in changes.items():
        if value in (None, ""):
            query.pop(key, None)
        else:
            query[key] = str(value)
    return "?" + urlencode(query) if query else "?"
