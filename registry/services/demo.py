"""Demo data: realistic Tianjin names, fictional enterprises, every register and status.

Brand and GI names are public (老字号 lists, GI registrations); every enterprise,
association, certificate number and certification body here is fictional and named
"（演示）" so nobody mistakes it for the real register.  Running it twice changes nothing.
Dates are relative to today so the demo keeps showing every status as years pass.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from typing import Any

from registry.services import entries as entry_service
from registry.services.enterprises import upsert_enterprise
from registry.services.registers import seed_registers
from registry.tables import AuthorisedUser, Entry
from registry.uscc import CHARSET, make_uscc

DEMO_SIGNER = "演示数据（demo）"
DEMO_MARK = "（演示）"


@dataclass
class DemoEntry:
    entry_no: str
    subtype: str
    name: str
    name_en: str
    company: str  # fictional holder, "（演示）" is appended
    district: str
    industry: str
    start_days_ago: int  # valid_from = today - this
    extra: dict[str, Any]
    # Status story: (action, reason, days ago, condition deadline in days from today)
    actions: list[tuple[str, str, int, int | None]] = field(default_factory=list)
    valid_until_days: int | None = None  # override the subtype's term (days from valid_from)
    users: list[tuple[str, str, int, str | None, str]] = field(default_factory=list)
    # users: (company, district, start_days_ago, action or None, reason)


def _fake_uscc(name: str, district: str, association: bool = False) -> str:
    rng = random.Random(name)  # deterministic: the same company gets the same code
    org = "".join(rng.choice(CHARSET[:10] + "ABCDEFGH") for _ in range(9))
    return make_uscc(("51" if association else "91") + district + org)


def _lzh(founded: int, tm: str, business: str) -> dict[str, Any]:
    return {"founded_year": founded, "trademark_no": tm, "main_business": business}


def _jn(tm: str, sales: str, qc: str, credit: str | None = "good") -> dict[str, Any]:
    data = {"trademark_no": tm, "annual_sales": sales, "quality_control": qc}
    if credit:
        data["credit_standing"] = credit
    return data


def _fb(scope: str, std: str, sales: str) -> dict[str, Any]:
    return {"product_scope": scope, "product_standard": std, "annual_sales": sales}


def _org(body: str, approval: str, **more: Any) -> dict[str, Any]:
    return {"cert_body": body, "cert_body_approval_no": approval, **more}


def _gi(area: str, std: str, **more: Any) -> dict[str, Any]:
    return {"protected_area": area, "product_standard": std, **more}


Y = 365
BODY_A = ("华北示例有机认证中心（演示）", "CNCA-R-0000-001（演示）")
BODY_B = ("津沽示例认证有限公司（演示）", "CNCA-R-0000-002（演示）")

DEMO_ENTRIES: list[DemoEntry] = [
    # --- 名牌产品: closed to new recognitions since Dec 2018, so all past their term ---
    DemoEntry(
        "DEMO-TJMP-2016-0001",
        "tj_famous_brand",
        "津门春牌酱油",
        "Jinmenchun soy sauce",
        "天津津门春调味品有限公司",
        "120113",
        "food",
        10 * Y,
        _fb("酿造酱油", "GB/T 18186-2000", "32000"),
    ),
    DemoEntry(
        "DEMO-TJMP-2016-0002",
        "tj_famous_brand",
        "海河湾牌巴氏杀菌乳",
        "Haihewan pasteurised milk",
        "天津海河湾乳业有限公司",
        "120110",
        "food",
        10 * Y,
        _fb("巴氏杀菌乳、发酵乳", "GB 19645-2010", "56000"),
    ),
    DemoEntry(
        "DEMO-TJMP-2017-0003",
        "tj_famous_brand",
        "渤海星牌自行车",
        "Bohaixing bicycles",
        "天津渤海星车业有限公司",
        "120114",
        "consumer_goods",
        9 * Y,
        _fb("城市自行车、山地自行车", "GB 3565-2005", "41000"),
    ),
    DemoEntry(
        "DEMO-TJMP-2017-0004",
        "tj_famous_brand",
        "津塔牌钢丝绳",
        "Jinta steel wire rope",
        "天津津塔金属制品有限公司",
        "120112",
        "equipment",
        9 * Y,
        _fb("钢丝绳", "GB/T 20118-2017", "87000"),
        actions=[("revoke", "产品质量监督抽查不合格，经复查仍不合格", 8 * Y, None)],
    ),
    DemoEntry(
        "DEMO-TJMP-2017-0005",
        "tj_famous_brand",
        "沽上香牌挂面",
        "Gushangxiang noodles",
        "天津沽上香食品有限公司",
        "120111",
        "food",
        9 * Y,
        _fb("挂面", "LS/T 3212-2014", "15000"),
        actions=[("suspend", "企业因环保整改停产，名牌标志暂停使用", 8 * Y, None)],
    ),
    DemoEntry(
        "DEMO-TJMP-2018-0006",
        "tj_famous_brand",
        "华北明珠牌压缩机",
        "Huabei Mingzhu compressors",
        "天津华北明珠机电有限公司",
        "120116",
        "equipment",
        8 * Y,
        _fb("空调压缩机", "GB/T 15765-2014", "230000"),
    ),
    DemoEntry(
        "DEMO-TJMP-2018-0007",
        "tj_famous_brand",
        "津药康牌板蓝根颗粒",
        "Jinyaokang Banlangen granules",
        "天津津药康制药有限公司",
        "120104",
        "pharma",
        8 * Y,
        _fb("中成药颗粒剂", "《中国药典》2015年版", "26000"),
        actions=[("withdraw", "企业申请注销名牌产品称号", 7 * Y, None)],
    ),
    DemoEntry(
        "DEMO-TJMP-2018-0008",
        "tj_famous_brand",
        "海门牌不锈钢餐具",
        "Haimen stainless tableware",
        "天津海门五金制品有限公司",
        "120105",
        "consumer_goods",
        8 * Y,
        _fb("不锈钢餐具", "GB 4806.9-2016", "9000"),
    ),
    DemoEntry(
        "DEMO-TJMP-2018-0009",
        "tj_famous_brand",
        "津晶牌平板玻璃",
        "Jinjing float glass",
        "天津津晶玻璃有限公司",
        "120117",
        "equipment",
        8 * Y,
        _fb("浮法玻璃", "GB 11614-2009", "64000"),
    ),
    DemoEntry(
        "DEMO-TJMP-2018-0010",
        "tj_famous_brand",
        "金沽牌小站米",
        "Jingu Xiaozhan rice",
        "天津金沽粮油有限公司",
        "120112",
        "food",
        8 * Y,
        _fb("大米", "GB/T 1354-2018", "18000"),
    ),
    # --- 老字号 ---
    DemoEntry(
        "DEMO-ZHLZH-TJ-0001",
        "china_time_honoured",
        "狗不理",
        "Goubuli",
        "天津狗不理示范餐饮有限公司",
        "120101",
        "catering",
        15 * Y,
        {
            **_lzh(1858, "第1234567号（演示）", "包子制作、餐饮服务"),
            "heritage_item": "狗不理包子传统手工制作技艺",
        },
    ),
    DemoEntry(
        "DEMO-ZHLZH-TJ-0002",
        "china_time_honoured",
        "桂发祥十八街",
        "Guifaxiang Shibajie",
        "天津桂发祥示范食品有限公司",
        "120103",
        "food",
        15 * Y,
        {
            **_lzh(1927, "第2234567号（演示）", "麻花及传统糕点"),
            "heritage_item": "桂发祥十八街麻花制作技艺",
        },
    ),
    DemoEntry(
        "DEMO-ZHLZH-TJ-0003",
        "china_time_honoured",
        "耳朵眼",
        "Erduoyan",
        "天津耳朵眼示范食品有限公司",
        "120106",
        "food",
        15 * Y,
        _lzh(1900, "第3234567号（演示）", "炸糕、酒类"),
    ),
    DemoEntry(
        "DEMO-ZHLZH-TJ-0004",
        "china_time_honoured",
        "达仁堂",
        "Darentang",
        "天津达仁堂示范制药有限公司",
        "120102",
        "pharma",
        15 * Y,
        _lzh(1914, "第4234567号（演示）", "中成药制造"),
    ),
    DemoEntry(
        "DEMO-ZHLZH-TJ-0005",
        "china_time_honoured",
        "隆顺榕",
        "Longshunrong",
        "天津隆顺榕示范药业有限公司",
        "120102",
        "pharma",
        15 * Y,
        _lzh(1833, "第5234567号（演示）", "中成药制造"),
    ),
    DemoEntry(
        "DEMO-ZHLZH-TJ-0006",
        "china_time_honoured",
        "老美华",
        "Laomeihua",
        "天津老美华示范鞋业有限公司",
        "120101",
        "retail",
        15 * Y,
        _lzh(1911, "第6234567号（演示）", "手工布鞋"),
        actions=[
            ("pass_with_conditions", "2023年复核附条件通过：门店标识与传统工艺展示须整改", 100, 80)
        ],
    ),
    DemoEntry(
        "DEMO-ZHLZH-TJ-0007",
        "china_time_honoured",
        "盛锡福",
        "Shengxifu",
        "天津盛锡福示范帽业有限公司",
        "120101",
        "crafts",
        15 * Y,
        _lzh(1911, "第7234567号（演示）", "帽子制作"),
    ),
    DemoEntry(
        "DEMO-ZHLZH-TJ-0008",
        "china_time_honoured",
        "正兴德",
        "Zhengxingde",
        "天津正兴德示范茶业有限公司",
        "120106",
        "retail",
        15 * Y,
        _lzh(1738, "第8234567号（演示）", "茶叶"),
        actions=[("remove", "2023年复核未通过，移出中华老字号名录", 2 * Y + 200, None)],
    ),
    DemoEntry(
        "DEMO-TJLZH-0001",
        "tianjin_time_honoured",
        "起士林",
        "Kiessling",
        "天津起士林示范餐饮有限公司",
        "120101",
        "catering",
        12 * Y,
        _lzh(1901, "第9234567号（演示）", "西餐、西点"),
    ),
    DemoEntry(
        "DEMO-TJLZH-0002",
        "tianjin_time_honoured",
        "果仁张",
        "Guorenzhang",
        "天津果仁张示范食品有限公司",
        "120104",
        "food",
        12 * Y,
        _lzh(1830, "第1034567号（演示）", "果仁炒货"),
    ),
    DemoEntry(
        "DEMO-TJLZH-0003",
        "tianjin_time_honoured",
        "登瀛楼",
        "Dengyinglou",
        "天津登瀛楼示范餐饮有限公司",
        "120101",
        "catering",
        12 * Y,
        _lzh(1913, "第1134567号（演示）", "津菜餐饮"),
    ),
    DemoEntry(
        "DEMO-TJLZH-0004",
        "tianjin_time_honoured",
        "崩豆张",
        "Bengdouzhang",
        "天津崩豆张示范食品有限公司",
        "120105",
        "food",
        12 * Y,
        _lzh(1900, "第1234568号（演示）", "炒豆、果仁"),
        actions=[("withdraw", "企业经营范围调整，主动申请退出", 300, None)],
    ),
    DemoEntry(
        "DEMO-JMLZH-0001",
        "jinmen_time_honoured",
        "石头门坎素包",
        "Shitoumenkan vegetarian buns",
        "天津石头门坎示范餐饮有限公司",
        "120101",
        "catering",
        10 * Y,
        _lzh(1920, "第1334567号（演示）", "素包子"),
    ),
    DemoEntry(
        "DEMO-JMLZH-0002",
        "jinmen_time_honoured",
        "大福来",
        "Dafulai",
        "天津大福来示范餐饮有限公司",
        "120106",
        "catering",
        10 * Y,
        _lzh(1920, "第1434567号（演示）", "锅巴菜"),
        actions=[("suspend", "食品安全检查发现问题，暂停使用老字号标识待整改", 40, None)],
    ),
    DemoEntry(
        "DEMO-TJLZH-0005",
        "tianjin_time_honoured",
        "利顺德",
        "Astor Hotel (Lishunde)",
        "天津利顺德示范酒店管理有限公司",
        "120101",
        "services",
        12 * Y,
        _lzh(1863, "第1534567号（演示）", "酒店服务"),
    ),
    DemoEntry(
        "DEMO-JMLZH-0003",
        "jinmen_time_honoured",
        "白记饺子",
        "Baiji dumplings",
        "天津白记示范餐饮有限公司",
        "120106",
        "catering",
        10 * Y,
        _lzh(1920, "第1634567号（演示）", "清真水饺"),
    ),
    # --- 津农精品 ---
    DemoEntry(
        "DEMO-JNQY-0001",
        "jinnong_regional",
        "小站稻",
        "Xiaozhan rice",
        "天津市津南区小站稻产业协会",
        "120112",
        "grain",
        2 * Y,
        {
            "trademark_no": "第10234567号（演示）",
            "covered_area": "津南区、宝坻区、宁河区等小站稻种植区",
            "annual_sales": "350000",
            "quality_control": "统一标准、统一品种、全程追溯",
        },
    ),
    DemoEntry(
        "DEMO-JNQY-0002",
        "jinnong_regional",
        "沙窝萝卜",
        "Shawo radish",
        "天津市西青区沙窝萝卜协会",
        "120111",
        "vegetables",
        1 * Y,
        {
            "trademark_no": "第10334567号（演示）",
            "covered_area": "西青区辛口镇沙窝村及周边",
            "annual_sales": "42000",
            "quality_control": "绿色生产技术规程、产品追溯",
        },
    ),
    DemoEntry(
        "DEMO-JNQY-0003",
        "jinnong_regional",
        "七里海河蟹",
        "Qilihai river crab",
        "天津市宁河区七里海河蟹协会",
        "120117",
        "fish",
        2 * Y + 100,
        {
            "trademark_no": "第10434567号（演示）",
            "covered_area": "宁河区七里海湿地周边",
            "annual_sales": "88000",
            "quality_control": "生态养殖规范、抽检制度",
        },
    ),
    DemoEntry(
        "DEMO-JNQP-0001",
        "jinnong_enterprise",
        "津禾",
        "Jinhe",
        "天津津禾农业科技有限公司",
        "120115",
        "grain",
        2 * Y,
        _jn("第20234567号（演示）", "52000", "ISO 9001、HACCP"),
    ),
    DemoEntry(
        "DEMO-JNQP-0002",
        "jinnong_enterprise",
        "海河牧歌",
        "Haihe Muge",
        "天津海河牧歌牧业有限公司",
        "120114",
        "dairy",
        1 * Y,
        _jn("第20334567号（演示）", "130000", "ISO 22000、奶源全程追溯"),
    ),
    DemoEntry(
        "DEMO-JNQP-0003",
        "jinnong_enterprise",
        "蓟州山珍",
        "Jizhou Shanzhen",
        "天津蓟州山珍农产品有限公司",
        "120119",
        "fruit",
        3 * Y + 60,
        _jn("第20434567号（演示）", "8600", "良好农业规范"),
    ),
    DemoEntry(
        "DEMO-JNQP-0004",
        "jinnong_enterprise",
        "津沽鲜",
        "Jingu Xian",
        "天津津沽鲜蛋业有限公司",
        "120113",
        "eggs",
        2 * Y,
        _jn("第20534567号（演示）", "21000", "HACCP"),
        actions=[("suspend", "监督抽检鸡蛋兽药残留超标，暂停使用津农精品标志", 20, None)],
    ),
    DemoEntry(
        "DEMO-JNCP-0001",
        "jinnong_product",
        "津沽香稻米",
        "Jingu fragrant rice",
        "天津津沽香米业有限公司",
        "120112",
        "grain",
        1 * Y,
        _jn("第30234567号（演示）", "19000", "绿色食品生产规程、批次追溯"),
    ),
    DemoEntry(
        "DEMO-JNCP-0002",
        "jinnong_product",
        "宝坻黄板泥鳅",
        "Baodi yellow-plate loach",
        "天津宝坻泥鳅养殖合作社",
        "120115",
        "fish",
        1 * Y + 100,
        _jn("第30334567号（演示）", "6400", "无公害养殖规范", credit="fair"),
    ),
    DemoEntry(
        "DEMO-JNCP-0003",
        "jinnong_product",
        "茶淀玫瑰香葡萄",
        "Chadian Muscat Hamburg grapes",
        "天津茶淀葡萄种植有限公司",
        "120116",
        "fruit",
        2 * Y,
        _jn("第30434567号（演示）", "23000", "标准化种植、农残检测"),
    ),
    DemoEntry(
        "DEMO-JNCP-0004",
        "jinnong_product",
        "渤海湾对虾",
        "Bohai Bay prawns",
        "天津渤海湾水产有限公司",
        "120116",
        "fish",
        3 * Y + 30,
        _jn("第30534567号（演示）", "31000", "HACCP"),
    ),
    DemoEntry(
        "DEMO-JNCP-0005",
        "jinnong_product",
        "津育1号玉米种",
        "Jinyu No. 1 maize seed",
        "天津津育种业有限公司",
        "120114",
        "seeds",
        200,
        _jn("第30634567号（演示）", "12000", "种子质量检验体系"),
    ),
    DemoEntry(
        "DEMO-JNCP-0006",
        "jinnong_product",
        "海河鲜牛奶",
        "Haihe fresh milk",
        "天津海河鲜乳品有限公司",
        "120110",
        "dairy",
        2 * Y,
        _jn("第30734567号（演示）", "99000", "ISO 22000"),
        actions=[("revoke", "以欺骗手段取得认定，撤销津农精品称号", 60, None)],
    ),
    # --- certifications ---
    DemoEntry(
        "GF120112250001",
        "green_food",
        "津南小站稻米",
        "Jinnan Xiaozhan rice",
        "天津津南绿色米业有限公司",
        "120112",
        "grain",
        300,
        {"product_no": "LB-01-2501120001（演示）", "annual_output_tonnes": "5000"},
    ),
    DemoEntry(
        "GF120115240002",
        "green_food",
        "宝坻黄板泥鳅",
        "Baodi loach",
        "天津宝坻绿水产有限公司",
        "120115",
        "aquatic",
        2 * Y,
        {"product_no": "LB-44-2401150002（演示）", "annual_output_tonnes": "800"},
    ),
    DemoEntry(
        "GF120111230003",
        "green_food",
        "西青沙窝萝卜",
        "Xiqing Shawo radish",
        "天津西青绿蔬合作社",
        "120111",
        "vegetables",
        3 * Y + 20,
        {"product_no": "LB-15-2301110003（演示）", "annual_output_tonnes": "2600"},
    ),
    DemoEntry(
        "GF120119250004",
        "green_food",
        "蓟州板栗",
        "Jizhou chestnuts",
        "天津蓟州绿林果品有限公司",
        "120119",
        "fruit",
        150,
        {"product_no": "LB-18-2501190004（演示）"},
    ),
    DemoEntry(
        "GF120114240005",
        "green_food",
        "武清鲜鸡蛋",
        "Wuqing fresh eggs",
        "天津武清禽蛋有限公司",
        "120114",
        "livestock",
        1 * Y + 40,
        {"product_no": "LB-43-2401140005（演示）"},
        actions=[("revoke", "年度抽检不合格，撤销绿色食品标志使用权", 30, None)],
    ),
    DemoEntry(
        "GF120117250006",
        "green_food",
        "宁河河蟹",
        "Ninghe river crab",
        "天津宁河绿色水产有限公司",
        "120117",
        "aquatic",
        250,
        {"product_no": "LB-44-2501170006（演示）"},
        actions=[("withdraw", "企业停产，主动放弃标志使用权", 15, None)],
    ),
    DemoEntry(
        "GF120118250007",
        "green_food",
        "静海金丝小枣",
        "Jinghai golden-thread jujube",
        "天津静海枣业有限公司",
        "120118",
        "fruit",
        400,
        {"product_no": "LB-18-2501180007（演示）", "annual_output_tonnes": "1200"},
    ),
    DemoEntry(
        "ORG-DEMO-2025-0101",
        "organic",
        "七里海有机稻米",
        "Qilihai organic rice",
        "天津七里海有机农业有限公司",
        "120117",
        "grain",
        200,
        _org(*BODY_A, organic_code="12101200000000001（演示）", base_area_mu="3000"),
    ),
    DemoEntry(
        "ORG-DEMO-2024-0102",
        "organic",
        "蓟州有机蜂蜜",
        "Jizhou organic honey",
        "天津蓟州蜂业有限公司",
        "120119",
        "processed",
        Y + 60,
        _org(*BODY_A, base_area_mu="500"),
    ),
    DemoEntry(
        "ORG-DEMO-2025-0103",
        "organic",
        "静海有机蔬菜",
        "Jinghai organic vegetables",
        "天津静海有机蔬菜合作社",
        "120118",
        "vegetables",
        100,
        _org(*BODY_B, organic_code="12101200000000003（演示）"),
    ),
    DemoEntry(
        "ORG-DEMO-2025-0104",
        "organic",
        "北辰有机草莓",
        "Beichen organic strawberries",
        "天津北辰草莓种植有限公司",
        "120113",
        "fruit",
        90,
        _org(*BODY_B),
        actions=[("suspend", "认证机构监督检查发现投入品使用不规范，暂停认证证书", 10, None)],
    ),
    DemoEntry(
        "GAP-DEMO-2025-0201",
        "gap",
        "津南设施蔬菜",
        "Jinnan greenhouse vegetables",
        "天津津南设施农业有限公司",
        "120112",
        "vegetables",
        120,
        _org(*BODY_B, gap_level="level1"),
    ),
    DemoEntry(
        "GAP-DEMO-2024-0202",
        "gap",
        "西青葡萄",
        "Xiqing grapes",
        "天津西青葡萄园有限公司",
        "120111",
        "fruit",
        Y + 30,
        _org(*BODY_A, gap_level="level2"),
    ),
    DemoEntry(
        "GP-DEMO-2024-0301",
        "green_product",
        "津门牌节能玻璃",
        "Jinmen energy-saving glass",
        "天津津门建材有限公司",
        "120116",
        "other",
        2 * Y,
        _org(*BODY_B),
    ),
    DemoEntry(
        "WGH-2017-0001",
        "pollution_free",
        "宝坻大蒜",
        "Baodi garlic",
        "天津宝坻蒜业合作社",
        "120115",
        "vegetables",
        9 * Y,
        {"product_no": "WNP-12-17-0001（演示）"},
    ),
    # --- geographic indications (holders are associations; users are enterprises) ---
    DemoEntry(
        "DEMO-GI-TM-0001",
        "gi_trademark",
        "小站稻",
        "Xiaozhan rice",
        "天津市小站稻产业协会",
        "120112",
        "grain",
        8 * Y,
        _gi(
            "天津市津南区、宝坻区、宁河区、东丽区、西青区、静海区、武清区等小站稻种植区域",
            "T/TJXZD 001-2021（演示）",
            trademark_no="第30000001号（演示）",
        ),
        users=[
            ("天津小站稻米业有限公司", "120112", 3 * Y, None, ""),
            ("天津宁河稻香农业有限公司", "120117", 2 * Y, None, ""),
            (
                "天津宝坻稻丰合作社",
                "120115",
                2 * Y,
                "suspend",
                "使用人产品抽检不符合小站稻标准，暂停使用地理标志",
            ),
        ],
    ),
    DemoEntry(
        "AGI-DEMO-0001",
        "agri_gi",
        "沙窝萝卜",
        "Shawo radish",
        "天津市西青区沙窝萝卜协会",
        "120111",
        "vegetables",
        12 * Y,
        _gi("天津市西青区辛口镇沙窝村等12个行政村", "沙窝萝卜质量控制技术规范（演示）"),
        users=[
            ("天津沙窝萝卜种植有限公司", "120111", 4 * Y, None, ""),
            ("天津辛口农产品合作社", "120111", 3 * Y, None, ""),
        ],
    ),
    DemoEntry(
        "GIP-DEMO-0001",
        "gi_protected_product",
        "茶淀玫瑰香葡萄",
        "Chadian Muscat Hamburg grape",
        "天津市滨海新区茶淀葡萄协会",
        "120116",
        "fruit",
        10 * Y,
        _gi(
            "天津市滨海新区茶淀街道现辖行政区域",
            "DB12/T 茶淀玫瑰香葡萄（演示）",
            announcement_no="国家知识产权局公告第XXX号（演示）",
        ),
        users=[
            ("天津茶淀玫瑰香酒庄有限公司", "120116", 5 * Y, None, ""),
            (
                "天津滨海葡萄种植专业合作社",
                "120116",
                4 * Y,
                "revoke",
                "超出保护范围使用地理标志，撤销使用资格",
            ),
        ],
    ),
    DemoEntry(
        "AGI-DEMO-0002",
        "agri_gi",
        "七里海河蟹",
        "Qilihai river crab",
        "天津市宁河区七里海河蟹协会",
        "120117",
        "aquatic",
        11 * Y,
        _gi("天津市宁河区七里海湿地及周边养殖区域", "七里海河蟹质量控制技术规范（演示）"),
        users=[
            ("天津七里海水产养殖有限公司", "120117", 4 * Y, None, ""),
            ("天津宁河蟹业合作社", "120117", 2 * Y, None, ""),
        ],
    ),
    DemoEntry(
        "AGI-DEMO-0003",
        "agri_gi",
        "宝坻黄板泥鳅",
        "Baodi yellow-plate loach",
        "天津市宝坻区黄板泥鳅协会",
        "120115",
        "aquatic",
        9 * Y,
        _gi("天津市宝坻区八门城镇等11个镇", "宝坻黄板泥鳅质量控制技术规范（演示）"),
        users=[
            ("天津宝坻泥鳅养殖有限公司", "120115", 3 * Y, None, ""),
            ("天津八门城水产合作社", "120115", 2 * Y, None, ""),
        ],
    ),
    DemoEntry(
        "AGI-DEMO-0004",
        "agri_gi",
        "崔庄冬枣",
        "Cuizhuang winter jujube",
        "天津市滨海新区崔庄冬枣协会",
        "120116",
        "fruit",
        9 * Y,
        _gi("天津市滨海新区大港太平镇崔庄村及周边", "崔庄冬枣质量控制技术规范（演示）"),
        users=[("天津崔庄冬枣种植有限公司", "120116", 3 * Y, None, "")],
    ),
    DemoEntry(
        "GIP-DEMO-0002",
        "gi_protected_product",
        "盘山磨盘柿",
        "Panshan millstone persimmon",
        "天津市蓟州区盘山磨盘柿协会",
        "120119",
        "fruit",
        8 * Y,
        _gi("天津市蓟州区官庄镇、下营镇等盘山周边", "盘山磨盘柿产品标准（演示）"),
        users=[("天津盘山果品有限公司", "120119", 3 * Y, None, "")],
    ),
    DemoEntry(
        "AGI-DEMO-0005",
        "agri_gi",
        "黄花山核桃",
        "Huanghuashan walnut",
        "天津市蓟州区黄花山核桃协会",
        "120119",
        "fruit",
        7 * Y,
        _gi("天津市蓟州区下营镇黄花山周边", "黄花山核桃质量控制技术规范（演示）"),
    ),
]


@dataclass
class DemoResult:
    entries_created: int = 0
    users_created: int = 0
    entries_total: int = 0


async def load_demo(today: dt.date | None = None) -> DemoResult:
    """Create the demo entries that are missing; a second run changes nothing."""
    await seed_registers()
    on = today or entry_service.today()
    result = DemoResult()
    for demo in DEMO_ENTRIES:
        association = demo.subtype.startswith(("gi_", "agri_gi", "jinnong_regional"))
        holder = demo.company + DEMO_MARK
        uscc = _fake_uscc(holder, demo.district, association)
        if not await Entry.exists().where(Entry.entry_no == demo.entry_no):
            await upsert_enterprise(uscc, holder, demo.district, is_demo=True)
            start = on - dt.timedelta(days=demo.start_days_ago)
            new = entry_service.NewEntry(
                subtype=demo.subtype,
                name=demo.name,
                name_en=demo.name_en,
                enterprise_uscc=uscc,
                valid_from=start,
                entry_no=demo.entry_no,
                district_code=demo.district,
                industry=demo.industry,
                extra=demo.extra,
                description="演示数据，不代表真实认定。Demo data, not a real listing.",
                is_demo=True,
            )
            await entry_service.create_entry(new, signed_by=DEMO_SIGNER)
            for action, reason, days_ago, deadline_days in demo.actions:
                when = on - dt.timedelta(days=days_ago)
                await entry_service.change_entry_status(
                    demo.entry_no,
                    action,
                    reason,
                    signed_by=DEMO_SIGNER,
                    deadline=on + dt.timedelta(days=deadline_days) if deadline_days else None,
                    on=when if not deadline_days else on,
                    at=dt.datetime.combine(when, dt.time(10, 30), tzinfo=dt.UTC),
                )
            result.entries_created += 1
        for company, district, start_days, action, reason in demo.users:
            user_name = company + DEMO_MARK
            user_uscc = _fake_uscc(user_name, district)
            entry = await Entry.objects().get(Entry.entry_no == demo.entry_no)
            existing = await AuthorisedUser.exists().where(
                (AuthorisedUser.entry == entry.id) & (AuthorisedUser.enterprise.uscc == user_uscc)
            )
            if existing:
                continue
            await upsert_enterprise(user_uscc, user_name, district, is_demo=True)
            user = await entry_service.add_authorised_user(
                demo.entry_no,
                user_uscc,
                valid_from=on - dt.timedelta(days=start_days),
                valid_until=on - dt.timedelta(days=start_days) + dt.timedelta(days=5 * Y),
                signed_by=DEMO_SIGNER,
            )
            if action:
                await entry_service.change_authorised_user_status(
                    user.user_no, action, reason, signed_by=DEMO_SIGNER, on=on
                )
            result.users_created += 1
    result.entries_total = await Entry.count()
    return result
