"""The one exception a supplier's file can raise: :class:`ImportFileError`.

A file-level problem (too big, not a spreadsheet, a zip bomb, a broken header …) stops the whole
import before anything is applied. Its message is Chinese and says what to do; ``problems`` lists
every problem found when there are several (e.g. three unknown header columns).
Row-level problems are not exceptions: they are :class:`catalog_import.validate.RowError` values.
"""

from __future__ import annotations

from collections.abc import Sequence


class ImportFileError(Exception):
    """The file as a whole cannot be imported. ``code`` is a stable machine-readable reason
    (``too_large``, ``encoding``, ``zip_bomb`` …) for the app's logs and the API; ``row`` and
    ``column`` locate the problem when it has one place (spreadsheet numbering: header = row 1)."""

    def __init__(
        self,
        message: str,
        *,
        code: str = "invalid_file",
        problems: Sequence[str] = (),
        row: int | None = None,
        column: str | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.code = code
        self.problems: tuple[str, ...] = tuple(problems) or (message,)
        self.row = row
        self.column = column

    def __str__(self) -> str:
        return self.message
