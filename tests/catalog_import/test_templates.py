import csv
import io
import zipfile

import pytest
from openpyxl import load_workbook

from catalog_import import (
    InMemoryProductLookup,
    csv_template,
    open_table,
    template_filename,
    validate,
    xlsx_template,
)
from catalog_import.templates import CHOICES_SHEET, EXAMPLE_SKU, INSTRUCTIONS_SHEET, example_row, header_row
from tests.catalog_import.helpers import GOOD, SPEC, category, run

ALL_CATEGORIES = [
    "A02010105", "A02010108", "A02010104", "A02021104", "A02021003", "A02021004", "A02020400", "A02020100",
    "A02021118", "A02021301", "A05010201", "A05010301", "A05010502", "A05040101", "A05040201", "A02020200",
    "A02061504", "A02010202",
]  # fmt: skip


def test_the_registry_has_the_categories_tested_here():
    from app.catalog.registry import REGISTRY_BY_CODE

    assert sorted(ALL_CATEGORIES) == sorted(REGISTRY_BY_CODE)


def test_xlsx_template_layout():
    workbook = load_workbook(io.BytesIO(xlsx_template(SPEC)))
    assert workbook.sheetnames == ["商品清单", INSTRUCTIONS_SHEET, CHOICES_SHEET]
    assert workbook[CHOICES_SHEET].sheet_state == "hidden"
    sheet = workbook["商品清单"]
    assert [c.value for c in sheet[1]] == header_row(SPEC)
    numeric = {"price": 4999, "market_price": 5299, "stock": 100, "warranty_months": 36, "lead_time_days": 3}
    expected = [numeric.get(c.code, value) for c, value in zip(SPEC.columns, example_row(SPEC), strict=True)]
    assert [c.value for c in sheet[2]] == expected
    assert sheet["A2"].value == EXAMPLE_SKU and EXAMPLE_SKU.startswith("示例")
    # Required columns in bold red, optional ones bold black; a note on every header cell.
    assert sheet["A1"].font.b and sheet["A1"].font.color.rgb == "00C00000"
    assert sheet["H1"].value == "参考价来源｜market_price_source" and sheet["H1"].font.color.rgb == "00000000"
    assert all(c.comment is not None for c in sheet[1])
    assert sheet.freeze_panes == "B2"
    assert sheet.column_dimensions["A"].number_format == "@"


def test_xlsx_template_has_drop_downs_for_enums_and_yes_no():
    workbook = load_workbook(io.BytesIO(xlsx_template(SPEC)))
    sheet, choices = workbook["商品清单"], workbook[CHOICES_SHEET]
    lists = {}
    for validation in sheet.data_validations.dataValidation:
        if validation.type == "list":
            sheet_ref, cells = validation.formula1.split("!")
            assert sheet_ref == f"'{CHOICES_SHEET}'"
            column = cells.split(":")[0].replace("$", "")[0]
            values = [c.value for c in choices[column][1:] if c.value is not None]
            target = str(validation.sqref).split(":")[0]
            lists[sheet[target.replace("2", "1", 1)].value.split("｜")[1]] = values
        assert validation.prompt  # every column explains itself on focus
    assert lists == {
        "energy_saving": ["是", "否"],
        "environmental": ["是", "否"],
        "origin": ["国产", "进口"],
        "cpu": list(SPEC.column("cpu").choices),
        "storage_type": ["SSD", "HDD", "SSD+HDD"],
        "os": ["统信UOS", "银河麒麟", "Windows 11 专业版"],
        "form_factor": ["小机箱", "立式", "一体机"],
        "energy_class": ["1级", "2级", "3级"],
    }


def test_instructions_sheet_explains_every_column():
    workbook = load_workbook(io.BytesIO(xlsx_template(SPEC)))
    rows = list(workbook[INSTRUCTIONS_SHEET].iter_rows(values_only=True))
    text = "\n".join(str(v) for r in rows for v in r if v)
    for phrase in ("价格高于市场参考价", "示例", "全部正确才会导入", "50 MB", "200,000 行", "GB18030"):
        assert phrase in text
    table = {r[1]: r for r in rows if r[1] in {c.code for c in SPEC.columns}}
    assert set(table) == {c.code for c in SPEC.columns}
    assert table["memory_gb"][2:5] == ("新商品必填", "数字", "GB")
    assert table["price"][2:5] == ("必填", "金额", "元")
    assert table["screen_inch"][2] == "选填"


def test_csv_template_is_utf8_with_bom_header_and_example():
    data = csv_template(SPEC)
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows == [header_row(SPEC), example_row(SPEC)]


def test_template_file_names():
    assert template_filename(SPEC, "xlsx") == "商品导入模板_A02010105_台式计算机.xlsx"


def test_xlsx_template_is_deterministic():
    # Compare the members' contents: openpyxl stamps each zip member with the current time.
    def members(data: bytes) -> dict[str, bytes]:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return {name: archive.read(name) for name in archive.namelist() if name != "docProps/core.xml"}

    assert members(xlsx_template(SPEC)) == members(xlsx_template(SPEC))


def _fill_xlsx(template: bytes, rows: list[dict[str, object]]) -> bytes:
    workbook = load_workbook(io.BytesIO(template))
    sheet = workbook["商品清单"]
    codes = [cell.value.split("｜")[1] for cell in sheet[1]]
    for values in rows:
        sheet.append([values.get(code, "") for code in codes])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def test_xlsx_template_round_trip():
    # As a person types it: numbers as numbers, the example row left in place.
    typed = {
        **GOOD,
        "price": 4999,
        "market_price": 5299.5,
        "stock": 100,
        "memory_gb": 16,
        "screen_inch": 23.8,
    }
    data = _fill_xlsx(xlsx_template(SPEC), [typed, {**typed, "supplier_sku": "SKU-2", "model": "M90"}])
    results = run(data, "商品.xlsx")
    assert [r.row for r in results] == [3, 4]
    assert all(r.ok for r in results), [r.message for r in results]
    assert str(results[0].offer.market_price) == "5299.50"
    assert results[0].product.specs["screen_inch"] == 23.8


def test_csv_template_round_trip():
    text = csv_template(SPEC).decode("utf-8-sig")
    codes = [cell.split("｜")[1] for cell in next(csv.reader(io.StringIO(text)))]
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow([GOOD[code] for code in codes])
    results = run((text + out.getvalue()).encode("utf-8-sig"), "商品.csv")
    assert [r.row for r in results] == [3]
    assert results[0].ok, results[0].message


@pytest.mark.parametrize("code", ALL_CATEGORIES)
def test_every_categorys_example_row_is_valid(code):
    """The example values are valid for the category: with a real SKU the example row imports
    as a new product, from both templates."""
    spec = category(code)
    for template, name in ((xlsx_template(spec), "t.xlsx"), (csv_template(spec), "t.csv")):
        with open_table(io.BytesIO(template), name) as table:
            rows = [
                (number, [c.replace(EXAMPLE_SKU, "SKU-1") for c in cells]) for number, cells in table.rows()
            ]
            from catalog_import import Validator

            validator = Validator(spec, InMemoryProductLookup())
            results = list(validator.run(rows, validator.bind(table.header)))
        assert len(results) == 1
        assert results[0].ok, results[0].message
        assert results[0].is_new_product


def test_validate_rejects_a_template_with_only_its_example():
    from catalog_import import ImportFileError

    with (
        open_table(io.BytesIO(xlsx_template(SPEC)), "t.xlsx") as table,
        pytest.raises(ImportFileError) as caught,
    ):
        list(validate(table, SPEC, InMemoryProductLookup()))
    assert caught.value.code == "no_rows"
