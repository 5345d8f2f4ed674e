"""Builders for catalog upload tests: a real category spec, rows, files in every format."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence

from catalog_import import (
    CategorySpec,
    InMemoryProductLookup,
    MatchedProduct,
    RowResult,
    open_table,
    validate,
)
from catalog_import.columns import header_cell
from catalog_import.limits import DEFAULT_LIMITS, Limits

DESKTOP = "A02010105"


def category(code: str = DESKTOP) -> CategorySpec:
    """A category spec built from the app's real attribute registry (as the app will)."""
    from app.catalog.registry import REGISTRY_BY_CODE

    registry = REGISTRY_BY_CODE[code]
    return CategorySpec(registry.code, "2022", registry.name, tuple(registry.specs()))


SPEC = category()

# A clean row proposing a new desktop (every column filled).
GOOD = {
    "supplier_sku": "SKU-1",
    "brand": "联想",
    "model": "ThinkCentre M70t",
    "manufacturer": "联想（北京）有限公司",
    "name": "联想 ThinkCentre M70t 台式计算机",
    "price": "4999.00",
    "market_price": "5299.00",
    "market_price_source": "京东自营",
    "stock": "100",
    "regions": "全国",
    "warranty_months": "36",
    "lead_time_days": "3",
    "energy_saving": "是",
    "environmental": "否",
    "origin": "国产",
    "cpu": "英特尔酷睿i5-13500",
    "memory_gb": "16GB",
    "storage_gb": "512",
    "storage_type": "SSD",
    "os": "统信UOS",
    "form_factor": "立式",
    "screen_inch": "23.8",
    "energy_class": "1级",
}

EXISTING = MatchedProduct(
    id=7,
    category_code=DESKTOP,
    brand="联想",
    model="ThinkCentre M80t",
    specs={
        "cpu": "英特尔酷睿i7-13700",
        "memory_gb": 16,
        "storage_gb": 1024,
        "storage_type": "SSD",
        "os": "银河麒麟",
        "form_factor": "立式",
        "energy_class": "1级",
    },
    name="联想 ThinkCentre M80t",
    manufacturer="联想（北京）有限公司",
    energy_saving=True,
    environmental=False,
    origin="domestic",
)


def row(**changes: str) -> dict[str, str]:
    values = dict(GOOD)
    values.update(changes)
    return values


def header(spec: CategorySpec = SPEC, codes: Sequence[str] | None = None) -> list[str]:
    columns = {c.code: c for c in spec.columns}
    return [header_cell(columns[code]) if code in columns else code for code in (codes or list(columns))]


def matrix(rows: Iterable[Mapping[str, str]], codes: Sequence[str] | None = None, spec: CategorySpec = SPEC):
    codes = list(codes or [c.code for c in spec.columns])
    return [header(spec, codes), *([r.get(code, "") for code in codes] for r in rows)]


def csv_bytes(table: Sequence[Sequence[str]], encoding: str = "utf-8-sig", delimiter: str = ",") -> bytes:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(table)
    return out.getvalue().encode(encoding)


def xlsx_bytes(table: Sequence[Sequence[object]], title: str = "商品清单") -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title
    for values in table:
        sheet.append(list(values))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def file_bytes(rows: Iterable[Mapping[str, str]], fmt: str, codes: Sequence[str] | None = None) -> bytes:
    table = matrix(rows, codes)
    return csv_bytes(table) if fmt == "csv" else xlsx_bytes(table)


def run(
    data: bytes,
    filename: str = "upload.csv",
    *,
    lookup: InMemoryProductLookup | None = None,
    spec: CategorySpec = SPEC,
    limits: Limits = DEFAULT_LIMITS,
    **kwargs,
) -> list[RowResult]:
    with open_table(io.BytesIO(data), filename, limits=limits) as table:
        return list(
            validate(table, spec, lookup if lookup is not None else InMemoryProductLookup(), **kwargs)
        )


def read(data: bytes, filename: str = "upload.csv", limits: Limits = DEFAULT_LIMITS):
    """(table format, encoding, header, rows) of a file."""
    with open_table(io.BytesIO(data), filename, limits=limits) as table:
        return table.format, table.encoding, table.header, list(table.rows())


def messages(results: Iterable[RowResult]) -> list[str]:
    return [error.message for result in results for error in result.errors]
