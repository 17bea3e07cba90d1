"""The verification page in a real browser on a phone-sized screen: the verdict is the
first thing seen, nothing scrolls sideways, and the language switch works."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.browser

SCREEN_WIDTH, SCREEN_HEIGHT = 390, 844
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def token_of(verify_url: str) -> str:
    return verify_url.rsplit("/V/", 1)[1]


def forge(token: str) -> str:
    return token[:-1] + CROCKFORD[(CROCKFORD.index(token[-1]) + 1) % len(CROCKFORD)]


@pytest.fixture
def browser_data(demo_db, live_server):
    """Verification URLs of a valid and a revoked entry and of a GI user, from the API."""
    with httpx.Client(base_url=live_server, timeout=15) as http:
        listing = http.get("/api/v1/entries", params={"page_size": 100})
        assert listing.status_code == 200, listing.text
        by_no = {i["entry_no"]: i for i in listing.json()["items"]}
        gi = http.get("/api/v1/entries/DEMO-GI-TM-0001").json()
    assert by_no["DEMO-ZHLZH-TJ-0001"]["status"] == "active"
    assert by_no["DEMO-TJMP-2017-0004"]["status"] == "revoked"
    return {
        "valid": by_no["DEMO-ZHLZH-TJ-0001"]["verify_url"],
        "revoked": by_no["DEMO-TJMP-2017-0004"]["verify_url"],
        "gi_user": gi["authorised_users"][0]["verify_url"],
    }


def _open(phone, url: str, expected_status: int):
    page = phone.new_page()
    response = page.goto(url)
    assert response is not None and response.status == expected_status
    return page


def _assert_fits_the_screen(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= SCREEN_WIDTH, f"the page scrolls sideways ({width}px wide)"


def _assert_verdict_on_first_screen(page, text: str) -> None:
    verdict = page.locator("h1[data-result]")
    assert verdict.is_visible()
    assert text in verdict.inner_text()
    box = verdict.bounding_box()
    assert box is not None
    assert box["y"] >= 0 and box["y"] + box["height"] < SCREEN_HEIGHT, box


def test_valid_code_on_a_phone_in_both_languages(phone, browser_data, tmp_path):
    page = _open(phone, browser_data["valid"], 200)
    page.screenshot(path=str(tmp_path / "valid.png"))
    verdict = page.locator("h1[data-result]")
    assert verdict.get_attribute("data-result") == "valid"
    assert verdict.inner_text().strip() == "真实有效"
    _assert_verdict_on_first_screen(page, "真实有效")
    _assert_fits_the_screen(page)
    assert page.get_by_text("狗不理", exact=False).first.is_visible()

    page.get_by_role("link", name="English").click()
    page.wait_for_load_state()
    page.screenshot(path=str(tmp_path / "english.png"))
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.url.endswith(f"/V/{token_of(browser_data['valid'])}")
    _assert_verdict_on_first_screen(page, "Genuine and valid")
    assert page.get_by_text("Genuine and valid").is_visible()
    _assert_fits_the_screen(page)

    # The choice is remembered: the next code opened answers in English too.
    page.goto(browser_data["revoked"])
    _assert_verdict_on_first_screen(page, "revoked")


def test_revoked_and_gi_user_codes_on_a_phone(phone, browser_data, tmp_path):
    page = _open(phone, browser_data["revoked"], 200)
    page.screenshot(path=str(tmp_path / "revoked.png"))
    assert page.locator("h1[data-result]").get_attribute("data-result") == "revoked"
    _assert_verdict_on_first_screen(page, "撤销")
    _assert_fits_the_screen(page)
    assert page.get_by_text("产品质量监督抽查不合格", exact=False).first.is_visible()

    # A GI user's page carries long names and two credit codes: still one screen wide.
    page = _open(phone, browser_data["gi_user"], 200)
    page.screenshot(path=str(tmp_path / "gi_user.png"))
    _assert_verdict_on_first_screen(page, "真实")
    _assert_fits_the_screen(page)


def test_forged_code_on_a_phone(phone, browser_data, tmp_path):
    token = token_of(browser_data["valid"])
    page = _open(phone, browser_data["valid"].replace(token, forge(token)), 404)
    page.screenshot(path=str(tmp_path / "forged.png"))
    assert page.locator("h1[data-result]").get_attribute("data-result") == "not_genuine"
    _assert_verdict_on_first_screen(page, "这不是本名录签发的真实代码")
    assert "12315" in page.inner_text("main")  # what to do next
    _assert_fits_the_screen(page)
