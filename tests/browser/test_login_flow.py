"""The shell in a real browser: login by mouse and by keyboard, the language switch."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_purchaser_logs_in_and_sees_the_chinese_home_page(page, live_server):
    seeded = live_server.seeded
    page.goto("/login")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    page.get_by_label("用户名").fill(seeded.purchaser_username)
    page.get_by_label("密码").fill("Passw0rd-test")
    page.get_by_role("button", name="登录").click()

    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("政府采购电子卖场")
    expect(page.locator(".user-name")).to_have_text(seeded.purchaser_name)
    expect(page.locator(".user-org")).to_have_text(seeded.unit_name)
    expect(page.get_by_role("status")).to_contain_text(f"欢迎，{seeded.purchaser_name}")
    nav = page.get_by_role("navigation", name="主导航")
    expect(nav.get_by_role("link")).to_have_text(
        ["首页", "商品", "商品对比", "成交公告", "成交价格", "采购计划", "比价记录", "我的订单", "API 令牌"]
    )
    expect(nav.get_by_role("link", name="首页")).to_have_attribute("aria-current", "page")

    tree = page.locator(".catalog-tree")
    expect(tree.get_by_role("heading", name="品目分类")).to_be_visible()
    for name in seeded.leaf_names:
        expect(tree.get_by_role("link", name=re.compile(name))).to_be_visible()
    # The tree folds without JavaScript: <details>/<summary>.
    summary = tree.locator("summary", has_text="计算机").last
    summary.click()
    expect(tree.get_by_role("link", name=re.compile("台式计算机"))).to_be_hidden()
    summary.click()
    tree.get_by_role("link", name=re.compile("台式计算机")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("台式计算机")


def test_keyboard_only_login_with_visible_focus(page, live_server):
    page.goto("/login")
    # The first Tab reaches the skip link, which becomes visible.
    page.keyboard.press("Tab")
    skip = page.locator(".skip-link")
    expect(skip).to_be_focused()
    assert skip.bounding_box()["y"] >= 0

    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "username":
            break
    username = page.locator("#username")
    expect(username).to_be_focused()
    style = username.evaluate(
        "e => { const s = getComputedStyle(e); "
        "return [s.outlineStyle, parseFloat(s.outlineWidth), s.outlineColor]; }"
    )
    assert style[0] == "solid" and style[1] >= 2, style
    page.keyboard.type(live_server.seeded.purchaser_username)
    page.keyboard.press("Tab")
    expect(page.locator("#password")).to_be_focused()
    page.keyboard.type("Passw0rd-test")
    page.keyboard.press("Enter")

    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.locator(".user-name")).to_have_text(live_server.seeded.purchaser_name)


def test_language_switch_to_english_and_back(page, live_server):
    page.goto("/search")
    page.get_by_role("link", name="English").click()
    expect(page).to_have_url(f"{live_server.url}/search")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("All products")
    expect(page.get_by_role("navigation", name="Main navigation").get_by_role("link")).to_have_text(
        ["Home", "Products", "Compare products", "Transaction notices", "Transaction prices"]
    )
    expect(page).to_have_title("All products · Government Procurement E-Mall")

    page.get_by_role("link", name="简体中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.get_by_role("heading", level=1)).to_have_text("全部商品")
