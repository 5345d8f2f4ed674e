"""A supplier's catalog upload in a real browser, end to end: download the category's template,
fill it, upload it, watch it being validated, read the errors, download the error report, fix the
report and upload it again; then an operator approves the listings and they are live."""

from __future__ import annotations

import re

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

JOB_TIMEOUT_MS = 20_000  # the import runs beside the server; the page follows it by polling


def log_in(page, username: str) -> None:
    page.goto("/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill("Passw0rd-test")
    page.get_by_role("button", name="登录").click()
    expect(page.locator(".user-name")).to_be_visible()


def log_out(page) -> None:
    page.get_by_role("button", name="退出").click()
    expect(page.locator(".user-name")).to_have_count(0)


def codes_of(sheet, header_row: int = 1) -> dict[str, int]:
    """Column code → 1-based column index, from header cells such as ``＊单价（元）｜price``."""
    found = {}
    for index, cell in enumerate(sheet[header_row], start=1):
        if cell.value and "｜" in str(cell.value):
            found[str(cell.value).rsplit("｜", 1)[1]] = index
    return found


GOOD = {
    "supplier_sku": "LCD-001",
    "brand": "AOC",
    "model": "24B2XH",
    "manufacturer": "冠捷显示科技（中国）有限公司",
    "name": "AOC 24B2XH 23.8英寸液晶显示器",
    "price": 699,
    "market_price": 799,
    "market_price_source": "京东自营",
    "stock": 50,
    "regions": "全国",
    "warranty_months": 36,
    "lead_time_days": 3,
    "energy_saving": "是",
    "environmental": "否",
    "origin": "国产",
    "screen_inch": 23.8,
    "resolution": "1920×1080",
    "panel": "IPS",
}
# Two mistakes: a price above its own market reference, and a size written in words.
BAD = {
    **GOOD,
    "supplier_sku": "LCD-002",
    "brand": "飞利浦",
    "model": "27E1N5600",
    "manufacturer": "冠捷显示科技（中国）有限公司",
    "name": "飞利浦 27E1N5600 27英寸液晶显示器",
    "price": 1299,
    "market_price": 1199,
    "screen_inch": "二十七",
    "resolution": "2560×1440",
}


def test_supplier_uploads_fixes_and_an_operator_approves(page, live_server, tmp_path):
    seeded = live_server.seeded
    code = seeded.upload_category_code
    log_in(page, seeded.supplier_username)

    # 1. The template of the category, from the supplier's pages.
    nav = page.get_by_role("navigation", name="主导航")
    nav.get_by_role("link", name="批量导入").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("批量导入")
    page.get_by_role("link", name="下载导入模板").first.click()
    page.get_by_label("品目", exact=True).select_option(code)
    with page.expect_download() as downloading:
        page.get_by_role("button", name="下载模板").click()
    download = downloading.value
    assert download.suggested_filename == f"商品导入模板_{code}_液晶显示器.xlsx"
    template = tmp_path / "template.xlsx"
    download.save_as(template)

    # 2. Filled in as a supplier would (below the example row, which the import ignores).
    workbook = load_workbook(template)
    sheet = workbook["商品清单"]
    columns = codes_of(sheet)
    assert {"supplier_sku", "price", "screen_inch", "resolution"} <= set(columns)
    assert str(sheet.cell(row=2, column=columns["supplier_sku"]).value).startswith("示例")
    for row_number, values in ((3, GOOD), (4, BAD)):
        for code_, value in values.items():
            sheet.cell(row=row_number, column=columns[code_], value=value)
    filled = tmp_path / "显示器报价.xlsx"
    workbook.save(filled)

    # 3. Upload it and watch the job.
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="批量导入").click()
    page.get_by_label("品目", exact=True).select_option(code)
    page.get_by_label("文件", exact=True).set_input_files(str(filled))
    page.get_by_role("button", name="上传并校验").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("显示器报价.xlsx")
    expect(page.get_by_role("progressbar")).to_be_visible()
    badge = page.locator(".batch-state .badge")
    expect(badge).to_have_text("未通过校验", timeout=JOB_TIMEOUT_MS)
    expect(page.get_by_role("progressbar")).to_have_attribute("value", "100")
    expect(page.locator(".batch-message")).to_contain_text("共 1 行有错误，未写入任何数据")
    errors = page.locator(".batch-errors li")
    expect(errors).to_have_count(2)
    expect(errors.nth(0)).to_contain_text("第 4 行「单价」：价格高于市场参考价")
    expect(errors.nth(1)).to_contain_text("第 4 行「屏幕尺寸」")

    # 4. The error report: the supplier's rows, each with what to fix.
    with page.expect_download() as downloading:
        page.get_by_role("link", name="下载错误报告（Excel）").click()
    report_path = tmp_path / "report.xlsx"
    downloading.value.save_as(report_path)
    report = load_workbook(report_path)
    sheet = report.worksheets[0]
    assert [sheet.cell(row=1, column=c).value for c in (1, 2)] == ["错误说明", "原行号"]
    columns = codes_of(sheet)
    rows = {sheet.cell(row=r, column=columns["supplier_sku"]).value: r for r in range(2, sheet.max_row + 1)}
    assert set(rows) == {"LCD-001", "LCD-002"}
    assert sheet.cell(row=rows["LCD-001"], column=1).value in (None, "")
    assert "价格高于市场参考价" in sheet.cell(row=rows["LCD-002"], column=1).value

    # 5. Fixed in the report itself, which uploads as it is.
    sheet.cell(row=rows["LCD-002"], column=columns["price"], value=1099)
    sheet.cell(row=rows["LCD-002"], column=columns["screen_inch"], value=27)
    fixed = tmp_path / "显示器报价_已改正.xlsx"
    report.save(fixed)
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="批量导入").click()
    page.get_by_label("品目", exact=True).select_option(code)
    page.get_by_label("文件", exact=True).set_input_files(str(fixed))
    page.get_by_role("button", name="上传并校验").click()
    expect(page.locator(".batch-state .badge")).to_have_text("已导入", timeout=JOB_TIMEOUT_MS)
    summary = page.locator(".summary-list")
    expect(summary).to_contain_text("新建报价2")
    expect(summary).to_contain_text("送审2")
    batch_url = page.url

    # Not live yet: the offers wait for review.
    page.goto("/search?q=AOC")
    expect(page.locator(".result-count")).to_contain_text("0")
    log_out(page)

    # 6. The operator approves both, confirming the bulk decision.
    log_in(page, seeded.operator_username)
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="上架审核").click()
    expect(page.locator(".result-count")).to_have_text("共 2 条待审核")
    expect(page.locator(".review-table")).to_contain_text(seeded.supplier_name)
    page.get_by_label("选择 LCD-001").check()
    page.get_by_label("选择 LCD-002").check()
    page.get_by_role("button", name="下一步：确认").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("确认通过 2 条报价？")
    page.get_by_role("button", name="确认").click()
    expect(page.locator(".flashes")).to_contain_text("已通过 2 条报价，已上架。")
    expect(page.locator(".result-count")).to_have_text("共 0 条待审核")
    log_out(page)

    # 7. Live: found by search, on the product page with the supplier's price.
    page.goto("/search?q=AOC")
    card = page.locator(".product-card", has_text="AOC 24B2XH")
    expect(card).to_have_count(1)
    card.get_by_role("link", name=re.compile("AOC 24B2XH")).first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("AOC 24B2XH")
    expect(page.locator("main")).to_contain_text(seeded.supplier_name)
    expect(page.locator("main")).to_contain_text("¥699.00")

    # 8. The supplier sees the decisions on the batch page.
    log_in(page, seeded.supplier_username)
    page.goto(batch_url)
    results = page.locator("section", has=page.get_by_role("heading", name="审核结果"))
    expect(results.locator("tbody tr")).to_have_count(2)
    expect(results).to_contain_text("通过")
