"""The order's whole life in a real browser: search, compare, cart, checkout against a plan,
approval, supplier confirmation, shipping, acceptance and evaluation; and the cancel, reject and
return paths, each giving the reserved budget back to the plan."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

PASSWORD = "Passw0rd-test"


def log_in(page: Page, username: str) -> None:
    page.context.clear_cookies()
    page.goto("/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("button", name="退出")).to_be_visible()


def add_to_cart(page: Page, product: str, supplier: str, quantity: int) -> None:
    page.goto("/search?q=" + product.split()[0])
    page.get_by_role("link", name=product).first.click()
    form = page.locator("form", has=page.get_by_role("button", name=re.compile(f"加入购物车.*{supplier}")))
    form.get_by_role("spinbutton").fill(str(quantity))
    form.get_by_role("button").click()
    expect(page.get_by_role("status")).to_contain_text("已加入购物车")


def checkout(page: Page, *, record: bool = False) -> dict[str, str]:
    """Check out the cart against the seeded plan; returns the new orders' numbers by supplier."""
    page.goto("/cart")
    page.get_by_role("link", name="去结算").click()
    page.get_by_label(re.compile("PLAN-2026-00001")).check()
    page.get_by_label("收货地址").fill("北京市东城区正义路 2 号 信息中心")
    page.get_by_label("联系人").fill("王采购")
    page.get_by_label("联系电话").fill("010-65550000")
    if record:
        page.get_by_label("比价记录").select_option(index=1)
    page.get_by_role("button", name="提交订单").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("已提交")
    rows = page.locator("table.submitted-orders tbody tr")
    return {
        rows.nth(i).locator("td").first.inner_text(): rows.nth(i).locator("th").inner_text()
        for i in range(rows.count())
    }


def plan_available(page: Page) -> str:
    """The plan's available balance as the plan page shows it."""
    page.goto("/plans/")
    page.get_by_role("link", name=re.compile("PLAN-2026-00001")).first.click()
    return page.locator(".figure", has_text="可用余额").locator(".figure-value").inner_text()


def open_order(page: Page, number: str) -> None:
    page.goto(f"/orders/?q={number}")
    page.get_by_role("link", name=number, exact=True).first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(number)


def move(page: Page, button: str, *, note: str | None = None, confirm: str | None = None) -> None:
    form = page.locator("form", has=page.get_by_role("button", name=button, exact=True))
    if note is not None:
        form.get_by_role("textbox").fill(note)
    form.get_by_role("button", name=button, exact=True).click()
    if confirm:
        page.get_by_role("button", name=confirm).click()


def status_of(page: Page) -> str:
    return page.locator("main .badge-order").first.inner_text()


