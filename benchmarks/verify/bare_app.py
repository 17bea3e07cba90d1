"""The baseline for the verification benchmark: a bare Litestar page.

One GET route with a path parameter (like ``/V/{token}``) that renders a Jinja2
template of about the same size and shape as the real verification page of a
genuine code (header, verdict block, definition list, status history), with no
database, no middleware, no compression, no cookies and no translations.

The Jinja environment is configured the way the real app's is in production
(autoescape, trim/lstrip blocks, no auto-reload), so the difference the benchmark
shows is the registry's own work, not a template-loader setting.

Serve it with the same server as the app, e.g.::

    granian --interface asgi --factory benchmarks.verify.bare_app:create_app --port 8001
"""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from litestar import Litestar, get
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Template
from litestar.template import TemplateConfig

TEMPLATES = Path(__file__).resolve().parent / "templates"

ITEM = {
    "name": "石头门坎素包",
    "register": "老字号",
    "holder": "天津石头门坎示范餐饮有限公司（演示）",
    "number": "DEMO-JMLZH-0001",
}
FACTS = (
    ("名录", "老字号 · 津门老字号"),
    ("证书编号", "DEMO-JMLZH-0001"),
    ("持有人", "天津石头门坎示范餐饮有限公司（演示）"),
    ("统一社会信用代码", "911201016BHA3GACEF"),
    ("所在区", "和平区"),
    ("行业类别", "餐饮"),
    ("认定/发证机关", "天津市商务局"),
    ("有效期", "2016年11月26日 — 长期有效"),
    ("品牌创立年份", "1920"),
    ("注册商标号", "第1334567号（演示）"),
    ("主营业务", "素包子"),
)
HISTORY = (
    {
        "at": "2016-11-26 09:00",
        "status": "有效",
        "reason": "认定登记",
        "signed_by": "演示数据（demo）",
    },
)


@get("/bare/{token:str}", name="bare.page", include_in_schema=False)
async def bare_page(token: str) -> Template:
    return Template(
        template_name="bare.html",
        context={
            "title": "验证结果",
            "city": "天津市",
            "token": token,
            "verdict": {"tone": "ok", "mark": "✓", "result": "valid", "message": "真实有效"},
            "item": ITEM,
            "facts": FACTS,
            "history": HISTORY,
        },
    )


def make_environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html", "xml"]),
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )


def create_app() -> Litestar:
    return Litestar(
        route_handlers=[bare_page],
        template_config=TemplateConfig(
            engine=JinjaTemplateEngine.from_environment(make_environment())
        ),
        openapi_config=None,
    )
