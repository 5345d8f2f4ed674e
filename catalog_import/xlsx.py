"""Streaming XLSX reading that a hostile file cannot turn against the server.

An XLSX file is a zip of XML parts. Before anything is inflated the zip's directory is checked
(member count, names, encryption, compression method, declared sizes, per-member compression
ratio); while inflating, the bytes actually produced are counted against the same budget, since a
directory can lie. Every XML part is parsed by expat with DTDs refused outright (what defusedxml
does: no entity declarations, so neither billion-laughs expansion nor external entities such as
``file:///etc/passwd``); small parts go through ``defusedxml.ElementTree``, the sheet and the
shared strings through raw expat handlers, so memory stays flat and rows come out as they are
parsed. openpyxl's own read-only reader manages about 2,000 rows/s on a 25-column sheet; this one
is several times faster, which the upload benchmark needs (``bench/catalog_import.py``).

Values come out as text, as the supplier saw them: numbers without a trailing ``.0`` (and at
Excel's 15 significant digits, so ``4999.9899999999998`` is ``4999.99``), dates as ISO
``2024-05-01``, booleans as ``TRUE``/``FALSE``, formula cells as their cached result.
"""

from __future__ import annotations

import gc
import os
import posixpath
import pyexpat
import re
import tempfile
import zipfile
import zlib
from array import array
from collections.abc import Callable, Iterator
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import IO
from xml.sax.saxutils import quoteattr

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from catalog_import.errors import ImportFileError
from catalog_import.limits import Limits

DATA_SHEET_NAME = "商品清单"
CHUNK = 1 << 20

_REL_OFFICE_DOCUMENT = "/officeDocument"
_REL_WORKSHEET = "/worksheet"
_REL_SHARED_STRINGS = "/sharedStrings"
_REL_STYLES = "/styles"

# Built-in number formats that are dates or times (ECMA-376 18.8.30).
_BUILTIN_DATE_FORMATS = frozenset({*range(14, 23), *range(27, 37), *range(45, 48), *range(50, 59)})


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _attr(element, local_name: str) -> str | None:
    """An attribute by its local name, whatever its namespace (transitional or strict OOXML)."""
    for key, value in element.attrib.items():
        if _local(key) == local_name:
            return value
    return None


def _corrupt(detail: str, code: str = "corrupt_xlsx") -> ImportFileError:
    return ImportFileError(
        f"Excel 文件已损坏或不是有效的 .xlsx（{detail}）；请用 Excel 打开后重新“另存为 .xlsx”再上传",
        code=code,
    )


class _DtdForbidden(Exception):
    pass


def _forbid_dtd(*_args) -> None:
    raise _DtdForbidden


def _hostile_xml() -> ImportFileError:
    return ImportFileError(
        "Excel 文件中含有 XML 实体声明（DTD），正常的 Excel 文件不会包含，可能是恶意构造的文件，已拒绝；"
        "请用 Excel 打开后重新“另存为 .xlsx”再上传",
        code="xml_entities",
    )