def test_from_search_to_evaluation(page: Page, live_server):
    seeded = live_server.seeded
    log_in(page, seeded.purchaser_username)
    before = plan_available(page)

    # Compare the two desktops and keep the comparison as the evidence for a large order.
    for name in ("联想 启天 M455", "华为 擎云 B730E"):
        page.goto("/search?q=台式机")
        page.get_by_role("link", name=name).click()
        page.get_by_role("button", name="加入对比").click()
    page.goto("/compare")
    page.get_by_role("button", name="保存为比价记录").click()
    expect(page.get_by_role("status")).to_contain_text("已保存比价记录")

    # 12 desktops (¥58,788.00: above the approval threshold) and a printer from the other supplier.
    add_to_cart(page, "联想 启天 M455", seeded.supplier_name, 12)
    add_to_cart(page, "奔图 P3305DN", "中科办公设备有限公司", 1)
    page.goto("/cart")
    expect(page.locator(".grand-total")).to_have_text("¥60,407.00")
    numbers = checkout(page, record=True)
    desktops, printer = numbers[seeded.supplier_name], numbers["中科办公设备有限公司"]
    expect(page.locator("table.submitted-orders")).to_contain_text("待审批")

    # The purchaser changes their mind about the printer: cancelling it needs a reason and a confirmation.
    open_order(page, printer)
    move(page, "取消订单…", note="已从其他渠道调剂", confirm="确认取消订单")
    expect(page.get_by_role("status")).to_contain_text("预占的预算已释放")
    expect(page.locator("main .badge-order").first).to_have_text("已取消")

    # The approver approves the large order; the supplier confirms, ships and delivers it.
    log_in(page, seeded.approver_username)
    page.get_by_role("navigation", name="主导航").get_by_role("link", name=re.compile("待审批")).click()
    page.get_by_role("link", name=desktops, exact=True).click()
    move(page, "批准订单")
    expect(page.locator("main .badge-order").first).to_have_text("待供应商确认")

    log_in(page, seeded.supplier_username)
    open_order(page, desktops)
    move(page, "确认接单")
    expect(page.locator("main .badge-order").first).to_have_text("已确认")
    page.get_by_label("物流单号").fill("SF1234567890")
    move(page, "确认发货")
    move(page, "标记已送达")
    expect(page.locator("main .badge-order").first).to_have_text("已送达")

    # Acceptance: quantities counted, the delivered model checked, then stars for the supplier.
    log_in(page, seeded.purchaser_username)
    open_order(page, desktops)
    page.get_by_role("link", name="填写验收单").click()
    page.get_by_label(re.compile("实收型号")).fill("启天 M455")
    page.get_by_label(re.compile("序列号")).fill("\n".join(f"SN-M455-{i:03d}" for i in range(12)))
    page.get_by_role("button", name="验收通过").click()
    expect(page.locator("main .badge-order").first).to_have_text("已验收")
    open_order(page, desktops)
    for aspect, stars in (("quality", 5), ("delivery", 4), ("service", 5)):
        page.locator(f"label[for='{aspect}-{stars}']").click()
    page.get_by_label("评价内容（选填）").fill("按时送达，包装完好。")
    page.get_by_role("button", name="提交评价").click()
    expect(page.locator("#evaluation")).to_contain_text("4/5")
    timeline = page.locator("main").inner_text()
    for step in ("待审批 → 待供应商确认", "待供应商确认 → 已确认", "已确认 → 已发货", "已送达 → 已验收"):
        assert step in timeline

    # The plan now holds exactly the accepted order; the printer's reservation went back.
    assert before != plan_available(page)
    page.goto("/plans/")
    page.get_by_role("link", name=re.compile("PLAN-2026-00001")).first.click()
    ledger = page.locator("main").inner_text()
    assert printer in ledger and desktops in ledger
    assert "¥1,619.00" in ledger  # reserved, then released


def test_a_supplier_rejects_and_a_purchaser_returns(page: Page, live_server):
    seeded = live_server.seeded
    log_in(page, seeded.purchaser_username)
    start = plan_available(page)
    add_to_cart(page, "震旦 ADT-1608", seeded.supplier_name, 2)
    add_to_cart(page, "华为 擎云 B730E", "中科办公设备有限公司", 1)
    numbers = checkout(page)
    desks, desktop = numbers[seeded.supplier_name], numbers["中科办公设备有限公司"]
    assert plan_available(page) != start

    # The other supplier cannot deliver: it rejects with a reason.
    log_in(page, seeded.other_supplier_username)
    open_order(page, desktop)
    move(page, "拒绝接单…", note="该型号暂时缺货", confirm="确认拒绝接单")
    expect(page.locator("main .badge-order").first).to_have_text("已拒绝")

    # The desks arrive in the wrong model: the purchaser returns them (a substitution is flagged).
    log_in(page, seeded.supplier_username)
    open_order(page, desks)
    move(page, "确认接单")
    page.get_by_label("物流单号").fill("YT9988776655")
    move(page, "确认发货")
    move(page, "标记已送达")

    log_in(page, seeded.purchaser_username)
    open_order(page, desks)
    page.get_by_role("link", name="填写验收单").click()
    page.get_by_label(re.compile("实收型号")).fill("ADT-1400")
    page.get_by_label(re.compile("验收说明")).fill("型号与订单不符，退货")
    page.get_by_role("button", name="退货…").click()
    page.get_by_role("button", name="确认退货").click()
    expect(page.locator("main .badge-order").first).to_have_text("已退货")
    expect(page.locator("main")).to_contain_text("实收型号与订单不符")

    # Both reservations went back: the plan is where it started.
    assert plan_available(page) == start
