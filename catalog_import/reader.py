"""Open a supplier's file as a table of text cells, streaming, whatever it claims to be.

:func:`open_table` decides the format by content, not by the file name: a zip is read as XLSX
(see :mod:`catalog_import.xlsx`), an OLE file (old ``.xls``, or an ``.xlsx`` with an open
password) is refused with what to do, anything else is read as CSV text. CSV encodings are
detected: UTF-8 (with or without BOM) or GB18030 (which contains GBK and GB2312), by strict
decoding of the whole file before the first row is parsed, so a file that changes encoding half
way is refused with the place where it does. The delimiter is a comma, or a tab when the header
line has tabs and no commas; quoting follows RFC 4180.

Row numbers are the ones the supplier sees in a spreadsheet (the header is row 1). Blank rows are
skipped but keep their numbers. Every limit (:class:`catalog_import.limits.Limits`) ends in an
:class:`~catalog_import.errors.ImportFileError` that says what to change.
"""

from __future__ import annotations

import codecs
import csv
import io
import tempfile
from collections.abc import Iterator
from typing import IO, BinaryIO

from catalog_import.columns import column_letter
from catalog_import.errors import ImportFileError
from catalog_import.limits import DEFAULT_LIMITS, Limits
from catalog_import.xlsx import XlsxSource

ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_BINARY_MAGIC = {
    b"%PDF": "PDF 文档",
    b"\x89PNG": "PNG 图片",
    b"\xff\xd8\xff": "JPEG 图片",
    b"GIF8": "GIF 图片",
    b"Rar!": "RAR 压缩包",
    b"7z\xbc\xaf": "7z 压缩包",
    b"\x1f\x8b": "gzip 压缩包",
}
CHUNK = 1 << 20
SAVE_AS = "请在 Excel 或 WPS 中“另存为” .xlsx 或 CSV（UTF-8）后重新上传"


class Table:
    """A file opened for import: ``header`` (the first non-blank row) and ``rows()``, the data
    rows after it as ``(row_number, cells)``; cells are text, a row may be shorter than the header
    (trailing blanks). ``rows()`` streams: it may be iterated once."""

    format: str = ""
    encoding: str | None = None
    sheet_name: str | None = None
    header: list[str]
    header_row: int

    def __init__(self, filename: str, limits: Limits):
        self.filename = filename
        self.limits = limits
        self.header = []
        self.header_row = 1
        self._records: Iterator[tuple[int, list[str]]] = iter(())
        self._consumed = False
        self._owned: IO[bytes] | None = None

    def _start(self, records: Iterator[tuple[int, list[str]]]) -> None:
        self._records = records
        for row, cells in records:
            self.header = [cell.strip() for cell in cells]
            self.header_row = row
            return
        raise ImportFileError(
            f"文件「{self.filename}」没有任何内容（空表）；请在模板中填写后上传", code="empty_file"
        )

    def long_cell_error(self, row: int, column: int) -> ImportFileError:
        label = self.header[column] if column < len(self.header) else ""
        where = f"第 {row} 行第 {column_letter(column)} 列" + (f"（{label}）" if label else "")
        return ImportFileError(
            f"{where}的内容超过 {self.limits.max_cell_chars} 个字符；"
            "请精简该单元格（长说明请放在商品详情中）",
            code="cell_too_long",
            row=row,
            column=column_letter(column),
        )

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        if self._consumed:
            raise RuntimeError("Table.rows() streams the file and can be iterated only once")
        self._consumed = True
        max_rows = self.limits.max_rows
        for count, (row, cells) in enumerate(self._records, start=1):
            if count > max_rows:
                raise ImportFileError(
                    f"数据超过 {max_rows:,} 行（第 {row} 行起超出）；请拆分为多个文件分别上传",
                    code="too_many_rows",
                    row=row,
                )
            yield row, cells

    def close(self) -> None:
        """Release the file's resources (temporary files, the zip)."""
        if self._owned is not None:
            self._owned.close()
            self._owned = None

    def __enter__(self) -> Table:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()


class XlsxTable(Table):
    format = "xlsx"

    def __init__(self, stream: IO[bytes], filename: str, limits: Limits):
        super().__init__(filename, limits)
        self._source = XlsxSource(stream, limits)
        self.sheet_name = self._source.sheet_name
        try:
            self._start(self._source.records(self.long_cell_error))
        except BaseException:
            self._source.close()
            raise

    def close(self) -> None:
        self._source.close()
        super().close()


