"""The hostile-file corpus of catalog uploads: builders, and the committed small files.

The small files live in ``tests/fixtures/hostile/`` (each a few KB at most), rebuilt by

    .venv/bin/python -m tests.catalog_import.hostile_corpus

and a test checks the committed bytes equal what the builders make. Files that are big by
nature (a zip bomb, a million-character cell, ten thousand columns, thousands of zip members)
are built at test time instead (:func:`generated`), each in well under a second.

``EXPECTED`` maps every file to the :class:`~catalog_import.ImportFileError` code it must end in.
"""

from __future__ import annotations

import io
import struct
import sys
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

from catalog_import.templates import header_row
from tests.catalog_import.helpers import GOOD, SPEC

HEADER = ",".join(header_row(SPEC))
ROW = [GOOD[c.code] for c in SPEC.columns]

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "hostile"
DATE = (2026, 1, 1, 0, 0, 0)
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
OFFICE_DOC = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
WORKSHEET = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"
SHARED = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"
STYLES = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles"

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    "</Types>"
)


def workbook_xml(sheets: tuple[tuple[str, str], ...] = (("商品清单", "rId1"),), extra: str = "") -> str:
    entries = "".join(
        f'<sheet name="{name}" sheetId="{i}" r:id="{rid}"/>' for i, (name, rid) in enumerate(sheets, start=1)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'<workbook xmlns="{MAIN_NS}" xmlns:r="{REL_NS}">{extra}<sheets>{entries}</sheets></workbook>'
    )


def sheet_xml(rows: str, prefix: str = "") -> str:
    p = f"{prefix}:" if prefix else ""
    ns = f'xmlns:{prefix}="{MAIN_NS}"' if prefix else f'xmlns="{MAIN_NS}"'
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f"<{p}worksheet {ns}><{p}sheetData>{rows}</{p}sheetData></{p}worksheet>"
    )


def inline_rows(table: list[list[str]]) -> str:
    """Rows of inline-string cells."""
    out = []
    for r, values in enumerate(table, start=1):
        cells = "".join(
            f'<c r="{_col(c)}{r}" t="inlineStr"><is><t>{_escape(v)}</t></is></c>'
            for c, v in enumerate(values)
            if v
        )
        out.append(f'<row r="{r}">{cells}</row>')
    return "".join(out)


def _col(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def xlsx_package(
    sheet: str | bytes,
    *,
    shared: str | bytes | None = None,
    styles: str | bytes | None = None,
    workbook: str | None = None,
    extra: dict[str, bytes] | None = None,
    sheets: dict[str, str | bytes] | None = None,
    workbook_rels: str | None = None,
) -> bytes:
    """A minimal but valid XLSX package around the given parts (deterministic bytes)."""
    rels = [f'<Relationship Id="rId1" Type="{WORKSHEET}" Target="worksheets/sheet1.xml"/>']
    if shared is not None:
        rels.append(f'<Relationship Id="rId8" Type="{SHARED}" Target="sharedStrings.xml"/>')
    if styles is not None:
        rels.append(f'<Relationship Id="rId9" Type="{STYLES}" Target="styles.xml"/>')
    for index, name in enumerate(sheets or {}, start=2):
        rels.append(f'<Relationship Id="rId{index}" Type="{WORKSHEET}" Target="worksheets/{name}"/>')
    members: dict[str, str | bytes] = {
        "[Content_Types].xml": CONTENT_TYPES,
        "_rels/.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG_REL_NS}">'
            f'<Relationship Id="rId1" Type="{OFFICE_DOC}" Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": workbook or workbook_xml(),
        "xl/_rels/workbook.xml.rels": workbook_rels
        or f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG_REL_NS}">'
        f"{''.join(rels)}</Relationships>",
        "xl/worksheets/sheet1.xml": sheet,
    }
    if shared is not None:
        members["xl/sharedStrings.xml"] = shared
    if styles is not None:
        members["xl/styles.xml"] = styles
    for name, part in (sheets or {}).items():
        members[f"xl/worksheets/{name}"] = part
    members.update(extra or {})
    return zip_bytes(members)


