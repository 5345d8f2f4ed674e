import io
from datetime import date, datetime

import pytest

from catalog_import import ImportFileError, open_table
from catalog_import import xlsx as xlsx_module
from catalog_import.xlsx import SharedStrings, format_number
from tests.catalog_import.helpers import csv_bytes, file_bytes, matrix, read, row, run, xlsx_bytes
from tests.catalog_import.hostile_corpus import MAIN_NS, inline_rows, sheet_xml, xlsx_package

TABLE = [
    ["供应商货号", "名称", "备注"],
    ["SKU-1", "联想 台式机", "含税,含运费"],
    ["SKU-2", "惠普\n打印机", '说"明"'],
]


@pytest.mark.parametrize(
    ("encoding", "detected"),
    [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("gb18030", "gb18030"), ("gbk", "gb18030")],
)
def test_csv_encodings_are_detected(encoding, detected):
    data = csv_bytes(TABLE, encoding=encoding)
    fmt, found, header, rows = read(data)
    assert (fmt, found) == ("csv", detected)
    assert header == TABLE[0]
    assert [cells for _n, cells in rows] == TABLE[1:]


def test_a_gbk_file_imports_like_a_utf8_one():
    rows = [row(), row(supplier_sku="SKU-2", model="战66")]
    table = matrix(rows)
    utf8 = run(csv_bytes(table, "utf-8-sig"))
    gbk = run(csv_bytes(table, "gbk"))
    assert [r.product for r in gbk] == [r.product for r in utf8]
    assert all(r.ok for r in gbk)


def test_ascii_at_the_start_does_not_fool_detection():
    """Detection reads the whole file, not a sample: GBK text after 2 MB of ASCII is still GBK."""
    table = [["sku", "name"]] + [[f"SKU-{i}", "x" * 60] for i in range(30_000)] + [["SKU-Z", "联想台式机"]]
    _fmt, encoding, _header, rows = read(csv_bytes(table, "gbk"))
    assert encoding == "gb18030"
    assert rows[-1][1] == ["SKU-Z", "联想台式机"]


def test_rfc4180_quoting_and_row_numbers_follow_records_not_lines():
    data = csv_bytes([*TABLE, ["SKU-3", "", ""]])
    _fmt, _enc, _header, rows = read(data)
    assert rows == [(2, TABLE[1]), (3, TABLE[2]), (4, ["SKU-3", "", ""])]


def test_blank_rows_are_skipped_but_counted():
    data = b"a,b\r\n\r\n , \r\nx,y\r\n"
    assert read(data)[3] == [(4, ["x", "y"])]


def test_tab_delimited_text_is_read():
    data = csv_bytes(TABLE, delimiter="\t")
    _fmt, _enc, header, rows = read(data, "export.xls")
    assert header == TABLE[0] and rows[0][1] == TABLE[1]


def test_classic_mac_line_ends_are_read():
    data = b"a,b\rSKU-1,x\rSKU-2,y\r"
    assert read(data)[3] == [(2, ["SKU-1", "x"]), (3, ["SKU-2", "y"])]


def test_csv_nul_inside_the_file_is_binary():
    with pytest.raises(ImportFileError) as caught:
        read(b"a,b\r\n" + b"x,y\r\n" * 1000 + b"z,\x00\r\n")
    assert caught.value.code == "binary"
    assert "第 1002 行附近" in str(caught.value)


def test_too_many_columns_on_a_data_row():
    data = ("a,b\r\n" + ",".join(["x"] * 250) + "\r\n").encode()
    with pytest.raises(ImportFileError) as caught:
        read(data)
    assert str(caught.value) == "第 2 行有 250 列，表格最多 200 列；请删除多余的列，只保留模板中的列"


def test_trailing_empty_columns_beyond_the_limit_are_fine():
    data = ("a,b" + "," * 300 + "\r\nx,y" + "," * 300 + "\r\n").encode()
    assert read(data)[3][0][1][:2] == ["x", "y"]


# ---------------------------------------------------------------------------------------------
# XLSX


def test_xlsx_values_come_out_as_text_the_supplier_saw():
    table = [
        ["int", "float", "money", "date", "datetime", "bool", "text", "formula", "big", "neg"],
        [
            16,
            15.6,
            4999.989999999999,
            date(2024, 5, 1),
            datetime(2024, 5, 1, 9, 30),
            True,
            "0012",
            "=1+1",
            1e20,
            -5,
        ],
    ]
    fmt, _enc, header, rows = read(xlsx_bytes(table), "a.xlsx")
    assert fmt == "xlsx" and header == table[0]
    assert rows == [
        (
            2,
            [
                "16",
                "15.6",
                "4999.99",
                "2024-05-01",
                "2024-05-01 09:30:00",
                "TRUE",
                "0012",
                "",
                "100000000000000000000",
                "-5",
            ],
        )
    ]


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        ("16", "16"),
        ("16.0", "16"),
        ("0.30000000000000004", "0.3"),
        ("1E-3", "0.001"),
        ("-0", "0"),
        ("007", "7"),
    ],
)
def test_number_formatting(raw, text):
    assert format_number(raw) == text


def test_shared_strings_rich_text_and_phonetic_runs():
    shared = (
        f'<sst xmlns="{MAIN_NS}"><si><t>供应商货号｜supplier_sku</t></si>'
        "<si><r><t>联</t></r><r><rPr><b/></rPr><t>想</t></r><rPh><t>リエン</t></rPh></si>"
        '<si><t xml:space="preserve"> A &amp; B </t></si></sst>'
    )
    sheet = sheet_xml(
        '<row r="1"><c r="A1" t="s"><v>0</v></c></row>'
        '<row r="3"><c r="A3" t="s"><v>1</v></c><c r="C3" t="s"><v>2</v></c><c r="D3"><v>3</v></c></row>'
    )
    _fmt, _enc, header, rows = read(xlsx_package(sheet, shared=shared), "a.xlsx")
    assert header == ["供应商货号｜supplier_sku"]
    assert rows == [(3, ["联想", "", " A & B ", "3"])]


