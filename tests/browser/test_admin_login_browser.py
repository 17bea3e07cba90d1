"""A staff member created with the CLI signs in to /admin in a real browser."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

pytestmark = pytest.mark.browser

PASSWORD = "browser-reviewer-pass-1"


@pytest.fixture
def browser_data(demo_db, live_server):
    from registry.services.staff import reset_throttle

    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "registry.cli",
            "staff",
            "create",
            "--username",
            "reviewer-b",
            "--role",
            "reviewer",
            "--display-name",
            "浏览器审核员",
            "--password-stdin",
        ],
        input=PASSWORD + "\n",
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=60,
    )
    assert result.returncode == 0 or "已存在" in result.stderr, result.stderr
    reset_throttle()
    return {"base": live_server}


def test_staff_sign_in_in_a_browser(browser, browser_data, tmp_path):
    base = browser_data["base"]
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{base}/admin/")
    assert "/admin/login" in page.url  # anonymous: sent to sign-in
    page.fill("input[name=username]", "reviewer-b")
    page.fill("input[name=password]", "wrong-password-0")
    page.click("button[type=submit]")
    assert page.locator("[role=alert]").inner_text() == "用户名、密码或动态验证码不正确。"

    page.fill("input[name=username]", "reviewer-b")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/admin/?$"))
    assert page.locator("h1").inner_text() == "工作人员后台"
    assert "浏览器审核员" in page.locator("header .who").inner_text()
    page.screenshot(path=str(tmp_path / "admin.png"))

    page.click("header .who button")  # sign out (a POST form with its CSRF token)
    page.wait_for_url(re.compile(r".*/admin/login$"))
    page.goto(f"{base}/admin/")
    assert "/admin/login" in page.url
    context.close()
