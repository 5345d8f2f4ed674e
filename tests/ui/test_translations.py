"""The English catalogue covers every Chinese source string, with matching placeholders.

When this fails after you add or change a ``_()`` string, update the catalogue:

    .venv/bin/pybabel extract -F babel.cfg -k lazy_gettext -k _l -o /tmp/messages.pot .
    .venv/bin/pybabel update -i /tmp/messages.pot -d translations -l en --no-fuzzy-matching
    (translate the new entries in translations/en/LC_MESSAGES/messages.po)
    .venv/bin/pybabel compile -d translations
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from babel.messages.pofile import read_po
from babel.support import Translations

from tests.ui.babel_support import ROOT, TRANSLATIONS_DIR

PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
EN_PO = TRANSLATIONS_DIR / "en" / "LC_MESSAGES" / "messages.po"


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    pot = tmp_path_factory.mktemp("i18n") / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "-q",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "lazy_gettext",
            "-k",
            "_l",
            "--no-location",
            "-o",
            str(pot),
            ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=120,
    )
    with pot.open("rb") as handle:
        return read_po(handle)


@pytest.fixture(scope="module")
def english():
    with EN_PO.open("rb") as handle:
        return read_po(handle, locale="en")


def _translated(message) -> bool:
    strings = message.string if isinstance(message.string, tuple) else (message.string,)
    return all(s and s.strip() for s in strings)


def test_every_source_string_has_an_english_translation(extracted, english):
    missing = [
        m.id for m in extracted if m.id and (english.get(m.id) is None or not _translated(english.get(m.id)))
    ]
    assert not missing, f"untranslated (see this module's docstring): {missing}"


def test_no_fuzzy_entries(english):
    # pybabel compile leaves fuzzy entries out, so they would silently show Chinese.
    assert not [m.id for m in english if m.id and m.fuzzy]


def test_placeholders_match(english):
    for message in english:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = {name for i in ids for name in PLACEHOLDER.findall(i)}
        for string in strings:
            assert set(PLACEHOLDER.findall(string)) == wanted, f"{message.id!r} → {string!r}"
    assert not [(m.id, errors) for m, errors in english.check()]


def test_compiled_catalogue_translates(compiled_translations):
    translations = Translations.load(str(TRANSLATIONS_DIR), ["en"])
    assert translations.gettext("政府采购电子卖场") == "Government Procurement E-Mall"
    # A plural message still in use (the product list that had 共 %(num)s 件商品 is gone).
    assert translations.ngettext("共 %(num)s 条报价", "共 %(num)s 条报价", 1) == "%(num)s offer"
    assert translations.ngettext("共 %(num)s 条报价", "共 %(num)s 条报价", 2) == "%(num)s offers"
