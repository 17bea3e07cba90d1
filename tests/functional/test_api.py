"""The public JSON API (/api/v1) on the demo data, through the real app."""

from __future__ import annotations

import datetime as dt
import math
import re

import pytest

from registry.services.entries import today

VERIFY_URL = re.compile(r"^HTTPS://BRAND\.EXAMPLE\.TEST/V/[0-9A-Z]{24}$")
ALL_STATUSES = ("active", "conditional", "suspended", "revoked", "withdrawn", "expired", "removed")
RESULT_FOR_STATUS = {
    "active": "valid",
    "conditional": "valid_with_conditions",
    "suspended": "suspended",
    "revoked": "revoked",
    "withdrawn": "withdrawn",
    "expired": "expired",
    "removed": "removed",
}
REQUIRED_KEYS = {
    "entry_no",
    "name",
    "register",
    "subtype",
    "status",
    "valid_from",
    "valid_until",
    "enterprise",
    "verify_url",
    "qr_png_url",
    "qr_svg_url",
}
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def token_of(verify_url: str) -> str:
    return verify_url.rsplit("/V/", 1)[1]


def forge(token: str, position: int = -1) -> str:
    """The same token with one character changed to another valid code character."""
    chars = list(token)
    old = chars[position]
    chars[position] = CROCKFORD[(CROCKFORD.index(old) + 1) % len(CROCKFORD)]
    return "".join(chars)


