"""Where uploaded files and their error reports live: ``UPLOAD_DIR/<batch id>/``.

Every name under it is ours (``original-<random>.<ext>``, ``report-<random>.csv``): the name the
supplier's computer gave the file is kept only to be shown. Paths stored on the batch are relative
to ``UPLOAD_DIR`` and resolved through :func:`resolve`, which refuses anything that would leave it.
"""

from __future__ import annotations

import os
import secrets
import shutil
import unicodedata
from pathlib import Path
from typing import BinaryIO

from flask import current_app

from catalog_import import DEFAULT_LIMITS, Limits
from catalog_import.reader import copy_limited

ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")


def upload_root() -> Path:
    configured = current_app.config.get("UPLOAD_DIR")
    root = Path(configured) if configured else Path(current_app.instance_path) / "uploads"
    root.mkdir(parents=True, exist_ok=True)
    return root


def resolve(relative: str) -> Path:
    root = upload_root().resolve()
    path = (root / relative).resolve()
    if root not in path.parents:
        raise ValueError(f"path outside the upload directory: {relative!r}")
    return path


def batch_dir(batch_id: int) -> Path:
    path = upload_root() / str(int(batch_id))
    path.mkdir(parents=True, exist_ok=True)
    return path


def new_name(stem: str, suffix: str) -> str:
    return f"{stem}-{secrets.token_hex(8)}.{suffix}"


def display_filename(raw: str | None) -> str:
    """The client's file name, fit for showing: no directories, no control characters."""
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()
    return name[:200] or "upload"


def store_upload(batch_id: int, source: BinaryIO, limits: Limits = DEFAULT_LIMITS) -> tuple[str, int]:
    """Copy the upload to the batch's directory (refusing it past the size limit). Returns the
    relative path and the size. The extension is decided by the content, not the client's name."""
    directory = batch_dir(batch_id)
    temporary = directory / new_name("incoming", "part")
    try:
        with temporary.open("wb") as target:
            size = copy_limited(source, target, limits)
        with temporary.open("rb") as stored:
            head = stored.read(8)
        suffix = "xlsx" if head.startswith(ZIP_MAGIC) else "csv"
        final = directory / new_name("original", suffix)
        os.replace(temporary, final)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return f"{batch_dir(batch_id).name}/{final.name}", size


def remove_batch_files(batch_id: int) -> None:
    shutil.rmtree(upload_root() / str(int(batch_id)), ignore_errors=True)


def xlsx_report_path(csv_report: str) -> str:
    return str(Path(csv_report).with_suffix(".xlsx"))