def zip_bytes(members: dict[str, str | bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as archive:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, DATE)
            info.compress_type = compression
            archive.writestr(info, data.encode("utf-8") if isinstance(data, str) else data)
    return out.getvalue()


# ---------------------------------------------------------------------------------------------
# The hostile files.

BILLION_LAUGHS_DTD = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10)
    )
    + "]>"
)
XXE_DTD = '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'


def billion_laughs_xlsx() -> bytes:
    sheet = (
        BILLION_LAUGHS_DTD + f'<worksheet xmlns="{MAIN_NS}"><sheetData><row r="1"><c r="A1" t="inlineStr">'
        "<is><t>&lol9;</t></is></c></row></sheetData></worksheet>"
    )
    return xlsx_package(sheet)


def xxe_sheet_xlsx() -> bytes:
    sheet = (
        XXE_DTD + f'<worksheet xmlns="{MAIN_NS}"><sheetData><row r="1"><c r="A1" t="inlineStr">'
        "<is><t>&xxe;</t></is></c></row></sheetData></worksheet>"
    )
    return xlsx_package(sheet)


def xxe_shared_strings_xlsx() -> bytes:
    shared = XXE_DTD + f'<sst xmlns="{MAIN_NS}" count="1" uniqueCount="1"><si><t>&xxe;</t></si></sst>'
    sheet = sheet_xml('<row r="1"><c r="A1" t="s"><v>0</v></c></row>')
    return xlsx_package(sheet, shared=shared)


def xxe_workbook_xlsx() -> bytes:
    workbook = XXE_DTD + (
        f'<workbook xmlns="{MAIN_NS}" xmlns:r="{REL_NS}"><sheets>'
        '<sheet name="&xxe;" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )
    return xlsx_package(sheet_xml(inline_rows([["a"]])), workbook=workbook)


def header_only_xlsx() -> bytes:
    return xlsx_package(sheet_xml(inline_rows([HEADER.split(",")])))


def not_xlsx_zip() -> bytes:
    return zip_bytes({"word/document.xml": "<w:document/>", "readme.txt": "not a spreadsheet"})


def ods_zip() -> bytes:
    return zip_bytes(
        {
            "mimetype": "application/vnd.oasis.opendocument.spreadsheet",
            "content.xml": "<office:document-content/>",
        },
        compression=zipfile.ZIP_STORED,
    )


def xlsb_zip() -> bytes:
    rels = (
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG_REL_NS}">'
        f'<Relationship Id="rId1" Type="{OFFICE_DOC}" Target="xl/workbook.bin"/></Relationships>'
    )
    return zip_bytes({"_rels/.rels": rels, "xl/workbook.bin": b"\x83\x01\x00"})


def path_traversal_xlsx() -> bytes:
    return xlsx_package(sheet_xml(inline_rows([["a"]])), extra={"../../evil.sh": b"rm -rf /"})


