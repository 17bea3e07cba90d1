"""The public pages, rendered by the real app: every page in Chinese and in English,
the verification pages for every outcome, filters, paging and the language switch."""

from __future__ import annotations

import html
import re

import pytest

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
REGISTERS = {
    "famous_brand": ("名牌产品", "Famous-brand products"),
    "time_honoured": ("老字号", "Time-honoured brands"),
    "jinnong": ("津农精品", "Jinnong agricultural brands"),
    "certification": ("绿色食品、有机产品等认证", "Green food, organic and other certifications"),
    "geographic_indication": ("地理标志", "Geographic indications"),
}


def token_of(verify_url: str) -> str:
    return verify_url.rsplit("/V/", 1)[1]


def forge(token: str, position: int = -1) -> str:
    chars = list(token)
    chars[position] = CROCKFORD[(CROCKFORD.index(chars[position]) + 1) % len(CROCKFORD)]
    return "".join(chars)


def text_of(response) -> str:
    """The page's visible text, roughly: tags dropped, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", " ", response.text))


def entry_links(response) -> list[str]:
    return re.findall(r'href="/entries/([^"]+)"', response.text)


def assert_html(response, status: int, lang: str) -> None:
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"].startswith("text/html")
    expected = 'lang="en"' if lang == "en" else 'lang="zh-CN"'
    assert expected in response.text[:200]
    # The switch offers the other language.
    other = "中文" if lang == "en" else "English"
    assert f">{other}</a>" in response.text


# --- every page, both languages ------------------------------------------------------------


def _pages(items):
    valid = token_of(items["DEMO-ZHLZH-TJ-0001"]["verify_url"])
    pages = [
        ("/", 200, "五类名录", "Famous-brand products"),
        ("/search?q=小站", 200, "小站稻", "Xiaozhan rice"),
        ("/search", 200, "查询", "Search"),
        ("/entries/DEMO-ZHLZH-TJ-0001", 200, "狗不理", "Goubuli"),
        ("/verify", 200, "输入代码验证", 'name="code"'),
        (f"/V/{valid}", 200, "真实有效", "Genuine and valid"),
        (f"/v/{valid}", 200, "真实有效", "Genuine and valid"),
        (f"/v/{valid.lower()}", 200, "真实有效", "Genuine and valid"),
        (f"/V/{forge(valid)}", 404, "这不是本名录签发的真实代码", "not a genuine code"),
        ("/admin/", 200, "工作人员登录", "Staff sign-in"),  # redirected to sign-in
        ("/no/such/page", 404, "页面不存在", "Page not found"),
        ("/entries/NO-SUCH-ENTRY", 404, "NO-SUCH-ENTRY", "NO-SUCH-ENTRY"),
        ("/registers/no_such_register", 404, "页面不存在", "Page not found"),
    ]
    for code, (zh, en) in REGISTERS.items():
        pages.append((f"/registers/{code}", 200, zh, en))
    return pages


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_public_page_renders(demo_items, client, lang):
    for path, status, zh_text, en_text in _pages(demo_items):
        sep = "&" if "?" in path else "?"
        url = path + (f"{sep}lang=en" if lang == "en" else "")
        response = client.get(url)
        assert_html(response, status, lang)
        expected = en_text if lang == "en" else zh_text
        assert expected in response.text, (url, expected)


def test_english_pages_show_english_content(demo_items, client):
    token = token_of(demo_items["DEMO-ZHLZH-TJ-0001"]["verify_url"])
    page = client.get(f"/V/{token}?lang=en")
    assert "Genuine and valid" in page.text
    assert "真实有效" not in page.text
    assert "Time-honoured brands" in page.text
    home = client.get("/?lang=en")
    for _zh, en in REGISTERS.values():
        assert en in home.text


def test_language_switch_sets_a_cookie_and_redirects(demo_items, client):
    response = client.get("/lang/en", params={"next": "/"}, follow_redirects=False)
    assert response.status_code in (302, 303)
    assert response.headers["location"] == "/"
    cookie = response.headers["set-cookie"]
    assert re.match(r"lang=en;", cookie), cookie
    assert "max-age" in cookie.lower()

    # The cookie now chooses English without ?lang=en.
    token = token_of(demo_items["DEMO-ZHLZH-TJ-0001"]["verify_url"])
    page = client.get(f"/V/{token}")
    assert_html(page, 200, "en")
    assert "Genuine and valid" in page.text

    # ?lang=zh in the URL wins over the cookie, and /lang/zh switches back.
    assert "真实有效" in client.get(f"/V/{token}?lang=zh").text
    back = client.get("/lang/zh", params={"next": f"/V/{token}"}, follow_redirects=False)
    assert back.headers["location"] == f"/V/{token}"
    assert "真实有效" in client.get(f"/V/{token}").text


def test_language_switch_link_returns_to_the_same_page(demo_items, client):
    page = client.get("/registers/jinnong?status=active")
    link = re.search(r'<a class="lang" href="([^"]+)"', page.text).group(1)
    response = client.get(html.unescape(link), follow_redirects=False)
    assert response.headers["location"] == "/registers/jinnong?status=active"
    english = client.get(response.headers["location"])
    assert_html(english, 200, "en")
    assert "Jinnong agricultural brands" in english.text


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "evil"])
def test_language_switch_never_redirects_off_site(demo_db, client, target):
    response = client.get("/lang/en", params={"next": target}, follow_redirects=False)
    assert response.headers["location"] == "/"


def test_unknown_language_is_404(demo_db, client):
    assert client.get("/lang/fr", follow_redirects=False).status_code == 404


# --- the code form ----------------------------------------------------------------------------


def _messy(token: str) -> str:
    """What a person types: lower case, O for zero, groups with spaces and dashes."""
    typed = token.lower().replace("0", "o")
    groups = [typed[i : i + 4] for i in range(0, len(typed), 4)]
    return " ".join(groups[:3]) + " - " + "-".join(groups[3:])


def test_typed_code_redirects_to_its_verification_page(demo_items, client):
    token = token_of(demo_items["DEMO-ZHLZH-TJ-0001"]["verify_url"])
    assert "0" in token, "the demo token should contain a zero to exercise O -> 0"
    typed = _messy(token)
    assert "o" in typed and " " in typed and "-" in typed
    response = client.get("/verify", params={"code": typed}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/V/{token}"
    page = client.get(response.headers["location"])
    assert page.status_code == 200 and "真实有效" in page.text


def test_pasted_url_redirects_too(demo_items, client):
    url = demo_items["DEMO-ZHLZH-TJ-0001"]["verify_url"]
    response = client.get("/verify", params={"code": url.lower()}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/V/{token_of(url)}"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_short_code_shows_the_form_again_with_a_message(demo_db, client, lang):
    response = client.get("/verify", params={"code": "44 00-1", "lang": lang})
    assert_html(response, 400, lang)
    assert 'name="code"' in response.text
    assert 'value="44 00-1"' in response.text  # what was typed is kept for correcting
    message = re.search(r'<p id="code-error"[^>]*>(.*?)</p>', response.text, re.S)
    assert message, "the form should say what is wrong"
    assert "5" in message.group(1) and "24" in message.group(1)


def test_empty_code_shows_the_form(demo_db, client):
    response = client.get("/verify", params={"code": "  "})
    assert response.status_code == 200
    assert 'id="code-error"' not in response.text


def test_wrong_but_well_formed_code_goes_to_the_not_genuine_page(demo_items, client):
    forged = forge(token_of(demo_items["DEMO-ZHLZH-TJ-0001"]["verify_url"]))
    response = client.get("/verify", params={"code": forged.lower()})  # follows the redirect
    assert response.status_code == 404
    assert "这不是本名录签发的真实代码" in response.text


# --- verification pages -----------------------------------------------------------------------


def test_revoked_entry_page_says_revoked_with_reason_and_signer(demo_items, client):
    token = token_of(demo_items["DEMO-TJMP-2017-0004"]["verify_url"])
    response = client.get(f"/V/{token}")
    assert response.status_code == 200  # inactive listings keep a page that says so
    assert re.search(r'<h1 data-result="revoked">[^<]*撤销', response.text)
    text = text_of(response)
    assert "产品质量监督抽查不合格，经复查仍不合格" in text
    assert "演示数据（demo）" in text  # who signed
    assert "津塔牌钢丝绳" in text
    assert "12315" in text  # what to do about it

    english = client.get(f"/V/{token}?lang=en")
    assert re.search(r'<h1 data-result="revoked">[^<]*revoked', english.text)


@pytest.mark.parametrize(
    "status, zh",
    [
        ("active", "真实有效"),
        ("conditional", "附条件"),
        ("suspended", "暂停"),
        ("revoked", "撤销"),
        ("withdrawn", "注销"),
        ("expired", "过有效期"),
        ("removed", "移出名录"),
    ],
)
def test_verification_page_for_each_status(demo_items, client, status, zh):
    item = next(i for i in demo_items.values() if i["status"] == status)
    response = client.get(f"/V/{token_of(item['verify_url'])}")
    assert response.status_code == 200
    heading = re.search(r'<h1 data-result="([a-z_]+)">([^<]*)</h1>', response.text)
    assert heading, "the verdict is the page's heading"
    assert zh in heading.group(2)
    assert html.unescape(item["name"]) in text_of(response)
    assert item["enterprise"]["uscc"] in response.text
    assert item["entry_no"] in response.text


def test_conditional_pass_shows_its_deadline(demo_items, client):
    item = next(i for i in demo_items.values() if i["status"] == "conditional")
    detail = client.get(f"/api/v1/entries/{item['entry_no']}").json()
    deadline = detail["condition_deadline"]
    assert deadline
    year, month, day = (int(x) for x in deadline.split("-"))
    page = client.get(f"/V/{token_of(item['verify_url'])}")
    assert 'data-result="valid_with_conditions"' in page.text
    assert f"{year}年{month}月{day}日" in text_of(page)
    assert detail["status_reason"] in text_of(page)


def test_authorised_user_page_shows_the_user(demo_items, client):
    gi = client.get("/api/v1/entries/DEMO-GI-TM-0001").json()
    user = next(u for u in gi["authorised_users"] if u["status"] == "suspended")
    response = client.get(f"/V/{token_of(user['verify_url'])}")
    assert response.status_code == 200
    assert 'data-result="suspended"' in response.text
    text = text_of(response)
    assert user["enterprise"]["uscc"] in text and user["user_no"] in text
    assert user["status_reason"] in text
    # Its history is the GI's and this user's, not the other users'.
    for other in gi["authorised_users"]:
        if other["user_no"] != user["user_no"]:
            assert other["user_no"] not in text


def test_forged_code_page_is_404_and_explains_what_to_do(demo_items, client):
    forged = forge(token_of(demo_items["DEMO-ZHLZH-TJ-0001"]["verify_url"]), 10)
    response = client.get(f"/V/{forged}")
    assert response.status_code == 404
    assert 'data-result="not_genuine"' in response.text
    text = text_of(response)
    assert "这不是本名录签发的真实代码" in text
    assert "12315" in text
    assert 'href="/verify"' in response.text  # type it again
    assert "狗不理" not in text  # nothing about the real entry leaks

    english = client.get(f"/V/{forged}?lang=en")
    assert english.status_code == 404
    assert "not a genuine code" in english.text


def test_not_genuine_needs_no_database(demo_items, client, monkeypatch):
    """A forged code is refused by its MAC alone: with every read path broken, still 404."""
    from registry.services import entries, verification

    calls = []

    async def boom(*args, **kwargs):
        calls.append(args)
        raise AssertionError("the database was consulted for a forged code")

    monkeypatch.setattr(verification, "_load", boom)
    monkeypatch.setattr(verification, "get_entry_by_id", boom)
    monkeypatch.setattr(entries, "get_entry_by_id", boom)
    monkeypatch.setattr(verification, "get_authorised_user_by_id", boom)

    forged = forge(token_of(demo_items["DEMO-ZHLZH-TJ-0001"]["verify_url"]))
    page = client.get(f"/V/{forged}")
    assert page.status_code == 404 and "这不是本名录签发的真实代码" in page.text
    api = client.get(f"/api/v1/verify/{forged}")
    assert api.status_code == 404 and api.json()["result"] == "not_genuine"
    assert client.get(f"/qr/{forged}.png").status_code == 404
    assert calls == []

    # The patch is real: a genuine code does reach it (and fails loudly).
    genuine = token_of(demo_items["DEMO-JNQY-0002"]["verify_url"])
    assert client.get(f"/api/v1/verify/{genuine}").status_code == 500
    assert calls


# --- QR images ----------------------------------------------------------------------------


def test_qr_images(demo_items, client):
    item = demo_items["DEMO-ZHLZH-TJ-0001"]
    token = token_of(item["verify_url"])
    png = client.get(f"/qr/{token}.png")
    assert png.status_code == 200
    assert png.headers["content-type"] == "image/png"
    assert png.content.startswith(b"\x89PNG\r\n\x1a\n")
    svg = client.get(f"/qr/{token}.svg")
    assert svg.status_code == 200
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert "<svg" in svg.text and item["verify_url"] in svg.text
    assert client.get(f"/qr/{forge(token)}.png").status_code == 404
    assert client.get(f"/qr/{token}.gif").status_code == 404


# --- entry pages ----------------------------------------------------------------------------


def test_inactive_entry_page_still_answers(demo_items, client):
    for status in ("revoked", "withdrawn", "expired", "removed", "suspended"):
        item = next(i for i in demo_items.values() if i["status"] == status)
        response = client.get(f"/entries/{item['entry_no']}")
        assert response.status_code == 200, status
        token = token_of(item["verify_url"])
        assert f'href="/V/{token}"' in response.text
        assert f"/qr/{token}.png" in response.text


def test_entry_page_shows_status_reason_history_and_gi_users(demo_items, client):
    response = client.get("/entries/DEMO-GI-TM-0001")
    assert response.status_code == 200
    text = text_of(response)
    detail = client.get("/api/v1/entries/DEMO-GI-TM-0001").json()
    for user in detail["authorised_users"]:
        assert user["enterprise"]["uscc"] in text
        assert f'href="/V/{token_of(user["verify_url"])}"' in response.text
    assert "状态记录" in text and "签发人" in text

    revoked = client.get("/entries/GF120114240005")
    assert "撤销" in revoked.text
    assert "年度抽检不合格，撤销绿色食品标志使用权" in text_of(revoked)


# --- listings: filters and paging ------------------------------------------------------------


def _api_numbers(client, **params) -> set[str]:
    body = client.get("/api/v1/entries", params={"page_size": 100, **params}).json()
    assert body["pages"] <= 1
    return {i["entry_no"] for i in body["items"]}


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"subtype": "jinnong_product"},
        {"district": "120112"},
        {"status": "suspended"},
        {"status": "active"},
        {"subtype": "jinnong_product", "status": "active"},
        {"subtype": "jinnong_enterprise", "district": "120113"},
    ],
    ids=lambda p: "&".join(f"{k}={v}" for k, v in p.items()) or "all",
)
def test_register_page_filters(demo_items, client, params):
    expected = _api_numbers(client, register="jinnong", **params)
    assert expected
    response = client.get("/registers/jinnong", params=params)
    assert response.status_code == 200
    assert set(entry_links(response)) == expected
    assert f"共 {len(expected)} 条" in response.text
    for key, value in params.items():  # the form shows the chosen filters
        assert re.search(rf'<option value="{value}"\s+selected', response.text), (key, value)


def test_register_page_filter_with_no_match_says_so(demo_items, client):
    response = client.get("/registers/jinnong", params={"status": "removed"})
    assert response.status_code == 200
    assert entry_links(response) == []
    assert "没有符合条件的登记" in response.text


def test_register_page_bad_filter_is_400_with_a_message(demo_items, client):
    response = client.get("/registers/jinnong", params={"district": "999999"})
    assert response.status_code == 400
    assert "999999" in text_of(response)
    response = client.get("/registers/jinnong", params={"subtype": "organic"})
    assert response.status_code == 400


def _follow_pages(client, first_url: str) -> list[str]:
    seen: list[str] = []
    url = first_url
    prev_link = None
    for _ in range(20):
        response = client.get(url)
        assert response.status_code == 200
        seen.extend(entry_links(response))
        if prev_link is None:
            assert 'rel="prev"' not in response.text
        else:
            assert 'rel="prev"' in response.text
        nxt = re.search(r'<a href="([^"]+)" rel="next">', response.text)
        if not nxt:
            return seen
        prev_link = url
        path = url.split("?", 1)[0]
        url = path + html.unescape(nxt.group(1))
    raise AssertionError("paging does not end")


def test_search_pages_through_everything_once(demo_items, client):
    seen = _follow_pages(client, "/search")
    assert len(seen) == len(set(seen)), "an entry is on two pages"
    assert set(seen) == set(demo_items)
    first = client.get("/search")
    pages = -(-len(demo_items) // 20)
    assert f"第 1 / {pages} 页" in first.text


def test_paging_keeps_the_filters(demo_items, client):
    active = {no for no, i in demo_items.items() if i["status"] == "active"}
    assert len(active) > 20, "the demo data should need two pages of active entries"
    seen = _follow_pages(client, "/search?status=active")
    assert set(seen) == active and len(seen) == len(active)


def test_search_page_query(demo_items, client):
    response = client.get("/search", params={"q": "狗不理"})
    assert entry_links(response) == ["DEMO-ZHLZH-TJ-0001"]
    assert 'value="狗不理"' in response.text
    none = client.get("/search", params={"q": "没有这个品牌"})
    assert none.status_code == 200 and entry_links(none) == []


def test_home_counts_entries_per_register(demo_items, client):
    response = client.get("/")
    for code in REGISTERS:
        n = sum(1 for i in demo_items.values() if i["register"] == code)
        block = re.search(
            rf'href="/registers/{code}".*?<span class="meta">([^<]*)</span>', response.text, re.S
        )
        assert block and f"{n} 条登记" in block.group(1), code
    # The closed register says so.
    assert "停止名牌产品新的认定" in response.text


def test_what_was_typed_is_shown_escaped(demo_db, client):
    evil = "<img src=x onerror=alert(1)>"  # no slash: it reaches the /V/{token} page
    page = client.get(f"/V/{evil}")
    assert page.status_code == 404
    assert 'data-result="not_genuine"' in page.text
    assert evil not in page.text and "&lt;img src=x onerror=alert(1)&gt;" in page.text
    form = client.get("/verify", params={"code": evil})
    assert form.status_code == 400
    assert evil not in form.text
