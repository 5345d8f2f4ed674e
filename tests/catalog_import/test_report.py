import csv
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from catalog_import import InMemoryProductLookup, open_table, safe_cell, validate, write_error_report
from catalog_import.report import export_rows
from tests.catalog_import.helpers import SPEC, file_bytes, row, run

HOSTILE = ["=1+1", "+cmd", "-2+3", "@SUM(A1)", "\t=x", "\r=x", '=HYPERLINK("http://x","点我")']


@pytest.mark.parametrize("value", HOSTILE)
def test_formula_like_text_is_neutralised(value):
    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["-5", "-0.5", "16GB", "联想", "", "a=b", " =1", "1,234"])
def test_harmless_values_pass_unchanged(value):
    assert safe_cell(value) == value


@pytest.mark.parametrize("value", [5, -5, Decimal("-2.50"), None, True])
def test_non_text_values_pass_unchanged(value):
    assert safe_cell(value) == value


def _report(fmt: str, rows: list[dict[str, str]]):
    data = file_bytes(rows, "csv")
    out = io.BytesIO()
    with open_table(io.BytesIO(data), "a.csv") as table:
        from catalog_import import Validator

        validator = Validator(SPEC, InMemoryProductLookup())
        columns = validator.bind(table.header)
        writer = write_error_report(out, fmt, columns, validator.run(table.rows(), columns))
    return out.getvalue(), writer


@pytest.mark.parametrize("value", HOSTILE)
def test_csv_error_report_never_emits_a_formula(value):
    data, writer = _report("csv", [row(name=value, brand=value, price="-5")])
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows[0][:3] == ["错误说明", "原行号", "＊供应商货号｜supplier_sku"]
    error, number, *cells = rows[1]
    assert number == "2"
    assert cells[1] == "'" + value and cells[4] == "'" + value
    assert cells[5] == "-5"  # a plain negative number is no formula
    assert "第 2 行「单价」：必须大于 0" in error
    for cell in (c for r in rows for c in r):
        assert not cell.startswith(("=", "+", "@", "\t", "\r")) and not (
            cell.startswith("-") and cell != "-5"
        )
    assert (writer.rows, writer.error_rows) == (1, 1)


@pytest.mark.parametrize("value", HOSTILE)
def test_xlsx_error_report_never_emits_a_formula(value):
    data, _writer = _report(
        "xlsx", [row(name=value, price="-5", stock="7"), row(supplier_sku="SKU-2", model="M2")]
    )
    workbook = load_workbook(io.BytesIO(data))
    sheet = workbook["错误报告"]
    cells = {c.coordinate: c for r in sheet.iter_rows() for c in r}
    assert all(c.data_type != "f" for c in cells.values())
    # The name column, shifted by the two report columns (XML reads a stored CR back as LF).
    assert sheet["G2"].value == "'" + value.replace("\r", "\n")
    assert sheet["H2"].value == -5 and sheet["H2"].data_type == "n"  # numeric column: a number
    assert sheet["K2"].value == 7
    assert sheet["A2"].value.startswith("第 2 行")
    assert sheet["A2"].fill.fgColor.rgb.endswith("FFC7CE")
    assert sheet["A3"].value is None and sheet["B3"].value == 3  # clean rows are in the report too


def test_xlsx_export_drops_characters_xml_cannot_hold():
    out = io.BytesIO()
    export_rows(out, "xlsx", ["名称"], [["联想\x01\x1f台式机"]])
    sheet = load_workbook(io.BytesIO(out.getvalue())).active
    assert sheet["A2"].value == "联想台式机"


def test_csv_export_neutralises_every_cell():
    out = io.BytesIO()
    count = export_rows(out, "csv", ["=header"], [["=1+1", 5], ["ok", Decimal("1.50")]])
    assert count == 2
    text = out.getvalue().decode("utf-8-sig")
    assert text == "'=header\r\n'=1+1,5\r\nok,1.50\r\n"


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_fixed_error_report_can_be_uploaded_again(fmt):
    data, _ = _report(fmt, [row(price="0"), row(supplier_sku="SKU-2", model="M2")])
    # The supplier fixes the price in the report and uploads the report itself.
    if fmt == "csv":
        text = data.decode("utf-8-sig").replace(",0.00,", ",4999.00,").replace('"0"', "4999")
        rows = list(csv.reader(io.StringIO(text, newline="")))
        rows[1][2 + 5] = "4999.00"
        out = io.StringIO()
        csv.writer(out, lineterminator="\r\n").writerows(rows)
        fixed = out.getvalue().encode("utf-8-sig")
    else:
        workbook = load_workbook(io.BytesIO(data))
        workbook.active["H2"] = 4999
        buffer = io.BytesIO()
        workbook.save(buffer)
        fixed = buffer.getvalue()
    results = run(fixed, f"report.{fmt}")
    assert [r.ok for r in results] == [True, True], [r.message for r in results]
    assert [r.row for r in results] == [2, 3]


def test_report_of_a_streamed_validation():
    rows = [row(supplier_sku=f"SKU-{i}", model=f"M{i}", stock="-1" if i == 3 else "5") for i in range(10)]
    out = io.BytesIO()
    with open_table(io.BytesIO(file_bytes(rows, "xlsx")), "a.xlsx") as table:
        results = validate(table, SPEC, InMemoryProductLookup())
        from catalog_import import bind_header

        writer = write_error_report(out, "csv", bind_header(table.header, SPEC), results)
    assert (writer.rows, writer.error_rows) == (10, 1)
    lines = out.getvalue().decode("utf-8-sig").splitlines()
    assert lines[4].startswith("第 5 行「库存」：不能小于 0,5,SKU-3,")