def truncated_xlsx() -> bytes:
    whole = xlsx_package(sheet_xml(inline_rows([HEADER.split(","), ["SKU-1", "联想", "M70t"]] * 20)))
    return whole[: len(whole) // 2]


def lying_size_xlsx() -> bytes:
    """A member whose directory entry claims 100 bytes but inflates to 4 MB of XML."""
    big = sheet_xml(inline_rows([["x"]]) + " " * 4_000_000).encode()
    data = bytearray(xlsx_package(big))
    name = b"xl/worksheets/sheet1.xml"
    real = struct.pack("<I", len(big))
    fake = struct.pack("<I", 100)
    # Patch the uncompressed size in the local header and the central directory entry.
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        start = 0
        while True:
            start = data.find(signature, start)
            if start < 0:
                break
            name_at = start + (30 if signature == b"PK\x03\x04" else 46)
            if (
                data[name_at : name_at + len(name)] == name
                and data[start + offset : start + offset + 4] == real
            ):
                data[start + offset : start + offset + 4] = fake
            start += 4
    return bytes(data)


def ole_file(stream_name: str = "Workbook") -> bytes:
    """An OLE compound file header with one directory entry (enough to be recognised)."""
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(16) + struct.pack("<HHH", 0x3E, 3, 0xFFFE)
    header = header.ljust(512, b"\x00")
    entry = stream_name.encode("utf-16-le").ljust(64, b"\x00") + struct.pack("<H", len(stream_name) * 2 + 2)
    return header + entry.ljust(128, b"\x00") + bytes(384)


def mixed_encoding_csv() -> bytes:
    """A UTF-8 file whose later rows were pasted in from a GBK one."""
    utf8 = (HEADER + "\r\n" + "SKU-1,联想,M70t\r\n" * 3).encode("utf-8")
    return utf8 + "SKU-9,惠普,战66\r\n".encode("gbk")


CORPUS: dict[str, Callable[[], bytes]] = {
    "empty.csv": lambda: b"",
    "empty.xlsx": lambda: b"",
    "header_only.csv": lambda: ("\ufeff" + HEADER + "\r\n").encode(),
    "header_only.xlsx": header_only_xlsx,
    "missing_header.csv": lambda: "SKU-1,联想,M70t,4999\r\nSKU-2,惠普,战66,3999\r\n".encode(),
    "blank_lines_only.csv": lambda: b"\r\n , ,\r\n\r\n",
    "utf16.csv": lambda: (HEADER + "\r\nSKU-1,联想,M70t\r\n").encode("utf-16"),
    "utf16_no_bom.csv": lambda: (HEADER + "\r\nSKU-1,联想,M70t\r\n").encode("utf-16-le"),
    "undecodable.csv": lambda: b"supplier_sku,brand\r\n\x80\x81\xff\xfe\xfa\r\n" * 3,
    "mixed_encoding.csv": mixed_encoding_csv,
    "random_bytes.bin": lambda: bytes((i * 7919 + 13) % 256 for i in range(4096)),
    "binary_junk.csv": lambda: b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 8,
    "pdf_renamed.csv": lambda: b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n",
    "html_table.xls": lambda: (
        "<html><body><table><tr><td>供应商货号</td></tr></table></body></html>".encode()
    ),
    "legacy.xls": lambda: ole_file("Workbook"),
    "password_protected.xlsx": lambda: ole_file("EncryptedPackage"),
    "billion_laughs.xlsx": billion_laughs_xlsx,
    "xxe_sheet.xlsx": xxe_sheet_xlsx,
    "xxe_shared_strings.xlsx": xxe_shared_strings_xlsx,
    "xxe_workbook.xlsx": xxe_workbook_xlsx,
    "not_a_spreadsheet.zip": not_xlsx_zip,
    "opendocument.xlsx": ods_zip,
    "binary_workbook.xlsx": xlsb_zip,
    "path_traversal.xlsx": path_traversal_xlsx,
    "truncated.xlsx": truncated_xlsx,
    "lying_size.xlsx": lying_size_xlsx,
}

EXPECTED: dict[str, str] = {
    "empty.csv": "empty_file",
    "empty.xlsx": "empty_file",
    "header_only.csv": "no_rows",
    "header_only.xlsx": "no_rows",
    "missing_header.csv": "missing_header",
    "blank_lines_only.csv": "empty_file",
    "utf16.csv": "encoding",
    "utf16_no_bom.csv": "encoding",
    "undecodable.csv": "encoding",
    "mixed_encoding.csv": "encoding",
    "random_bytes.bin": "binary",
    "binary_junk.csv": "binary",
    "pdf_renamed.csv": "binary",
    "html_table.xls": "unsupported_format",
    "legacy.xls": "legacy_xls",
    "password_protected.xlsx": "encrypted",
    "billion_laughs.xlsx": "xml_entities",
    "xxe_sheet.xlsx": "xml_entities",
    "xxe_shared_strings.xlsx": "xml_entities",
    "xxe_workbook.xlsx": "xml_entities",
    "not_a_spreadsheet.zip": "not_xlsx",
    "opendocument.xlsx": "unsupported_format",
    "binary_workbook.xlsx": "unsupported_format",
    "path_traversal.xlsx": "zip_paths",
    "truncated.xlsx": "corrupt_xlsx",
    "lying_size.xlsx": "corrupt_xlsx",
    # Built at test time (big by nature):
    "zip_bomb.xlsx": "zip_bomb",
    "zip_bomb_many_members.xlsx": "zip_bomb",
    "million_char_cell.csv": "cell_too_long",
    "million_char_cell.xlsx": "cell_too_long",
    "ten_thousand_columns.csv": "too_many_columns",
    "ten_thousand_columns.xlsx": "too_many_columns",
}


# ---------------------------------------------------------------------------------------------
# Generated at test time.


def zip_bomb_xlsx(gigabytes: int = 1) -> bytes:
    """A ~1 MB XLSX whose sheet inflates to ``gigabytes`` GB: the same full-flushed deflate block
    of 1 MB of zeros repeated (built in a fraction of a second), with an honest directory."""
    block = bytes(1 << 20)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    piece = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    count = gigabytes * 1024
    tail = compressor.flush(zlib.Z_FINISH)
    # After a full flush the compressor's state is reset, so every block compresses the same.
    data = piece * count + tail
    crc = 0
    for _ in range(count):
        crc = zlib.crc32(block, crc)
    size = len(block) * count
    name = b"xl/worksheets/sheet1.xml"
    dos_time, dos_date = 0, (2026 - 1980) << 9 | 1 << 5 | 1
    local = struct.pack(
        "<IHHHHHIIIHH",
        0x04034B50,
        45,
        0,
        8,
        dos_time,
        dos_date,
        crc,
        len(data),
        size & 0xFFFFFFFF,
        len(name),
        0,
    )
    central = struct.pack(
        "<IHHHHHHIIIHHHHHII",
        0x02014B50,
        45,
        45,
        0,
        8,
        dos_time,
        dos_date,
        crc,
        len(data),
        size & 0xFFFFFFFF,
        len(name),
        0,
        0,
        0,
        0,
        0,
        0,
    )
    if size > 0xFFFFFFFF:
        raise ValueError("keep the bomb under 4 GiB (no zip64 here)")
    body = local + name + data
    directory = central + name
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(directory), len(body), 0)
    return body + directory + end


