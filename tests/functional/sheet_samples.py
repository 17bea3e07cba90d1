"""Realistic spreadsheets for the import tests: Jinnong product brands (产品品牌).

Not a test module: the spreadsheet tests import it (a unique name, so no clash with
another module on sys.path)."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

from registry.uscc import make_uscc

HEADER = [
    "证书编号",
    "类别",
    "名称",
    "英文名称",
    "统一社会信用代码",
    "企业名称",
    "所在区",
    "行业",
    "有效期起",
    "有效期至",
    "注册商标号",
    "年销售额（万元）",
    "企业信用状况",
    "质量控制体系",
]
SALES = HEADER.index("年销售额（万元）")
QUALITY = HEADER.index("质量控制体系")
NUMBER = HEADER.index("证书编号")
VALID_FROM = HEADER.index("有效期起")

_PLACES = [
    ("宝坻", "120115", "宝坻区"),
    ("武清", "120114", "武清区"),
    ("静海", "120118", "静海区"),
    ("蓟州", "120119", "蓟州区"),
    ("宁河", "120117", "宁河区"),
    ("西青", "120111", "西青区"),
    ("津南", "120112", "津南区"),
    ("北辰", "120113", "北辰区"),
    ("东丽", "120110", "东丽区"),
    ("滨海", "120116", "滨海新区"),
]
_WORDS = ["金穗", "海河", "沃野", "绿源", "津沽", "丰收", "渤海", "盘山", "七里海", "稻香"]
_KINDS = ["农业发展", "农产品", "生态农业", "种植专业合作社", "食品"]
_PRODUCTS = [
    ("小站稻", "粮"),
    ("黄庄洼大米", "粮"),
    ("沙窝萝卜", "菜"),
    ("宝坻黄板泥鳅", "鱼"),
    ("七里海河蟹", "鱼"),
    ("茶淀玫瑰香葡萄", "果"),
    ("崔庄冬枣", "果"),
    ("州河鲤鱼", "鱼"),
    ("盘山磨盘柿", "果"),
    ("王口炒货", "其他"),
    ("宝坻大葱", "菜"),
    ("放心猪肉", "肉"),
    ("散养鸡蛋", "蛋"),
    ("鲜牛奶", "奶"),
    ("杂交水稻种子", "种"),
]
_QUALITY = ["ISO 9001", "HACCP", "良好农业规范（GAP）", "绿色食品生产操作规程", "全程追溯体系"]
ENTERPRISES = 250


def enterprise(k: int) -> tuple[str, str, str]:
    """(credit code, name, district name) of the k-th sample enterprise."""
    short, code, district = _PLACES[k % len(_PLACES)]
    word = _WORDS[(k // len(_PLACES)) % len(_WORDS)]
    kind = _KINDS[(k // (len(_PLACES) * len(_WORDS))) % len(_KINDS)]
    suffix = "" if kind.endswith("合作社") else "有限公司"
    name = f"天津市{short}{word}{kind}{suffix}"
    return make_uscc(f"91{code}MA{k:07d}"), name, district


def jinnong_rows(n: int, year: int = 2024, bad: int | None = None) -> list[list[Any]]:
    """n rows of valid product brands; row ``bad`` (1-based data row) has sales 'abc'."""
    rows = []
    for i in range(1, n + 1):
        uscc, company, district = enterprise(i % ENTERPRISES)
        product, industry = _PRODUCTS[i % len(_PRODUCTS)]
        brand = _WORDS[(i * 7) % len(_WORDS)]
        rows.append(
            [
                f"JNCP-{year}-{i:04d}",
                "产品品牌",
                f"{brand}{product}",
                "",
                uscc,
                company,
                district,
                industry,
                dt.datetime(year, 1 + i % 12, 1 + i % 28),
                None,
                f"第{20_000_000 + i}号",
                "abc" if i == bad else round(80 + i * 3.7, 1),
                "良好" if i % 5 else "一般",
                _QUALITY[i % len(_QUALITY)],
            ]
        )
    return rows


def write_xlsx(path: Path, rows: list[list[Any]], header: list[str] = HEADER) -> Path:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "津农精品"
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def _text(value: Any, date_style: str) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        day = value.date() if isinstance(value, dt.datetime) else value
        if date_style == "slash":
            return f"{day.year}/{day.month}/{day.day}"
        if date_style == "chinese":
            return f"{day.year}年{day.month}月{day.day}日"
        return day.isoformat()
    return str(value)


def write_csv(
    path: Path,
    rows: list[list[Any]],
    encoding: str = "utf-8-sig",
    date_style: str = "iso",
    header: list[str] = HEADER,
) -> Path:
    with path.open("w", encoding=encoding, newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        for row in rows:
            writer.writerow([_text(v, date_style) for v in row])
    return path
