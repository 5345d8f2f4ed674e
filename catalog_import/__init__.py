"""Parsing and validation of supplier catalogs (no Flask imports: the app uses this, never the
other way round).

The pipeline of one upload::

    spec = CategorySpec(code, "2022", name, attributes)            # from the attribute registry
    with open_table(stream, filename) as table:                    # ImportFileError if unreadable
        for result in validate(table, spec, lookup, existing_skus=skus, on_progress=cb):
            ...                                                    # RowResult: ok, or errors
    write_error_report(out, "xlsx", columns, results)               # rows + 错误说明

Modules: ``columns`` (fixed offer columns, header cells, binding), ``templates`` (XLSX/CSV
templates), ``reader`` and ``xlsx`` (streaming, hostile-file limits), ``validate`` (rows),
``products`` (the lookups the app implements), ``report`` (error reports, safe exports),
``normalize`` (dedup key), ``regions``, ``specs`` (attribute coercion), ``limits``, ``errors``.
"""

from catalog_import.columns import (
    CATALOG_VERSION,
    OFFER_COLUMNS,
    CategorySpec,
    Column,
    ColumnMap,
    bind_header,
    header_cell,
    parse_header_cell,
)
from catalog_import.errors import ImportFileError
from catalog_import.limits import DEFAULT_LIMITS, Limits
from catalog_import.normalize import normalize_key
from catalog_import.products import (
    DictSkuLookup,
    InMemoryProductLookup,
    MatchedProduct,
    ProductLookup,
    SkuLookup,
)
from catalog_import.reader import Table, open_table
from catalog_import.report import ErrorReportWriter, export_rows, safe_cell, write_error_report
from catalog_import.specs import AttributeSpec
from catalog_import.templates import csv_template, template_filename, xlsx_template
from catalog_import.validate import (
    OfferData,
    ProductData,
    RowError,
    RowResult,
    ValidationStats,
    Validator,
    validate,
    validate_records,
)

__all__ = [
    "CATALOG_VERSION",
    "DEFAULT_LIMITS",
    "OFFER_COLUMNS",
    "AttributeSpec",
    "CategorySpec",
    "Column",
    "ColumnMap",
    "DictSkuLookup",
    "ErrorReportWriter",
    "ImportFileError",
    "InMemoryProductLookup",
    "Limits",
    "MatchedProduct",
    "OfferData",
    "ProductData",
    "ProductLookup",
    "RowError",
    "RowResult",
    "SkuLookup",
    "Table",
    "ValidationStats",
    "Validator",
    "bind_header",
    "csv_template",
    "export_rows",
    "header_cell",
    "normalize_key",
    "open_table",
    "parse_header_cell",
    "safe_cell",
    "template_filename",
    "validate",
    "validate_records",
    "write_error_report",
    "xlsx_template",
]