def list_entries(client, **params) -> dict:
    response = client.get("/api/v1/entries", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def all_pages(client, **params) -> list[dict]:
    items, page = [], 1
    while True:
        body = list_entries(client, page=page, page_size=100, **params)
        items.extend(body["items"])
        if page >= body["pages"]:
            return items
        page += 1


# --- registers --------------------------------------------------------------------------


def test_registers_lists_the_five_registers_with_their_real_defaults(demo_db, client):
    response = client.get("/api/v1/registers")
    assert response.status_code == 200
    registers = {r["code"]: r for r in response.json()}
    assert set(registers) == {
        "famous_brand",
        "time_honoured",
        "jinnong",
        "certification",
        "geographic_indication",
    }
    subtypes = {s["code"]: s for r in registers.values() for s in r["subtypes"]}
    assert len(subtypes) == 15

    famous = registers["famous_brand"]
    assert famous["open_for_applications"] is False
    assert "2018" in famous["closed_note_zh"]
    (tj_famous,) = famous["subtypes"]
    assert tj_famous["validity_years"] == 3
    assert tj_famous["notice_days"] == 7 and tj_famous["notice_working_days"] is False

    honoured = registers["time_honoured"]
    assert honoured["open_for_applications"] is True
    assert {s["code"] for s in honoured["subtypes"]} == {
        "china_time_honoured",
        "tianjin_time_honoured",
        "jinmen_time_honoured",
    }
    for sub in honoured["subtypes"]:
        assert sub["validity_years"] is None
        assert sub["notice_days"] == 15 and sub["notice_working_days"] is True
        founded = {f["key"]: f for f in sub["extra_fields"]}["founded_year"]
        assert founded["required"] is True and founded["type"] == "year"

    jinnong = registers["jinnong"]
    assert {s["code"] for s in jinnong["subtypes"]} == {
        "jinnong_regional",
        "jinnong_enterprise",
        "jinnong_product",
    }
    assert all(s["validity_years"] == 3 for s in jinnong["subtypes"])
    assert {i["zh"] for i in jinnong["industries"]} >= set("肉蛋菜奶鱼果粮种")

    assert subtypes["organic"]["validity_years"] == 1
    assert subtypes["organic"]["notice_days"] is None
    assert subtypes["green_food"]["validity_years"] == 3

    agri_gi = subtypes["agri_gi"]
    assert agri_gi["validity_years"] is None
    assert agri_gi["notice_days"] == 20 and agri_gi["notice_working_days"] is False


# --- entries list -----------------------------------------------------------------------


def test_entries_cover_every_register_and_status(demo_items):
    assert len(demo_items) >= 60
    items = list(demo_items.values())
    assert {i["register"] for i in items} == {
        "famous_brand",
        "time_honoured",
        "jinnong",
        "certification",
        "geographic_indication",
    }
    assert {i["status"] for i in items} == set(ALL_STATUSES)


def test_every_entry_has_the_required_keys_and_an_uppercase_verify_url(demo_items):
    seen_tokens = set()
    for item in demo_items.values():
        missing = REQUIRED_KEYS - set(item)
        assert not missing, (item["entry_no"], missing)
        assert set(item["enterprise"]) >= {"name", "uscc"}
        assert len(item["enterprise"]["uscc"]) == 18
        assert item["name"]
        assert VERIFY_URL.match(item["verify_url"]), item["verify_url"]
        token = token_of(item["verify_url"])
        assert item["qr_png_url"].endswith(f"/qr/{token}.png")
        assert item["qr_svg_url"].endswith(f"/qr/{token}.svg")
        seen_tokens.add(token)
    assert len(seen_tokens) == len(demo_items), "two entries share a verification code"


def test_total_and_pages_are_consistent(demo_items, client):
    body = list_entries(client, page_size=100)
    assert body["total"] == len(demo_items)
    assert body["pages"] == 1
    assert body["page"] == 1 and body["page_size"] == 100


def test_pagination_has_no_overlap_and_no_gap(demo_items, client):
    size = 7
    first = list_entries(client, page=1, page_size=size)
    total = first["total"]
    assert total == len(demo_items)
    assert first["pages"] == math.ceil(total / size)
    seen: list[str] = []
    for page in range(1, first["pages"] + 1):
        body = list_entries(client, page=page, page_size=size)
        assert body["page"] == page and body["page_size"] == size and body["total"] == total
        expected = size if page < body["pages"] else total - size * (body["pages"] - 1)
        assert len(body["items"]) == expected
        seen.extend(i["entry_no"] for i in body["items"])
    assert len(seen) == len(set(seen)), "an entry appears on two pages"
    assert set(seen) == set(demo_items)
    past_the_end = list_entries(client, page=first["pages"] + 1, page_size=size)
    assert past_the_end["items"] == [] and past_the_end["total"] == total


def _numbers(items) -> set[str]:
    return {i["entry_no"] for i in items}


@pytest.mark.parametrize(
    "params",
    [
        {"register": "jinnong"},
        {"register": "time_honoured"},
        {"subtype": "organic"},
        {"district": "120112"},
        {"status": "suspended"},
        {"status": "expired"},
        {"status": "active"},
        {"register": "jinnong", "status": "active"},
        {"register": "certification", "district": "120112", "status": "active"},
        {"register": "jinnong", "subtype": "jinnong_product", "status": "revoked"},
    ],
    ids=lambda p: "&".join(f"{k}={v}" for k, v in p.items()),
)
def test_filters_select_exactly_the_matching_entries(demo_items, client, params):
    keys = {"register": "register", "subtype": "subtype", "district": None, "status": "status"}
    expected = set()
    for no, item in demo_items.items():
        ok = True
        for key, value in params.items():
            if key == "district":
                ok &= item["district"] == value
            else:
                ok &= item[keys[key]] == value
        if ok:
            expected.add(no)
    assert expected, f"the demo data should have entries for {params}"
    got = all_pages(client, **params)
    assert _numbers(got) == expected
    assert list_entries(client, page_size=1, **params)["total"] == len(expected)


@pytest.mark.parametrize(
    "q, must_include",
    [
        ("小站", {"DEMO-JNQY-0001", "DEMO-GI-TM-0001", "GF120112250001"}),
        ("狗不理", {"DEMO-ZHLZH-TJ-0001"}),
        ("demo-jnqy", {"DEMO-JNQY-0001", "DEMO-JNQY-0002", "DEMO-JNQY-0003"}),
        ("Xiaozhan", {"DEMO-JNQY-0001", "GF120112250001"}),
        ("茶淀葡萄协会", {"GIP-DEMO-0001"}),  # the holder's name
    ],
)
def test_search_q_matches_names_numbers_and_enterprises(demo_items, client, q, must_include):
    got = all_pages(client, q=q)
    assert must_include <= _numbers(got)
    needle = q.lower()
    for item in got:
        haystack = " ".join(
            [
                item["name"],
                item["name_en"],
                item["entry_no"],
                item["enterprise"]["name"],
                item["enterprise"]["uscc"],
            ]
        ).lower()
        assert needle in haystack, (q, item["entry_no"])


@pytest.mark.parametrize(
    "q, expected", [("xiaozhan", "DEMO-JNQY-0001"), ("goubuli", "DEMO-ZHLZH-TJ-0001")]
)
def test_search_ignores_the_case_of_english_names(demo_items, client, q, expected):
    got = _numbers(all_pages(client, q=q))
    assert expected in got
    assert got == _numbers(all_pages(client, q=q.upper()))


def test_search_by_credit_code_finds_the_enterprise_entries(demo_items, client):
    item = demo_items["DEMO-ZHLZH-TJ-0001"]
    uscc = item["enterprise"]["uscc"]
    got = all_pages(client, q=uscc)
    assert "DEMO-ZHLZH-TJ-0001" in _numbers(got)
    assert all(i["enterprise"]["uscc"] == uscc for i in got)


def test_q_combines_with_register_and_status(demo_items, client):
    everything = _numbers(all_pages(client, q="小站"))
    combined = all_pages(client, q="小站", register="geographic_indication", status="active")
    assert _numbers(combined) == {"DEMO-GI-TM-0001"}
    assert _numbers(combined) < everything


def test_unmatched_query_is_an_empty_page_not_an_error(demo_db, client):
    body = list_entries(client, q="没有这个品牌")
    assert body["items"] == [] and body["total"] == 0 and body["pages"] == 0


@pytest.mark.parametrize(
    "query, field_hint",
    [
        ("register=nope", "register"),
        ("status=nope", "status"),
        ("page=0", "page"),
        ("page=abc", "page"),
        ("page_size=1000", "page_size"),
        ("page_size=0", "page_size"),
        ("district=999999", "district"),
        ("register=jinnong&subtype=organic", "subtype"),
    ],
)
def test_bad_parameters_answer_400_in_both_languages(demo_db, client, query, field_hint):
    response = client.get(f"/api/v1/entries?{query}")
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["message_zh"] and body["message_en"]
    assert re.search(r"[\u4e00-\u9fff]", body["message_zh"]), body["message_zh"]
    assert field_hint in body["message_en"]


# --- one entry ---------------------------------------------------------------------------


def test_entry_detail_has_history_with_signer(demo_items, client):
    response = client.get("/api/v1/entries/DEMO-TJMP-2017-0004")
    assert response.status_code == 200
    entry = response.json()
    assert entry["status"] == "revoked"
    assert entry["status_reason"] == "产品质量监督抽查不合格，经复查仍不合格"
    assert entry["verify_url"] == demo_items["DEMO-TJMP-2017-0004"]["verify_url"]
    history = entry["history"]
    assert [h["to_status"] for h in history] == ["revoked", "active"]  # newest first
    assert history[0]["from_status"] == "active"
    assert history[0]["reason"] == entry["status_reason"]
    assert all(h["signed_by"] for h in history)
    assert entry["authorised_users"] == []


def test_gi_detail_lists_authorised_users_with_their_own_codes(demo_items, client):
    response = client.get("/api/v1/entries/DEMO-GI-TM-0001")
    assert response.status_code == 200
    entry = response.json()
    users = entry["authorised_users"]
    assert len(users) == 3
    assert {u["status"] for u in users} == {"active", "suspended"}
    entry_token = token_of(entry["verify_url"])
    for user in users:
        assert user["user_no"].startswith("DEMO-GI-TM-0001-U")
        assert len(user["enterprise"]["uscc"]) == 18
        assert user["enterprise"]["uscc"] != entry["enterprise"]["uscc"]
        assert VERIFY_URL.match(user["verify_url"])
        assert token_of(user["verify_url"]) != entry_token
    # The history records the users' own changes too, each signed.
    user_rows = [h for h in entry["history"] if h["authorised_user_no"]]
    assert {h["authorised_user_no"] for h in user_rows} == {u["user_no"] for u in users}
    assert any(h["to_status"] == "suspended" for h in user_rows)
    assert all(h["signed_by"] for h in entry["history"])


def test_unknown_entry_is_404_with_both_languages(demo_db, client):
    response = client.get("/api/v1/entries/NO-SUCH-ENTRY")
    assert response.status_code == 404
    body = response.json()
    assert "NO-SUCH-ENTRY" in body["message_zh"] and "NO-SUCH-ENTRY" in body["message_en"]


def test_english_labels_on_request(demo_items, client):
    body = client.get("/api/v1/entries/DEMO-ZHLZH-TJ-0001", params={"lang": "en"}).json()
    assert body["register_name"] == "Time-honoured brands"
    assert body["status_label"] == "Valid"
    zh = client.get("/api/v1/entries/DEMO-ZHLZH-TJ-0001").json()
    assert zh["register_name"] == "老字号" and zh["status_label"] == "有效"


# --- verification ------------------------------------------------------------------------


def _verify(client, token: str):
    return client.get(f"/api/v1/verify/{token}")


@pytest.mark.parametrize("status", ALL_STATUSES)
def test_verify_reports_each_status(demo_items, client, status):
    item = next(i for i in demo_items.values() if i["status"] == status)
    token = token_of(item["verify_url"])
    response = _verify(client, token)
    assert response.status_code == 200
    body = response.json()
    assert body["result"] == RESULT_FOR_STATUS[status]
    assert body["genuine"] is True
    assert body["decided_by"] == "entry"
    assert body["token"] == token
    assert body["entry"]["entry_no"] == item["entry_no"]
    assert body["entry"]["enterprise"]["uscc"] == item["enterprise"]["uscc"]
    assert body["message_zh"] and body["message_en"]
    if status not in ("active", "expired"):
        detail = client.get(f"/api/v1/entries/{item['entry_no']}").json()
        assert body["reason"] == detail["status_reason"] != ""


def test_expiry_follows_the_dates(demo_items):
    on = today()
    for item in demo_items.values():
        until = item["valid_until"] and dt.date.fromisoformat(item["valid_until"])
        if item["status"] == "expired":
            assert until and until < on, item["entry_no"]
        elif item["status"] in ("active", "conditional"):
            assert until is None or until >= on, item["entry_no"]


@pytest.mark.parametrize("position", [-1, 0, 5, 12])
def test_one_changed_character_is_not_genuine(demo_items, client, position):
    item = demo_items["DEMO-ZHLZH-TJ-0001"]
    forged = forge(token_of(item["verify_url"]), position)
    response = _verify(client, forged)
    assert response.status_code == 404
    body = response.json()
    assert body["result"] == "not_genuine"
    assert body["genuine"] is False
    assert body["entry"] is None
    assert body["message_zh"] and body["message_en"]


@pytest.mark.parametrize("text", ["HELLO", "0" * 24, "A" * 32, "not-a-code-at-all"])
def test_garbage_is_not_genuine(demo_db, client, text):
    response = _verify(client, text)
    assert response.status_code == 404
    assert response.json()["result"] == "not_genuine"


def test_lower_case_token_is_accepted(demo_items, client):
    token = token_of(demo_items["DEMO-ZHLZH-TJ-0001"]["verify_url"])
    response = _verify(client, token.lower())
    assert response.status_code == 200
    body = response.json()
    assert body["result"] == "valid"
    assert body["token"] == token
    assert body["entry"]["entry_no"] == "DEMO-ZHLZH-TJ-0001"


def test_authorised_user_codes_verify_on_their_own(demo_items, client):
    gi = client.get("/api/v1/entries/DEMO-GI-TM-0001").json()
    assert gi["status"] == "active"
    by_status = {}
    for user in gi["authorised_users"]:
        by_status.setdefault(user["status"], user)

    suspended = by_status["suspended"]
    body = _verify(client, token_of(suspended["verify_url"])).json()
    assert body["result"] == "suspended"
    assert body["decided_by"] == "authorised_user"
    assert body["genuine"] is True
    assert body["authorised_user"]["user_no"] == suspended["user_no"]
    assert body["authorised_user"]["enterprise"]["uscc"] == suspended["enterprise"]["uscc"]
    assert body["entry"]["entry_no"] == "DEMO-GI-TM-0001"
    assert body["reason"] == suspended["status_reason"] != ""

    active = by_status["active"]
    body = _verify(client, token_of(active["verify_url"])).json()
    assert body["result"] == "valid"
    assert body["decided_by"] == "authorised_user"
    assert body["authorised_user"]["user_no"] == active["user_no"]


def test_revoked_user_of_an_active_gi(demo_items, client):
    gi = client.get("/api/v1/entries/GIP-DEMO-0001").json()
    revoked = next(u for u in gi["authorised_users"] if u["status"] == "revoked")
    body = _verify(client, token_of(revoked["verify_url"])).json()
    assert body["result"] == "revoked" and body["decided_by"] == "authorised_user"
    assert body["reason"] == "超出保护范围使用地理标志，撤销使用资格"


# --- OpenAPI -----------------------------------------------------------------------------


def test_openapi_lists_the_four_api_paths(demo_db, client):
    response = client.get("/schema/openapi.json")
    assert response.status_code == 200
    paths = set(response.json()["paths"])
    assert {
        "/api/v1/registers",
        "/api/v1/entries",
        "/api/v1/entries/{entry_no}",
        "/api/v1/verify/{token}",
    } <= paths
    # Pages and the back office are not part of the API description.
    assert not any(p.startswith(("/V/", "/admin", "/registers")) for p in paths)