def many_members_xlsx(count: int = 5_000) -> bytes:
    extra = {f"xl/media/image{i}.png": b"" for i in range(count)}
    return xlsx_package(sheet_xml(inline_rows([["a"]])), extra=extra)


def _noise(count: int) -> str:
    """``count`` CJK characters that do not compress much (a fixed LCG, so deterministic)."""
    state, chars = 12345, []
    for _ in range(count):
        state = (state * 1103515245 + 12345) & 0x7FFFFFFF
        chars.append(chr(0x4E00 + state % 20000))
    return "".join(chars)


def million_char_cell_csv() -> bytes:
    cells = [*ROW]
    cells[2] = _noise(1_000_000)  # the model (column C) of row 2
    return ("\ufeff" + HEADER + "\r\n" + ",".join(cells) + "\r\n").encode()


def million_char_cell_xlsx() -> bytes:
    cells = [*ROW]
    cells[2] = _noise(1_000_000)
    return xlsx_package(sheet_xml(inline_rows([HEADER.split(","), cells])))


def ten_thousand_columns_csv() -> bytes:
    return (HEADER + "," + ",".join(f"c{i}" for i in range(10_000)) + "\r\n").encode()


def ten_thousand_columns_xlsx() -> bytes:
    return xlsx_package(sheet_xml(inline_rows([HEADER.split(",") + [f"c{i}" for i in range(10_000)]])))


GENERATED: dict[str, Callable[[], bytes]] = {
    "zip_bomb.xlsx": zip_bomb_xlsx,
    "zip_bomb_many_members.xlsx": many_members_xlsx,
    "million_char_cell.csv": million_char_cell_csv,
    "million_char_cell.xlsx": million_char_cell_xlsx,
    "ten_thousand_columns.csv": ten_thousand_columns_csv,
    "ten_thousand_columns.xlsx": ten_thousand_columns_xlsx,
}


def generated(name: str) -> bytes:
    return GENERATED[name]()


def write_corpus(folder: Path = FIXTURES) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, build in CORPUS.items():
        path = folder / name
        path.write_bytes(build())
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write_corpus():
        print(f"{path.stat().st_size:>8}  {path.name}")
    sys.exit(0)