# ---------------------------------------------------------------------------------------------
# CSV


def _utf16_hint(sample: bytes) -> bool:
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return True
    pairs = sample[:4096]
    if len(pairs) < 4:
        return False
    odd = pairs[1::2].count(0)
    even = pairs[0::2].count(0)
    return max(odd, even) > len(pairs) // 4 and min(odd, even) < len(pairs) // 40


def _decodes(stream: IO[bytes], encoding: str, skip: int) -> int | None:
    """None when the whole stream decodes strictly; else the byte offset of the first failure."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    stream.seek(skip)
    offset = skip
    while True:
        chunk = stream.read(CHUNK)
        try:
            decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError as exc:
            return offset + max(exc.start, 0)
        if not chunk:
            return None
        offset += len(chunk)


def _evidently_utf8(stream: IO[bytes], failure: int) -> bool:
    """Whether the part before the first UTF-8 error already holds several non-ASCII UTF-8
    characters: then the file is UTF-8 with a broken (or pasted-in) part, not GBK. GBK text
    breaks UTF-8 decoding at its first or second Chinese character."""
    stream.seek(0)
    head = stream.read(min(failure, CHUNK)).decode("utf-8", errors="ignore")
    return sum(1 for char in head if ord(char) > 0x7F) >= 4


def _line_of(stream: IO[bytes], offset: int) -> int:
    stream.seek(0)
    remaining = offset
    lines = 1
    while remaining > 0:
        chunk = stream.read(min(CHUNK, remaining))
        if not chunk:
            break
        lines += chunk.count(b"\n")
        remaining -= len(chunk)
    return lines


def detect_encoding(stream: IO[bytes]) -> tuple[str, int]:
    """(Python codec name, bytes to skip) for a CSV file, or :class:`ImportFileError`."""
    stream.seek(0)
    sample = stream.read(CHUNK)
    if sample.startswith(codecs.BOM_UTF8):
        encoding, skip = "utf-8", len(codecs.BOM_UTF8)
    elif sample.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)) or _utf16_hint(sample):
        raise ImportFileError(
            "文件是 UTF-16/UTF-32（“Unicode 文本”）编码，暂不支持；请在 Excel 中另存为 "
            "“CSV UTF-8（逗号分隔）”或 .xlsx 后上传",
            code="encoding",
        )
    else:
        encoding, skip = "utf-8", 0
    # NUL never occurs in text; a file with one is binary, whatever it decodes as.
    stream.seek(0)
    offset = 0
    while True:
        chunk = stream.read(CHUNK)
        if not chunk:
            break
        nul = chunk.find(b"\x00")
        if nul >= 0:
            raise ImportFileError(
                f"文件包含二进制内容（第 {_line_of(stream, offset + nul)} 行附近），不是文本格式的 CSV，"
                f"也不是 Excel 文件；{SAVE_AS}",
                code="binary",
            )
        offset += len(chunk)
    failure = _decodes(stream, encoding, skip)
    if failure is None:
        return encoding, skip
    utf8 = skip > 0 or _evidently_utf8(stream, failure)
    if not utf8 and _decodes(stream, "gb18030", 0) is None:
        return "gb18030", 0
    line = _line_of(stream, failure)
    if utf8:
        raise ImportFileError(
            f"文件是 UTF-8 编码，但第 {line} 行附近有不是 UTF-8 的内容"
            "（可能是从 GBK 等其他编码的文件粘贴来的）；"
            f"请检查该行，或{SAVE_AS[1:]}",
            code="encoding",
            row=line,
        )
    raise ImportFileError(
        f"无法识别文件编码：文件不是 UTF-8 或 GB18030/GBK 编码的文本（第 {line} 行附近出现无法解码的内容，"
        f"可能混用了多种编码）；{SAVE_AS}",
        code="encoding",
        row=line,
    )


class _Lines:
    """Physical lines of the decoded text, each ending with its newline, never longer than
    ``cap`` characters. Keeps the lines of the record being parsed (``pending``) so an error can
    say which column was too long."""

    def __init__(self, stream: IO[bytes], encoding: str, skip: int, cap: int):
        self.stream = stream
        self.decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
        stream.seek(skip)
        self.cap = cap
        self.pending: list[str] = []
        self.too_long: str | None = None

    def __iter__(self) -> Iterator[str]:
        rest = ""
        pending = self.pending
        cap = self.cap
        mac = None  # classic Mac files end lines with a lone CR
        while True:
            raw = self.stream.read(CHUNK)
            text = self.decoder.decode(raw, final=not raw)
            if mac is None and text:
                mac = "\r" in text and "\n" not in text
            if mac:
                text = text.replace("\r", "\n")
            text = rest + text if rest else text
            if not raw:
                if text:
                    pending.append(text)
                    yield text
                return
            lines = text.split("\n")
            rest = lines.pop()
            for line in lines:
                line += "\n"
                if len(line) > cap:
                    self.too_long = line[:cap]
                    return
                pending.append(line)
                yield line
            if len(rest) > cap:
                self.too_long = rest[:cap]
                return


def _long_field(text: str, delimiter: str, limit: int) -> int:
    """The 0-based index of the first field longer than ``limit`` in a record's text (which may
    be cut short); -1 when none is."""
    index = 0
    position = 0
    size = len(text)
    while position < size:
        if text[position] == '"':
            cursor = position + 1
            while True:
                quote = text.find('"', cursor)
                if quote < 0:
                    return index if size - position - 1 > limit else -1
                if quote + 1 < size and text[quote + 1] == '"':
                    cursor = quote + 2
                    continue
                break
            length = quote - position - 1 - text.count('""', position + 1, quote)
            end = quote + 1
            next_delim = text.find(delimiter, end)
            stop = size if next_delim < 0 else next_delim
        else:
            next_delim = text.find(delimiter, position)
            stop = size if next_delim < 0 else next_delim
            length = len(text[position:stop].rstrip("\r\n"))
        if length > limit:
            return index
        if next_delim < 0:
            return -1
        index += 1
        position = next_delim + 1
    return -1


class CsvTable(Table):
    format = "csv"

    def __init__(self, stream: IO[bytes], filename: str, limits: Limits):
        super().__init__(filename, limits)
        self.stream = stream
        self.encoding, skip = detect_encoding(stream)
        if skip:
            self.encoding = "utf-8-sig"
        stream.seek(skip)
        head = codecs.getincrementaldecoder(self.encoding.replace("-sig", ""))(errors="replace").decode(
            stream.read(64 * 1024)
        )
        first_line = head.lstrip("\r\n").split("\n", 1)[0]
        stripped = head.lstrip().lower()
        if stripped.startswith(("<!doctype html", "<html", "<?xml", "<table")):
            raise ImportFileError(
                "文件是网页（HTML）或 XML 格式，不是 CSV 或 Excel 表格（常见于系统导出的“假 .xls”）；"
                + SAVE_AS,
                code="unsupported_format",
            )
        self.delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
        # A row of the widest allowed table, every cell at its limit and quoted, fits on a line.
        cap = limits.max_columns * (limits.max_cell_chars + 3) + 1024
        self._lines = _Lines(stream, self.encoding.replace("-sig", ""), skip, cap)
        self._start(self._parse())

    def _parse(self) -> Iterator[tuple[int, list[str]]]:
        lines = self._lines
        pending = lines.pending
        reader = csv.reader(lines, delimiter=self.delimiter, strict=False)
        limits = self.limits
        max_chars = limits.max_cell_chars
        max_columns = limits.max_columns
        row = 0
        while True:
            try:
                cells = next(reader, None)
            except csv.Error as exc:
                row += 1
                if "field larger than field limit" in str(exc):
                    raise self._long_record_error(row, "".join(pending)) from exc
                if "NUL" in str(exc):
                    raise ImportFileError(
                        f"第 {row} 行含有二进制内容（NUL）；{SAVE_AS}", code="binary"
                    ) from exc
                raise ImportFileError(
                    f"第 {row} 行 CSV 格式错误（{exc}）；{SAVE_AS}", code="bad_csv"
                ) from exc
            except UnicodeDecodeError as exc:
                raise ImportFileError(
                    f"第 {row + 1} 行附近的内容不是 {self.encoding} 编码；{SAVE_AS}", code="encoding"
                ) from exc
            if lines.too_long is not None:
                raise self._long_record_error(row + 1, "".join(pending) + lines.too_long)
            if cells is None:
                return
            pending.clear()
            row += 1
            if not cells or not "".join(cells).strip():
                continue
            if len(cells) > max_columns and any(cell.strip() for cell in cells[max_columns:]):
                raise ImportFileError(
                    f"第 {row} 行有 {len(cells)} 列，表格最多 {max_columns} 列；"
                    "请删除多余的列，只保留模板中的列",
                    code="too_many_columns",
                    row=row,
                )
            if max(map(len, cells)) > max_chars:
                column = next(i for i, cell in enumerate(cells) if len(cell) > max_chars)
                raise self.long_cell_error(row, column)
            yield row, cells

    def _long_record_error(self, row: int, text: str) -> ImportFileError:
        column = _long_field(text, self.delimiter, self.limits.max_cell_chars)
        if column >= 0:
            return self.long_cell_error(row, column)
        return ImportFileError(
            f"第 {row} 行过长（超过 {self._lines.cap:,} 个字符）；请检查是否有引号未闭合或内容过长的单元格",
            code="cell_too_long",
            row=row,
        )


# ---------------------------------------------------------------------------------------------


def _seekable_copy(stream: BinaryIO, limits: Limits) -> IO[bytes]:
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 - returned
    copied = 0
    while True:
        chunk = stream.read(CHUNK)
        if not chunk:
            break
        copied += len(chunk)
        if copied > limits.max_file_bytes:
            spool.close()
            raise _too_large(limits)
        spool.write(chunk)
    spool.seek(0)
    return spool


def _too_large(limits: Limits) -> ImportFileError:
    return ImportFileError(
        f"文件超过 {limits.max_file_bytes // (1024 * 1024)} MB 上限；请拆分为多个文件分别上传，"
        "或删除图片、多余的工作表后另存",
        code="too_large",
    )


def _size(stream: IO[bytes]) -> int:
    position = stream.tell()
    stream.seek(0, io.SEEK_END)
    size = stream.tell()
    stream.seek(position)
    return size


def _ole_kind(stream: IO[bytes]) -> str:
    """An OLE compound file is either an encrypted OOXML package or an old binary .xls/.doc."""
    stream.seek(0)
    data = stream.read(4 * CHUNK)
    if "EncryptedPackage".encode("utf-16-le") in data:
        return "encrypted"
    return "legacy"


def open_table(stream: BinaryIO, filename: str = "", *, limits: Limits = DEFAULT_LIMITS) -> Table:
    """Open an uploaded catalog file. Raises :class:`ImportFileError` for anything that is not a
    readable table within the limits; no other exception escapes for a bad file."""
    try:
        seekable = stream.seekable()
    except (AttributeError, ValueError):
        seekable = False
    owned: IO[bytes] | None = None
    if not seekable:
        owned = _seekable_copy(stream, limits)
        stream = owned  # type: ignore[assignment]
    try:
        size = _size(stream)
        if size == 0:
            raise ImportFileError(
                f"文件「{filename}」是空文件（0 字节）；请在模板中填写后上传", code="empty_file"
            )
        if size > limits.max_file_bytes:
            raise _too_large(limits)
        stream.seek(0)
        head = stream.read(8)
        stream.seek(0)
        table: Table
        if head.startswith(ZIP_MAGIC):
            table = XlsxTable(stream, filename, limits)
            table._owned = owned
            return table
        if head.startswith(OLE_MAGIC):
            if _ole_kind(stream) == "encrypted":
                raise ImportFileError(
                    "Excel 文件设置了打开密码（已加密），无法读取；"
                    "请在 Excel 中取消密码后另存为 .xlsx 再上传",
                    code="encrypted",
                )
            raise ImportFileError(
                "这是旧版 Excel 97-2003 工作簿（.xls），不支持；请另存为 .xlsx 或 CSV 后上传",
                code="legacy_xls",
            )
        for magic, kind in _BINARY_MAGIC.items():
            if head.startswith(magic):
                raise ImportFileError(
                    f"文件是{kind}，不是表格；请上传从模板填写的 .xlsx 或 CSV 文件", code="binary"
                )
        table = CsvTable(stream, filename, limits)
        table._owned = owned
        return table
    except BaseException:
        if owned is not None:
            owned.close()
        raise


def copy_limited(source: BinaryIO, target: BinaryIO, limits: Limits = DEFAULT_LIMITS) -> int:
    """Copy an upload to storage, refusing it as soon as it passes the size limit."""
    copied = 0
    while True:
        chunk = source.read(CHUNK)
        if not chunk:
            return copied
        copied += len(chunk)
        if copied > limits.max_file_bytes:
            raise _too_large(limits)
        target.write(chunk)
