import pytest

from catalog_import import CategorySpec, ImportFileError, bind_header, header_cell, parse_header_cell
from catalog_import.columns import OFFER_COLUMNS, column_letter
from catalog_import.specs import AttributeSpec
from tests.catalog_import.helpers import SPEC, file_bytes, header, row, run


@pytest.mark.parametrize(
    ("cell", "code"),
    [
        ("＊内存容量（GB）｜memory_gb", "memory_gb"),
        ("内存容量(GB)|memory_gb", "memory_gb"),
        ("内存容量 [memory_gb]", "memory_gb"),
        ("内存容量［MEMORY_GB］", "memory_gb"),
        ("memory_gb", "memory_gb"),
        ("  ＊单价（元）｜ price ", "price"),
        ("打印速度(A4)", None),  # a label with brackets is not a code
        ("重量(kg)", None),
    ],
)
def test_header_cells_are_read_by_their_code(cell, code):
    assert parse_header_cell(cell)[0] == code


def test_header_cells_carry_label_required_mark_unit_and_code():
    columns = {c.code: c for c in SPEC.columns}
    assert header_cell(columns["supplier_sku"]) == "＊供应商货号｜supplier_sku"
    assert header_cell(columns["price"]) == "＊单价（元）｜price"
    assert header_cell(columns["market_price_source"]) == "参考价来源｜market_price_source"
    assert header_cell(columns["memory_gb"]) == "＊内存容量（GB）｜memory_gb"
    assert header_cell(columns["screen_inch"]) == "显示器尺寸（英寸）｜screen_inch"


def test_columns_may_be_reordered_and_optional_ones_dropped():
    codes = [c.code for c in SPEC.columns if c.required or c.required_for_new]
    codes.reverse()
    columns = bind_header(header(SPEC, codes), SPEC)
    assert columns.positions == {code: index for index, code in enumerate(codes)}
    results = run(file_bytes([row()], "csv", codes=codes))
    assert results[0].ok, results[0].message
    assert results[0].offer.warranty_months == 12  # dropped column → default


def test_a_header_of_labels_only_is_recognised_when_unambiguous():
    labels = [c.label for c in SPEC.columns]
    labels[5] = "单价（元）"  # with the unit
    columns = bind_header(labels, SPEC)
    assert columns.positions["price"] == 5
    assert columns.positions["memory_gb"] == [c.code for c in SPEC.columns].index("memory_gb")


def test_error_report_columns_are_ignored():
    cells = ["错误说明", "原行号", *header(SPEC)]
    columns = bind_header(cells, SPEC)
    assert columns.ignored == (0, 1)
    assert columns.positions["supplier_sku"] == 2


def test_unknown_duplicate_and_missing_columns_are_all_named():
    cells = header(SPEC)
    cells.remove("＊型号｜model")
    cells += ["颜色｜color", "＊单价（元）｜price", "备注"]
    with pytest.raises(ImportFileError) as caught:
        bind_header(cells, SPEC)
    error = caught.value
    assert error.code == "bad_header" and error.row == 1
    assert error.problems == (
        "表头第 W 列「颜色｜color」：品目「A02010105 台式计算机」没有代码为 color 的列；"
        "请删除该列，或下载本品目的最新模板",
        "「单价」列（price）出现了两次：第 E 列和第 X 列，请删除其中一列",
        "表头第 Y 列「备注」无法识别：表头应为模板中的“中文名｜代码”格式"
        "（如「＊供应商货号｜supplier_sku」），请从模板复制表头",
        "缺少必填列「型号」（代码 model），请使用本品目的最新模板",
    )
    assert str(error) == "表头有误：" + "；".join(error.problems)


def test_a_file_without_a_header_row_says_so():
    with pytest.raises(ImportFileError) as caught:
        bind_header(["SKU-1", "联想", "M70t", "4999"], SPEC)
    assert caught.value.code == "missing_header"
    assert str(caught.value) == (
        "未找到表头：第一行应为模板的表头（如「＊供应商货号｜supplier_sku」），请使用下载的模板，不要删除或改动表头行"
    )


def test_attribute_codes_may_not_clash_with_offer_columns():
    with pytest.raises(ValueError, match="clash"):
        CategorySpec("X", "2022", "x", (AttributeSpec("price", "价格", "number"),))
    with pytest.raises(ValueError, match="duplicate"):
        CategorySpec("X", "2022", "x", (AttributeSpec("a", "甲", "text"), AttributeSpec("a", "乙", "text")))


def test_offer_columns_come_first_then_attributes_in_registry_order():
    codes = [c.code for c in SPEC.columns]
    assert codes[: len(OFFER_COLUMNS)] == [c.code for c in OFFER_COLUMNS]
    assert codes[len(OFFER_COLUMNS) :] == [a.code for a in SPEC.attributes]


@pytest.mark.parametrize(("index", "letter"), [(0, "A"), (25, "Z"), (26, "AA"), (701, "ZZ"), (702, "AAA")])
def test_column_letters(index, letter):
    assert column_letter(index) == letter
