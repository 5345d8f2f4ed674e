"""Size limits for uploaded catalog files. One frozen value so the app, the API and the tests
agree; a test may pass smaller limits to exercise them cheaply."""

from __future__ import annotations

from dataclasses import dataclass

MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    max_file_bytes: int = 50 * MB
    max_rows: int = 200_000  # data rows, the header not counted
    max_columns: int = 200
    max_cell_chars: int = 2_000
    # XLSX (a zip of XML parts). Checked on the zip's directory before anything is inflated, and
    # again while inflating (a directory can lie). Generous enough for 200,000 rows written with
    # inline strings (openpyxl), far below what a zip bomb wants.
    max_uncompressed_bytes: int = 512 * MB
    max_compression_ratio: int = 100  # per member, for members above ratio_floor_bytes
    ratio_floor_bytes: int = 1 * MB
    max_zip_members: int = 1_000
    max_xml_part_bytes: int = 16 * MB  # workbook.xml, rels, styles: parts read whole

    def __post_init__(self) -> None:
        if min(self.max_file_bytes, self.max_rows, self.max_columns, self.max_cell_chars) <= 0:
            raise ValueError("limits must be positive")


DEFAULT_LIMITS = Limits()
