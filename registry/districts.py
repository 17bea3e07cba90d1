"""The 16 districts of Tianjin with their GB/T 2260 codes."""

from __future__ import annotations

from typing import NamedTuple


class District(NamedTuple):
    code: str
    name_zh: str
    name_en: str


TIANJIN_DISTRICTS: tuple[District, ...] = (
    District("120101", "和平区", "Heping"),
    District("120102", "河东区", "Hedong"),
    District("120103", "河西区", "Hexi"),
    District("120104", "南开区", "Nankai"),
    District("120105", "河北区", "Hebei"),
    District("120106", "红桥区", "Hongqiao"),
    District("120110", "东丽区", "Dongli"),
    District("120111", "西青区", "Xiqing"),
    District("120112", "津南区", "Jinnan"),
    District("120113", "北辰区", "Beichen"),
    District("120114", "武清区", "Wuqing"),
    District("120115", "宝坻区", "Baodi"),
    District("120116", "滨海新区", "Binhai New Area"),
    District("120117", "宁河区", "Ninghe"),
    District("120118", "静海区", "Jinghai"),
    District("120119", "蓟州区", "Jizhou"),
)

DISTRICTS_BY_CODE = {d.code: d for d in TIANJIN_DISTRICTS}


def district_name(code: str, lang: str = "zh") -> str:
    d = DISTRICTS_BY_CODE.get(code)
    if d is None:
        return code
    return d.name_en if lang == "en" else d.name_zh