def test_shared_strings_spill_to_disk_beyond_their_memory_budget():
    table = SharedStrings(memory_chars=10)
    words = [f"值{i}" for i in range(1000)]
    for word in words:
        table.append(word)
    table.finish()
    try:
        assert len(table) == 1000
        assert [table.get(i) for i in (0, 3, 4, 999)] == ["值0", "值3", "值4", "值999"]
        assert table._spill is not None
        with pytest.raises(IndexError):
            table.get(1000)
    finally:
        table.close()


def test_a_prefixed_namespace_and_a_date_style_are_understood():
    styles = (
        f'<styleSheet xmlns="{MAIN_NS}"><numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy/mm/dd"/>'
        '</numFmts><cellXfs count="3"><xf numFmtId="0"/><xf numFmtId="164"/><xf numFmtId="14"/></cellXfs>'
        "</styleSheet>"
    )
    sheet = sheet_xml(
        '<x:row r="1"><x:c r="A1" t="inlineStr"><x:is><x:t>日期</x:t></x:is></x:c></x:row>'
        '<x:row r="2"><x:c r="A2" s="1"><x:v>45413</x:v></x:c><x:c r="B2" s="2"><x:v>45413.5</x:v></x:c>'
        '<x:c r="C2" s="0"><x:v>45413</x:v></x:c></x:row>',
        prefix="x",
    )
    _fmt, _enc, header, rows = read(xlsx_package(sheet, styles=styles), "a.xlsx")
    assert header == ["日期"]
    assert rows == [(2, ["2024-05-01", "2024-05-01 12:00:00", "45413"])]


def test_the_sheet_named_like_the_template_is_chosen():
    rels_sheet = sheet_xml(inline_rows([["说明"]]))
    data_sheet = sheet_xml(inline_rows([["供应商货号"], ["SKU-1"]]))
    from tests.catalog_import.hostile_corpus import workbook_xml

    package = xlsx_package(
        rels_sheet,
        workbook=workbook_xml((("说明", "rId1"), ("商品清单", "rId2"))),
        sheets={"sheet2.xml": data_sheet},
    )
    with open_table(io.BytesIO(package), "a.xlsx") as table:
        assert table.sheet_name == "商品清单"
        assert table.header == ["供应商货号"]


def _rows_both_ways(data: bytes):
    fast = read(data, "a.xlsx")

    original = xlsx_module.XlsxSource._fast_rows

    def refuse(self, on_long_cell):
        raise xlsx_module._Fallback
        yield  # pragma: no cover

    xlsx_module.XlsxSource._fast_rows = refuse
    try:
        slow = read(data, "a.xlsx")
    finally:
        xlsx_module.XlsxSource._fast_rows = original
    return fast, slow


def test_the_fast_and_the_streaming_xlsx_parsers_agree():
    rows = [row(supplier_sku=f"SKU-{i}", model=f"M{i}", name="&<>\"'" + "长" * (i % 50)) for i in range(3000)]
    fast, slow = _rows_both_ways(file_bytes(rows, "xlsx"))
    assert fast == slow
    assert len(fast[3]) == 3000


def test_a_cut_inside_cdata_falls_back_to_the_streaming_parser():
    # "</row>" inside CDATA is text; the fast path cannot cut there, the streaming parser can.
    filler = "".join(
        f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>{"x" * 200}</t></is></c></row>'
        for r in range(2, 2000)
    )
    tricky = '<row r="2000"><c r="A2000" t="inlineStr"><is><t><![CDATA[a</row>b]]></t></is></c></row>'
    sheet = sheet_xml('<row r="1"><c r="A1" t="inlineStr"><is><t>h</t></is></c></row>' + filler + tricky)
    fast, slow = _rows_both_ways(xlsx_package(sheet))
    assert fast == slow
    assert fast[3][-1] == (2000, ["a</row>b"])


def test_a_utf16_sheet_is_read_by_the_streaming_parser():
    sheet = sheet_xml(inline_rows([["货号"], ["SKU-1"]])).replace('encoding="UTF-8"', 'encoding="UTF-16"')
    _fmt, _enc, header, rows = read(xlsx_package(sheet.encode("utf-16")), "a.xlsx")
    assert header == ["货号"] and rows == [(2, ["SKU-1"])]


def test_an_undefined_entity_is_a_corrupt_file():
    sheet = sheet_xml('<row r="1"><c r="A1" t="inlineStr"><is><t>&nbsp;</t></is></c></row>')
    with pytest.raises(ImportFileError) as caught:
        read(xlsx_package(sheet), "a.xlsx")
    assert caught.value.code == "corrupt_xlsx"


def test_xlsx_rows_keep_their_spreadsheet_numbers_and_gaps():
    sheet = sheet_xml(
        '<row r="1"><c r="A1" t="inlineStr"><is><t>a</t></is></c>'
        '<c r="B1" t="inlineStr"><is><t>b</t></is></c></row>'
        '<row r="5"><c r="B5"><v>2</v></c></row>'
        '<row r="6"><c r="A6" t="inlineStr"><is><t> </t></is></c></row>'
    )
    # Row 6 holds only a space: blank, like an empty row.
    assert read(xlsx_package(sheet), "a.xlsx")[3] == [(5, ["", "2"])]


def test_rows_stream_once():
    with open_table(io.BytesIO(csv_bytes(TABLE)), "a.csv") as table:
        list(table.rows())
        with pytest.raises(RuntimeError):
            list(table.rows())