def _secure_expat() -> pyexpat.XMLParserType:
    parser = pyexpat.ParserCreate()
    parser.StartDoctypeDeclHandler = _forbid_dtd
    parser.EntityDeclHandler = _forbid_dtd
    parser.UnparsedEntityDeclHandler = _forbid_dtd
    parser.ExternalEntityRefHandler = _forbid_dtd
    parser.SetParamEntityParsing(pyexpat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.buffer_text = True
    parser.buffer_size = 1 << 16
    return parser


def check_zip(archive: zipfile.ZipFile, limits: Limits) -> None:
    """Refuse a zip whose directory already shows a bomb or a trick, before inflating anything."""
    members = archive.infolist()
    if len(members) > limits.max_zip_members:
        raise ImportFileError(
            f"文件包含 {len(members)} 个内部部件，超过 {limits.max_zip_members} 个，"
            "不是正常的 Excel 文件，已拒绝",
            code="zip_bomb",
        )
    total = 0
    for info in members:
        name = info.filename
        if name.startswith(("/", "\\")) or "\\" in name or "\x00" in name or ".." in name.split("/"):
            raise ImportFileError(
                f"文件内部路径异常（{name[:60]}），不是正常的 Excel 文件，已拒绝", code="zip_paths"
            )
        if info.flag_bits & 0x1:
            raise ImportFileError(
                "Excel 文件已加密（设置了打开密码）；请在 Excel 中取消密码后另存为 .xlsx 再上传",
                code="encrypted",
            )
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise _corrupt(f"不支持的压缩方式 {info.compress_type}")
        if info.file_size > limits.ratio_floor_bytes and info.file_size > limits.max_compression_ratio * max(
            info.compress_size, 1
        ):
            raise ImportFileError(
                f"文件中的部件 {name[:60]} 压缩比异常（{info.file_size // max(info.compress_size, 1)}:1，"
                f"上限 {limits.max_compression_ratio}:1），疑似“压缩炸弹”，已拒绝",
                code="zip_bomb",
            )
        total += info.file_size
    if total > limits.max_uncompressed_bytes:
        raise ImportFileError(
            f"文件解压后共 {total // (1024 * 1024)} MB，"
            f"超过 {limits.max_uncompressed_bytes // (1024 * 1024)} MB 上限，"
            "疑似“压缩炸弹”或内容过多；请拆分为多个文件",
            code="zip_bomb",
        )


class _Budget:
    """Bytes actually inflated, across every part read, against the uncompressed limit."""

    def __init__(self, limits: Limits):
        self.left = limits.max_uncompressed_bytes
        self.limit = limits.max_uncompressed_bytes

    def take(self, size: int) -> None:
        self.left -= size
        if self.left < 0:
            raise ImportFileError(
                f"文件解压后超过 {self.limit // (1024 * 1024)} MB 上限，疑似“压缩炸弹”，已拒绝",
                code="zip_bomb",
            )


def _member_chunks(archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: _Budget) -> Iterator[bytes]:
    produced = 0
    with archive.open(info) as member:
        while True:
            chunk = member.read(CHUNK)
            if not chunk:
                return
            produced += len(chunk)
            if produced > info.file_size:  # zipfile stops at the declared size; be sure
                raise ImportFileError("文件内部大小与声明不符，疑似“压缩炸弹”，已拒绝", code="zip_bomb")
            budget.take(len(chunk))
            yield chunk


def _parse_stream(parser: pyexpat.XMLParserType, chunks: Iterator[bytes], after_chunk: Callable[[], None]):
    for chunk in chunks:
        parser.Parse(chunk, False)
        after_chunk()
    parser.Parse(b"", True)
    after_chunk()


# ---------------------------------------------------------------------------------------------
# Shared strings: kept in memory up to a budget, the rest spilled to a temporary file, so a
# workbook with a million distinct strings does not hold them all in RAM.


class SharedStrings:
    def __init__(self, memory_chars: int = 2_000_000):
        self._memory: list[str] = []
        self._memory_chars = memory_chars
        self._spill: IO[bytes] | None = None
        self._offsets = array("Q", [0])
        self._spill_end = 0

    def append(self, text: str) -> None:
        if self._spill is None:
            self._memory_chars -= len(text)
            if self._memory_chars >= 0:
                self._memory.append(text)
                return
            self._spill = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()
        data = text.encode("utf-8")
        self._spill.write(data)
        self._spill_end += len(data)
        self._offsets.append(self._spill_end)

    def finish(self) -> None:
        if self._spill is not None:
            self._spill.flush()

    def __len__(self) -> int:
        return len(self._memory) + len(self._offsets) - 1

    def get(self, index: int) -> str:
        if index < 0:
            raise IndexError(index)
        memory = self._memory
        if index < len(memory):
            return memory[index]
        index -= len(memory)
        if self._spill is None or index + 1 >= len(self._offsets):
            raise IndexError(index)
        start, end = self._offsets[index], self._offsets[index + 1]
        return os.pread(self._spill.fileno(), end - start, start).decode("utf-8")

    def close(self) -> None:
        if self._spill is not None:
            self._spill.close()
            self._spill = None


def _load_shared_strings(chunks: Iterator[bytes], max_chars: int) -> SharedStrings:
    """Stream ``sharedStrings.xml``; every string is cut at ``max_chars`` + 1 characters, enough
    for the cell check to refuse it without holding a million characters."""
    table = SharedStrings()
    parser = _secure_expat()
    parts: list[str] = []
    state = {"depth_t": 0, "rph": 0, "size": 0}
    cap = max_chars + 1

    def start(name: str, _attrs) -> None:
        local = name.rsplit(":", 1)[-1]
        if local == "t":
            state["depth_t"] += 1
        elif local == "rPh":
            state["rph"] += 1
        elif local == "si":
            parts.clear()
            state["size"] = 0

    def end(name: str) -> None:
        local = name.rsplit(":", 1)[-1]
        if local == "t":
            state["depth_t"] -= 1
        elif local == "rPh":
            state["rph"] -= 1
        elif local == "si":
            table.append("".join(parts)[:cap])

    def data(text: str) -> None:
        if state["depth_t"] and not state["rph"] and state["size"] < cap:
            parts.append(text)
            state["size"] += len(text)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = data
    _parse_stream(parser, chunks, lambda: None)
    table.finish()
    return table


# ---------------------------------------------------------------------------------------------
# Cell values as text.


def format_number(text: str) -> str:
    """An XLSX number as a person would type it: ``16`` not ``16.0``, 15 significant digits
    (Excel's precision), never an exponent."""
    if text.isdigit():
        return text.lstrip("0") or "0" if text[0] == "0" else text
    try:
        number = Decimal(text)
    except InvalidOperation:
        return text
    if not number.is_finite():
        return text
    if len(number.as_tuple().digits) > 15 and number.adjusted() < 15:
        number = round(number, 14 - number.adjusted())
    out = format(number.normalize(), "f")
    return "0" if out == "-0" else out


def _serial_to_iso(text: str, date1904: bool) -> str:
    try:
        serial = float(text)
    except ValueError:
        return text
    if serial < 0 or serial > 2958465:  # 9999-12-31
        return format_number(text)
    from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, from_excel

    value = from_excel(serial, CALENDAR_MAC_1904 if date1904 else CALENDAR_WINDOWS_1900)
    if isinstance(value, time):
        return value.replace(microsecond=0).isoformat()
    if isinstance(value, datetime):
        value = value.replace(microsecond=0)
        if value.time() == time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return format_number(text)


def _date_styles(xml: bytes) -> list[bool]:
    """For each cell style index (``s`` attribute), whether its number format is a date."""
    from openpyxl.styles.numbers import is_date_format

    root = fromstring(xml, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    custom: dict[int, str] = {}
    out: list[bool] = []
    for element in root:
        local = _local(element.tag)
        if local == "numFmts":
            for fmt in element:
                try:
                    custom[int(_attr(fmt, "numFmtId") or "-1")] = _attr(fmt, "formatCode") or ""
                except ValueError:
                    continue
        elif local == "cellXfs":
            for xf in element:
                try:
                    fmt_id = int(_attr(xf, "numFmtId") or "0")
                except ValueError:
                    fmt_id = 0
                if fmt_id in custom:
                    out.append(bool(is_date_format(custom[fmt_id])))
                else:
                    out.append(fmt_id in _BUILTIN_DATE_FORMATS)
    return out


# ---------------------------------------------------------------------------------------------
# The workbook.


class _Fallback(Exception):
    """The fast sheet parser cannot handle this sheet; use the streaming expat parser."""


_XML_ENCODING = re.compile(rb"^(?:\xef\xbb\xbf)?<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")


def _utf8_part(head: bytes) -> bool:
    """Whether an XML part is UTF-8 (the fast path cuts bytes; OPC also allows UTF-16)."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return False
    match = _XML_ENCODING.match(head)
    return match is None or match.group(1).lower() in (b"utf-8", b"utf8")


class _HeadDone(Exception):
    pass


class _SheetHead:
    """Reads a worksheet part up to its <sheetData> start tag through the secure expat parser
    (so a DTD is refused there too) and remembers what the fast path needs."""

    def __init__(self) -> None:
        self.prefix = ""
        self.namespace = ""
        self.opening = b""
        self.empty = False
        self._declarations: dict[str, str] = {}
        self._offset = -1

    def read(self, chunks: Iterator[bytes], limit: int) -> bytes | None:
        """The bytes after the <sheetData> start tag, or None when the fast path cannot be
        used. ``chunks`` is left positioned after what was consumed."""
        parser = _secure_expat()
        fed = bytearray()
        depth = 0

        def start(name: str, attrs: dict) -> None:
            nonlocal depth
            depth += 1
            if depth == 1:
                self.prefix = name[: name.index(":") + 1] if ":" in name else ""
                self._declarations = {
                    k: v for k, v in attrs.items() if k == "xmlns" or k.startswith("xmlns:")
                }
                return
            if depth == 2 and name == f"{self.prefix}sheetData":
                self._declarations.update(
                    {k: v for k, v in attrs.items() if k == "xmlns" or k.startswith("xmlns:")}
                )
                self._offset = parser.CurrentByteIndex
                raise _HeadDone

        def end(_name: str) -> None:
            nonlocal depth
            depth -= 1

        parser.StartElementHandler = start
        parser.EndElementHandler = end
        for chunk in chunks:
            if not fed and not _utf8_part(chunk):
                return None
            fed += chunk
            try:
                parser.Parse(chunk, False)
            except _HeadDone:
                break
            if len(fed) > limit:
                return None
        else:
            return None
        key = "xmlns:" + self.prefix[:-1] if self.prefix else "xmlns"
        self.namespace = self._declarations.get(key, "")
        if not self.namespace:
            return None
        rest = bytes(fed[self._offset :])
        close = rest.find(b">")
        if close < 0:
            return None
        self.empty = rest[close - 1 : close] == b"/"
        declarations = "".join(f" {k}={quoteattr(v)}" for k, v in self._declarations.items())
        self.opening = f"<{self.prefix}sheetData{declarations}>".encode()
        return rest[close + 1 :]


class XlsxSource:
    """The first worksheet of an XLSX file (the one named 商品清单 when there is one), as a
    stream of ``(row_number, cells)`` for rows with at least one value."""

    def __init__(self, stream: IO[bytes], limits: Limits):
        self.limits = limits
        self.shared: SharedStrings | None = None
        try:
            self.archive = zipfile.ZipFile(stream)
        except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, OSError) as exc:
            raise _corrupt("无法读取压缩包目录") from exc
        self._names = {info.filename: info for info in self.archive.infolist()}
        self._lower = {name.lower(): info for name, info in self._names.items()}
        self.budget = _Budget(limits)
        try:
            check_zip(self.archive, limits)
            self._locate_parts()
        except ImportFileError:
            self.close()
            raise
        except _DtdForbidden as exc:
            self.close()
            raise _hostile_xml() from exc
        except DefusedXmlException as exc:
            self.close()
            raise _hostile_xml() from exc
        except Exception as exc:
            self.close()
            raise _translate(exc) from exc

    # -- parts -------------------------------------------------------------------------------

    def _info(self, name: str) -> zipfile.ZipInfo | None:
        return self._names.get(name) or self._lower.get(name.lower())

    def _read_small(self, name: str) -> bytes:
        info = self._info(name)
        if info is None:
            raise _corrupt(f"缺少 {name}")
        if info.file_size > self.limits.max_xml_part_bytes:
            raise ImportFileError(
                f"Excel 文件中的 {name} 过大（{info.file_size // (1024 * 1024)} MB），已拒绝", code="zip_bomb"
            )
        return b"".join(_member_chunks(self.archive, info, self.budget))

    def _xml(self, name: str):
        return fromstring(self._read_small(name), forbid_dtd=True, forbid_entities=True, forbid_external=True)

    def _rels(self, part: str) -> dict[str, tuple[str, str]]:
        """Relationship id → (type, absolute part name) for ``part``."""
        folder, base = posixpath.split(part)
        rels_name = posixpath.join(folder, "_rels", base + ".rels")
        if self._info(rels_name) is None:
            return {}
        out: dict[str, tuple[str, str]] = {}
        for rel in self._xml(rels_name):
            target = _attr(rel, "Target") or ""
            if _attr(rel, "TargetMode") == "External":
                continue
            path = target.lstrip("/") if target.startswith("/") else posixpath.join(folder, target)
            out[_attr(rel, "Id") or ""] = (_attr(rel, "Type") or "", posixpath.normpath(path))
        return out

    def _locate_parts(self) -> None:
        if self._info("mimetype") is not None and self._info("content.xml") is not None:
            raise ImportFileError(
                "这是 OpenDocument（.ods）表格，请在 WPS 或 Excel 中另存为 .xlsx 或 CSV 后上传",
                code="unsupported_format",
            )
        workbook = None
        for rel_type, path in self._rels("").values():
            if rel_type.endswith(_REL_OFFICE_DOCUMENT):
                workbook = path
        if workbook is None and self._info("xl/workbook.xml") is not None:
            workbook = "xl/workbook.xml"
        if workbook is None or self._info(workbook) is None:
            raise ImportFileError(
                "这个压缩文件不是 Excel 表格（.xlsx）；请上传从模板填写的 .xlsx 或 CSV 文件", code="not_xlsx"
            )
        if workbook.endswith(".bin"):
            raise ImportFileError(
                "这是 Excel 二进制工作簿（.xlsb），请另存为 .xlsx 或 CSV 后上传", code="unsupported_format"
            )
        root = self._xml(workbook)
        rels = self._rels(workbook)
        self.date1904 = False
        sheets: list[tuple[str, str]] = []
        for element in root:
            local = _local(element.tag)
            if local == "workbookPr":
                self.date1904 = (_attr(element, "date1904") or "").lower() in ("1", "true")
            elif local == "sheets":
                for sheet in element:
                    rel = rels.get(_attr(sheet, "id") or "")
                    if rel is None or not rel[0].endswith(_REL_WORKSHEET):
                        continue
                    if (_attr(sheet, "state") or "visible") != "visible":
                        continue
                    sheets.append((_attr(sheet, "name") or "", rel[1]))
        if not sheets:
            raise _corrupt("没有可读取的工作表")
        chosen = next((path for name, path in sheets if name == DATA_SHEET_NAME), sheets[0][1])
        self.sheet_name = next(name for name, path in sheets if path == chosen)
        self._sheet = self._info(chosen)
        if self._sheet is None:
            raise _corrupt(f"缺少工作表 {chosen}")
        self.date_styles: list[bool] = []
        self._shared_part: zipfile.ZipInfo | None = None
        for rel_type, path in rels.values():
            if rel_type.endswith(_REL_STYLES) and self._info(path) is not None:
                self.date_styles = _date_styles(self._read_small(path))
            elif rel_type.endswith(_REL_SHARED_STRINGS):
                self._shared_part = self._info(path)

    # -- rows --------------------------------------------------------------------------------

    def records(self, on_long_cell: Callable[[int, int], ImportFileError]) -> Iterator[tuple[int, list[str]]]:
        """Rows with at least one non-empty cell. ``on_long_cell(row, column_index)`` builds the
        error for a cell over the length limit (the caller knows the header labels)."""
        try:
            if self._shared_part is not None and self.shared is None:
                self.shared = _load_shared_strings(
                    _member_chunks(self.archive, self._shared_part, self.budget), self.limits.max_cell_chars
                )
            yield from self._sheet_rows(on_long_cell)
        except ImportFileError:
            raise
        except _DtdForbidden as exc:
            raise _hostile_xml() from exc
        except Exception as exc:
            raise _translate(exc) from exc

    def _converter(self) -> Callable[[str | None, str | None, str], str]:
        """(cell type, style index, raw text) → the cell's text as the supplier saw it."""
        shared_get = self.shared.get if self.shared is not None else None
        date_styles = self.date_styles
        date1904 = self.date1904

        def convert(kind: str | None, style: str | None, text: str) -> str:
            if kind == "inlineStr" or kind == "str" or kind == "e":
                return text
            if kind == "s":
                return shared_get(int(text)) if shared_get is not None else ""
            if kind is None or kind == "n":
                if style is not None and date_styles:
                    index = int(style)
                    if index < len(date_styles) and date_styles[index]:
                        return _serial_to_iso(text, date1904)
                return format_number(text)
            if kind == "b":
                return "TRUE" if text.strip() in ("1", "true") else "FALSE"
            if kind == "d":
                return text[:-9] if text.endswith("T00:00:00") else text.replace("T", " ")
            return text

        return convert

    def _column_of(self) -> Callable[[str], int]:
        cache: dict[str, int] = {}

        def column_of(ref: str) -> int:
            letters = ref.rstrip("0123456789")
            index = cache.get(letters)
            if index is None:
                index = 0
                for char in letters.upper():
                    code = ord(char) - 64
                    if not 1 <= code <= 26 or index > 1_000_000:
                        raise ValueError(f"bad cell reference {ref[:20]!r}")
                    index = index * 26 + code
                index -= 1
                cache[letters] = index
            return index

        return column_of

    def _too_wide(self, row: int, column: int) -> ImportFileError:
        limit = self.limits.max_columns
        return ImportFileError(
            f"第 {row} 行第 {column + 1} 列有内容，表格最多 {limit} 列；请删除多余的列，只保留模板中的列",
            code="too_many_columns",
            row=row,
        )

    def _sheet_rows(self, on_long_cell) -> Iterator[tuple[int, list[str]]]:
        """The fast path, and the streaming expat parser when the fast path cannot be used (it
        then skips the rows already produced)."""
        done = 0
        try:
            for item in self._fast_rows(on_long_cell):
                yield item
                done += 1
            return
        except _Fallback:
            pass
        for index, item in enumerate(self._expat_rows(on_long_cell, _Budget(self.limits))):
            if index >= done:
                yield item

    # -- fast path -----------------------------------------------------------------------------
    #
    # Expat calls back into Python for every start tag, end tag and text run: five to seven calls
    # a cell. The fast path lets the C ElementTree parser build whole batches of rows instead.
    # The document's head (everything before <sheetData>) goes through the secure expat parser,
    # which refuses a DTD and tells where <sheetData> starts and which namespace it uses. The rows
    # are then cut at "</row>" end tags into fragments of ~128 KB, each wrapped in a synthetic
    # <sheetData xmlns=…> element that we write ourselves, so a fragment has no prolog and cannot
    # declare entities: a DOCTYPE or an undefined entity inside it is a syntax error. A cut can
    # only be wrong where "</row>" appears inside a CDATA section or a comment, and then the
    # fragment does not parse: any parse problem falls back to the streaming expat parser.

    FRAGMENT_BYTES = 128 * 1024
    MAX_ROW_BYTES = 16 * 1024 * 1024

    def _fast_rows(self, on_long_cell) -> Iterator[tuple[int, list[str]]]:
        import xml.etree.ElementTree as ET

        chunks = _member_chunks(self.archive, self._sheet, self.budget)
        head = _SheetHead()
        buffer = head.read(chunks, self.limits.max_xml_part_bytes)
        if buffer is None:  # no <sheetData>, not UTF-8, or a head we do not understand
            raise _Fallback
        if head.empty:
            return
        ns = "{" + head.namespace + "}"
        row_tag, c_tag, v_tag, is_tag, t_tag, r_tag = (ns + n for n in ("row", "c", "v", "is", "t", "r"))
        p = head.prefix
        row_end = f"</{p}row>".encode()
        data_end = f"</{p}sheetData>".encode()
        opening = head.opening
        closing = data_end
        convert = self._converter()
        column_of = self._column_of()
        shared_get = self.shared.get if self.shared is not None else None
        date_styles = self.date_styles
        max_chars = self.limits.max_cell_chars
        max_columns = self.limits.max_columns
        fragment_bytes = self.FRAGMENT_BYTES
        row_number = 0

        def inline_text(element) -> str:
            if len(element) == 1 and element[0].tag == t_tag:
                return element[0].text or ""
            parts = []
            for child in element:
                if child.tag == t_tag:
                    parts.append(child.text or "")
                elif child.tag == r_tag:
                    for run in child:
                        if run.tag == t_tag:
                            parts.append(run.text or "")
            return "".join(parts)

        def rows_of(fragment: bytes) -> list[tuple[int, list[str]]]:
            # A fragment is tens of thousands of elements: with the cyclic garbage collector on,
            # each one counts towards a collection that walks every object of the process (the
            # whole app), which halves the speed. Element trees hold no reference cycles, so
            # reference counting frees them; the collector is paused for this call only.
            paused = gc.isenabled()
            if paused:
                gc.disable()
            try:
                return parse_fragment(fragment)
            finally:
                if paused:
                    gc.enable()

        def parse_fragment(fragment: bytes) -> list[tuple[int, list[str]]]:
            nonlocal row_number
            try:
                # Not defusedxml: the fragment is wrapped in a root we write ourselves, so it has no
                # prolog and cannot declare entities (see the comment above _fast_rows).
                root = ET.fromstring(opening + fragment + closing)  # noqa: S314
            except ET.ParseError as exc:
                raise _Fallback from exc
            out = []
            for row in root:
                if row.tag != row_tag:
                    continue
                ref = row.get("r")
                row_number = int(ref) if ref else row_number + 1
                values: list[str] = []
                column = -1
                for cell in row:
                    if cell.tag != c_tag:
                        continue
                    get = cell.get
                    ref = get("r")
                    column = column_of(ref) if ref else column + 1
                    kind = get("t")
                    if kind == "inlineStr":
                        holder = cell.find(is_tag)
                        if holder is None:
                            continue
                        if len(holder) == 1 and holder[0].tag == t_tag:
                            value = holder[0].text or ""
                        else:
                            value = inline_text(holder)
                    else:
                        v = cell.find(v_tag)
                        if v is None or not v.text:
                            continue
                        if kind == "s" and shared_get is not None:
                            value = shared_get(int(v.text))
                        elif kind is None and not date_styles:
                            value = format_number(v.text)
                        else:
                            value = convert(kind, get("s"), v.text)
                    if not value:
                        continue
                    if len(value) > max_chars:
                        raise on_long_cell(row_number, column)
                    if column >= max_columns:
                        raise self._too_wide(row_number, column)
                    width = len(values)
                    if column == width:
                        values.append(value)
                    elif column > width:
                        values.extend([""] * (column - width))
                        values.append(value)
                    else:
                        values[column] = value
                if values and not "".join(values).isspace():
                    out.append((row_number, values))
            return out

        for chunk in chunks:
            buffer += chunk
            start = 0
            while len(buffer) - start > fragment_bytes:
                cut = buffer.rfind(row_end, start, start + fragment_bytes)
                if cut < 0:
                    cut = buffer.find(row_end, start + fragment_bytes)
                    if cut < 0:
                        if len(buffer) - start > self.MAX_ROW_BYTES:
                            raise _Fallback
                        break
                cut += len(row_end)
                yield from rows_of(buffer[start:cut])
                start = cut
            buffer = buffer[start:]
        end = buffer.find(data_end)
        if end < 0:
            raise _Fallback
        yield from rows_of(buffer[:end])

    # -- streaming expat path ------------------------------------------------------------------

    def _expat_rows(self, on_long_cell, budget: _Budget) -> Iterator[tuple[int, list[str]]]:
        """The sheet's rows, parsed by expat callbacks with constant memory whatever the rows
        look like. State lives in closure variables; the common case first."""
        limits = self.limits
        cap = limits.max_cell_chars + 1
        max_chars = limits.max_cell_chars
        max_columns = limits.max_columns
        convert = self._converter()
        column_of = self._column_of()
        ready: list[tuple[int, list[str]]] = []

        values: list[str] = []
        collecting = False  # inside <v> or <t> (not in a phonetic run)
        text = ""  # the current cell's text so far
        size = 0
        kind: str | None = None  # the cell's t attribute
        style: str | None = None  # the cell's s attribute
        column = -1
        row_number = 0
        phonetic = 0
        prefix = ""
        prefix_length = 0

        def start(name: str, attrs: dict) -> None:
            nonlocal collecting, text, size, kind, style, column, row_number, values, phonetic
            if prefix_length:
                if not name.startswith(prefix):
                    return
                name = name[prefix_length:]
            if name == "c":
                ref = attrs.get("r")
                column = column_of(ref) if ref else column + 1
                kind = attrs.get("t")
                style = attrs.get("s")
                text = ""
                size = 0
            elif name == "v" or name == "t":
                collecting = not phonetic
            elif name == "row":
                ref = attrs.get("r")
                row_number = int(ref) if ref else row_number + 1
                column = -1
                values = []
            elif name == "rPh":
                phonetic += 1

        def end(name: str) -> None:
            nonlocal collecting, text, phonetic
            if prefix_length:
                if not name.startswith(prefix):
                    return
                name = name[prefix_length:]
            if name == "v" or name == "t":
                collecting = False
            elif name == "c":
                if not text:
                    return
                value = convert(kind, style, text)
                text = ""
                if not value:
                    return
                if len(value) > max_chars:
                    raise on_long_cell(row_number, column)
                if column >= max_columns:
                    raise self._too_wide(row_number, column)
                width = len(values)
                if column == width:
                    values.append(value)
                elif column > width:
                    values.extend([""] * (column - width))
                    values.append(value)
                else:
                    values[column] = value
            elif name == "row":
                if values and not "".join(values).isspace():
                    ready.append((row_number, values))
            elif name == "rPh":
                phonetic -= 1

        def data(chunk: str) -> None:
            nonlocal text, size
            if collecting and size < cap:
                text = text + chunk if text else chunk
                size += len(chunk)

        def first(name: str, attrs: dict) -> None:
            # The root element tells which prefix (if any) the main namespace uses: <x:worksheet>.
            nonlocal prefix, prefix_length
            if ":" in name:
                prefix = name[: name.index(":") + 1]
                prefix_length = len(prefix)
            parser.StartElementHandler = start

        parser = _secure_expat()
        parser.StartElementHandler = first
        parser.EndElementHandler = end
        parser.CharacterDataHandler = data
        parse = parser.Parse
        for chunk in _member_chunks(self.archive, self._sheet, budget):
            parse(chunk, False)
            if ready:
                yield from ready
                ready.clear()
        parse(b"", True)
        if ready:
            yield from ready
            ready.clear()

    def close(self) -> None:
        if self.shared is not None:
            self.shared.close()
            self.shared = None
        self.archive.close()


def _translate(exc: Exception) -> ImportFileError:
    if isinstance(exc, DefusedXmlException):
        return _hostile_xml()
    if isinstance(exc, RuntimeError) and "encrypted" in str(exc).lower():
        return ImportFileError(
            "Excel 文件已加密（设置了打开密码）；请在 Excel 中取消密码后另存为 .xlsx 再上传", code="encrypted"
        )
    if isinstance(exc, pyexpat.ExpatError):
        return _corrupt(f"XML 格式错误：{pyexpat.ErrorString(exc.code) if exc.code else exc}")
    if isinstance(exc, zipfile.BadZipFile | zlib.error | EOFError):
        return _corrupt("压缩数据损坏")
    if isinstance(exc, NotImplementedError):
        return _corrupt("不支持的压缩方式")
    if isinstance(exc, ValueError | IndexError | KeyError | TypeError | OverflowError):
        return _corrupt("单元格数据无法读取")
    if isinstance(exc, OSError):
        return _corrupt("读取失败")
    if isinstance(exc, RecursionError | MemoryError):
        return _corrupt("结构异常")
    raise exc
