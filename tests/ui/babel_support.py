"""Compile the gettext catalogues for tests, the same way ``pybabel compile -d translations`` does.

Compiled ``.mo`` files are build products (git-ignored); the Makefile builds them before the tests
run, and this makes a bare ``pytest`` work too. Flask-Babel caches a language's catalogue for the
life of the process, so this must run before the first page is rendered in that language.
"""

from __future__ import annotations

import os
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS_DIR = ROOT / "translations"


def po_files() -> list[Path]:
    return sorted(TRANSLATIONS_DIR.glob("*/LC_MESSAGES/messages.po"))


def compile_translations(force: bool = False) -> list[Path]:
    """Write each ``messages.mo`` that is missing or older than its ``.po``; return those written."""
    written = []
    for po in po_files():
        mo = po.with_suffix(".mo")
        if not force and mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        locale = po.parent.parent.name
        with po.open("rb") as handle:
            catalog = read_po(handle, locale=locale)
        tmp = mo.with_name(f".{mo.name}.{os.getpid()}.tmp")
        with tmp.open("wb") as handle:
            write_mo(handle, catalog)  # fuzzy entries left out, as pybabel compile does
        os.replace(tmp, mo)  # atomic: a concurrent reader sees the old or the new file
        written.append(mo)
    return written
