"""Error reports and safe spreadsheet exports.

An error report is the supplier's own rows with two columns in front: 错误说明 (every problem of
the row, or empty) and 原行号 (the row number the messages refer to). The supplier fixes the rows
in the report and uploads it again as it is: the validator ignores both columns.

Anything this project exports to CSV or XLSX goes through :func:`safe_cell`: a value a
spreadsheet would run as a formula (leading ``=``, ``+``, ``-``, ``@``, tab or carriage return —
the OWASP list) gets a leading apostrophe, so ``=HYPERLINK(...)`` typed by a supplier stays text
for the operator who opens the export. A plain number such as ``-5`` is not a formula and stays
as it is (in XLSX, numeric columns get real numbers).

Both writers stream: CSV through ``csv.writer``, XLSX through openpyxl's write-only workbook, so
a 200,000-row report does not sit in memory.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any, BinaryIO

from catalog_import.columns import ERROR_COLUMN, ROW_NUMBER_COLUMN, ColumnMap

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^-?(?:\d+|\d{1,3}(?:,\d{3})+)(?:\.\d+)?$")
# Characters XML 1.0 cannot hold (openpyxl refuses them); dropped from XLSX exports.
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def safe_cell(value: Any) -> Any:
    """A value ready for a CSV or XLSX cell: text that would start a formula is prefixed with
    ``'``; numbers, booleans, dates and None pass through."""
    if not isinstance(value, str):
        return value
    if value.startswith(FORMULA_PREFIXES) and not _PLAIN_NUMBER.match(value):
        return "'" + value
    return value


def safe_row(values: Iterable[Any]) -> list[Any]:
    return [safe_cell(v) for v in values]


def _xlsx_value(value: Any, numeric: bool) -> Any:
    if isinstance(value, str):
        if numeric and _PLAIN_NUMBER.match(value) and "," not in value:
            number = Decimal(value)
            return int(number) if number == number.to_integral_value() and "." not in value else number
        value = _ILLEGAL_XML.sub("", value)
    return safe_cell(value)


class CsvExport:
    """Rows to CSV: UTF-8 with BOM (Excel opens it without asking), CRLF, every cell safe."""

    def __init__(self, out: BinaryIO):
        self._out = out
        self._text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
        self._text.write(codecs.BOM_UTF8.decode("utf-8"))
        self._writer = csv.writer(self._text, lineterminator="\r\n")

    def write(self, values: Iterable[Any]) -> None:
        self._writer.writerow(safe_row(values))

    def close(self) -> None:
        self._text.flush()
        self._text.detach()


class XlsxExport:
    """Rows to one XLSX sheet (openpyxl write-only), every cell safe. ``numeric`` lists the
    0-based columns whose plain numbers are written as numbers."""

    def __init__(self, out: BinaryIO, *, sheet_title: str = "Sheet1", numeric: Iterable[int] = ()):
        from openpyxl import Workbook

        self._out = out
        self._workbook = Workbook(write_only=True)
        self._sheet = self._workbook.create_sheet(title=sheet_title[:31])
        self._numeric = frozenset(numeric)

    def set_widths(self, widths: Sequence[float]) -> None:
        from openpyxl.utils import get_column_letter

        for index, width in enumerate(widths):
            self._sheet.column_dimensions[get_column_letter(index + 1)].width = width

    def freeze(self, cell: str) -> None:
        self._sheet.freeze_panes = cell

    def write(self, values: Iterable[Any], *, style: dict[str, Any] | None = None) -> None:
        numeric = self._numeric
        row = [_xlsx_value(v, i in numeric) for i, v in enumerate(values)]
        if style:
            from openpyxl.cell import WriteOnlyCell

            cells = []
            for value in row:
                cell = WriteOnlyCell(self._sheet, value=value)
                for key, attr in style.items():
                    setattr(cell, key, attr)
                cells.append(cell)
            self._sheet.append(cells)
        else:
            self._sheet.append(row)

    def close(self) -> None:
        self._workbook.save(self._out)


def export_rows(
    out: BinaryIO, fmt: str, header: Sequence[str], rows: Iterable[Iterable[Any]], **kwargs
) -> int:
    """Write a header and rows as ``csv`` or ``xlsx``; every cell neutralised. Returns the number
    of data rows. For the app's exports (offers, orders, statistics…)."""
    writer = CsvExport(out) if fmt == "csv" else XlsxExport(out, **kwargs)
    writer.write(header)
    count = 0
    for row in rows:
        writer.write(row)
        count += 1
    writer.close()
    return count


class ErrorReportWriter:
    """The error report of one upload, written row by row as results arrive.

    ``write(result_row, cells, message)`` for every data row in file order (clean rows with an
    empty message, so the supplier can fix and re-upload the whole file)."""

    def __init__(self, out: BinaryIO, fmt: str, columns: ColumnMap):
        if fmt not in ("csv", "xlsx"):
            raise ValueError(f"unknown report format {fmt!r}")
        self.fmt = fmt
        self.rows = 0
        self.error_rows = 0
        header = [ERROR_COLUMN, ROW_NUMBER_COLUMN, *columns.header]
        numeric = {1}
        by_position = {position: code for code, position in columns.positions.items()}
        for position, code in by_position.items():
            if columns.spec.column(code).numeric:
                numeric.add(position + 2)
        self._width = len(columns.header)
        if fmt == "csv":
            self._writer: CsvExport | XlsxExport = CsvExport(out)
            self._writer.write(header)
        else:
            from openpyxl.styles import Alignment, Font, PatternFill

            writer = XlsxExport(out, sheet_title="错误报告", numeric=numeric)
            writer.set_widths([60, 8, *(max(10, min(40, len(h) * 2)) for h in columns.header)])
            writer.freeze("C2")
            writer.write(header, style={"font": Font(bold=True)})
            self._error_style = {
                "font": Font(color="9C0006"),
                "fill": PatternFill("solid", fgColor="FFC7CE"),
                "alignment": Alignment(wrap_text=True, vertical="top"),
            }
            self._writer = writer

    def write(self, row: int, cells: Sequence[str], message: str) -> None:
        self.rows += 1
        values = [message, row, *cells[: self._width]]
        if len(cells) > self._width:
            values.extend(cells[self._width :])
        if message:
            self.error_rows += 1
        if self.fmt == "xlsx" and message:
            writer = self._writer
            if not isinstance(writer, XlsxExport):  # pragma: no cover - fmt decides the writer
                raise TypeError(writer)
            from openpyxl.cell import WriteOnlyCell

            first = WriteOnlyCell(writer._sheet, value=_xlsx_value(message, False))
            for key, attr in self._error_style.items():
                setattr(first, key, attr)
            rest = [_xlsx_value(v, i + 1 in writer._numeric) for i, v in enumerate(values[1:])]
            writer._sheet.append([first, *rest])
        else:
            self._writer.write(values)

    def close(self) -> None:
        self._writer.close()


def write_error_report(
    out: BinaryIO, fmt: str, columns: ColumnMap, results: Iterable[Any]
) -> ErrorReportWriter:
    """Write the report of ``results`` (:class:`~catalog_import.validate.RowResult` values, or
    anything with ``row``, ``cells`` and ``message``). Returns the closed writer (its counts)."""
    writer = ErrorReportWriter(out, fmt, columns)
    for result in results:
        writer.write(result.row, result.cells, result.message)
    writer.close()
    return writer
