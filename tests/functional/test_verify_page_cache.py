"""The verification page is served from a cache: it must never show a stale verdict,
mix languages, or let a forged token's text leak into another answer."""

from __future__ import annotations

import html
import re
from urllib.parse import unquote_plus

from registry.tokens import _CROCKFORD as CROCKFORD


def _token(item) -> str:
    return item["verify_url"].rsplit("/V/", 1)[1]


def _forge(token: str) -> str:
    last = CROCKFORD[(CROCKFORD.index(token[-1]) + 1) % len(CROCKFORD)]
    return token[:-1] + last


def _switch_link(page: str) -> str:
    link = html.unescape(re.search(r'<a class="lang" href="([^"]+)"', page).group(1))
    return unquote_plus(link)


def test_status_change_shows_on_the_next_request(demo_items, demo_db_mutable, client, run):
    from registry.services.entries import change_entry_status

    item = demo_items["DEMO-JNCP-0001"]
    url = f"/V/{_token(item)}"
    for _ in range(2):  # the second answer comes from the cache
        first = client.get(url)
        assert first.status_code == 200 and "真实有效" in first.text
    run(change_entry_status("DEMO-JNCP-0001", "suspend", "抽检不合格（测试）", "测试员"))
    after = client.get(url)
    assert after.status_code == 200
    assert "真实，但已被暂停使用" in after.text and "抽检不合格（测试）" in after.text
    assert "真实有效" not in after.text
    api = client.get(f"/api/v1/verify/{_token(item)}").json()
    assert api["result"] == "suspended"


def test_languages_are_cached_separately(demo_items, client):
    url = f"/V/{_token(demo_items['DEMO-JNCP-0001'])}"
    zh = client.get(url)
    en = client.get(url + "?lang=en")
    zh_again = client.get(url)
    assert "真实有效" in zh.text and "Genuine and valid" in en.text
    assert zh_again.text == zh.text
    client.cookies.set("lang", "en")
    by_cookie = client.get(url)
    assert "Genuine and valid" in by_cookie.text and "真实有效" not in by_cookie.text


def test_upper_and_lower_case_paths_keep_their_own_switch_link(demo_items, client):
    token = _token(demo_items["DEMO-JNCP-0001"])
    upper = client.get(f"/V/{token}")
    lower = client.get(f"/v/{token.lower()}")
    assert upper.status_code == lower.status_code == 200
    assert _switch_link(upper.text).endswith(f"next=/V/{token}")
    assert _switch_link(lower.text).endswith(f"next=/v/{token.lower()}")


def test_each_forged_token_page_shows_that_token_escaped(demo_items, client):
    token = _token(demo_items["DEMO-JNCP-0001"])
    first, second = _forge(token), _forge(_forge(token))
    a = client.get(f"/V/{first}")
    b = client.get(f"/V/{second}")
    assert a.status_code == b.status_code == 404
    assert first in a.text and second not in a.text
    assert second in b.text and first not in b.text
    assert _switch_link(b.text).endswith(f"next=/V/{second}")

    hostile = client.get('/V/<i>x"onload=1')
    assert hostile.status_code == 404
    assert "这不是本名录签发的真实代码" in hostile.text
    assert "<i>x" not in hostile.text
    assert "&lt;i&gt;x" in hostile.text


def test_verification_pages_are_not_compressed_but_others_are(demo_items, client):
    token = _token(demo_items["DEMO-JNCP-0001"])
    verify = client.get(f"/V/{token}", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in verify.headers
    listing = client.get("/search", headers={"Accept-Encoding": "gzip"})
    assert listing.headers.get("content-encoding") == "gzip"
