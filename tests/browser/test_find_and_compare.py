"""Find and compare in a real browser: search with facets, a product page, the compare list, and
saving the comparison as a 比价记录."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def log_in(page, username: str) -> None:
    page.goto("/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill("Passw0rd-test")
    page.get_by_role("button", name="登录").click()


def test_search_compare_and_save_a_comparison_record(page, live_server):
    log_in(page, live_server.seeded.purchaser_username)

    # Search from the header box: the synonym 台式机 finds both 台式计算机.
    page.get_by_role("search").first.get_by_role("searchbox").fill("台式机")
    page.get_by_role("search").first.get_by_role("button").click()
    expect(page.locator(".result-count")).to_have_text("找到 2 件商品")
    results = page.locator(".product-card .product-name")
    expect(results).to_have_count(2)

    # A brand facet narrows the results and shows up as a removable chip.
    page.locator(".facet", has_text="品牌").get_by_role("link", name=re.compile("华为")).click()
    expect(page.locator(".result-count")).to_have_text("找到 1 件商品")
    chip = page.locator(".chips").get_by_role("link", name=re.compile("品牌：华为"))
    expect(chip).to_be_visible()
    chip.click()
    expect(page.locator(".result-count")).to_have_text("找到 2 件商品")

    # Sorting by price puts the cheaper desktop first; its lowest offer is shown.
    page.get_by_label("排序").select_option("price_asc")
    expect(results.first).to_contain_text("联想 启天 M455")
    expect(page.locator(".product-card").first.locator(".price")).to_contain_text("¥4,899.00")

    # Both desktops go into the compare list from their product pages.
    for name in ("联想 启天 M455", "华为 擎云 B730E"):
        page.goto("/search?q=台式机")
        page.get_by_role("link", name=name).click()
        expect(page.get_by_role("heading", level=1)).to_contain_text(name)
        page.get_by_role("button", name="加入对比").click()
        expect(page.get_by_role("status")).to_contain_text("已加入对比")

    page.get_by_role("navigation", name="主导航").get_by_role("link", name=re.compile("商品对比")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("商品对比")
    expect(page.locator("table").first).to_contain_text("联想 启天 M455")
    expect(page.locator("table").first).to_contain_text("华为 擎云 B730E")

    page.get_by_role("button", name="保存为比价记录").click()
    expect(page.get_by_role("status")).to_contain_text(re.compile(r"已保存比价记录 BJ-\d{8}-\d{4}"))
    expect(page.get_by_text("¥4,899.00").first).to_be_visible()
