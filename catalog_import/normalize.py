"""Text normalization shared by the app and the import: the product dedup key and cell cleanup.

The dedup key is how two listings are recognised as the same canonical product: brand and model
compared without case, character width (full-width ``ＭＡＴＥ`` = ``MATE``) or separators
(``M70t-G``, ``M70t G`` and ``M70TG`` are one model). ``app.catalog.services.normalize_key``
delegates here, so a key computed by an upload equals the one stored on ``Product.dedup_key``.
"""

from __future__ import annotations

import re
import unicodedata

# Separators that do not distinguish two models. Changing this set changes every stored key:
# it needs a data migration that recomputes Product.dedup_key.
_SEPARATORS = re.compile(r"[\s\-_/·.()（）]+")
# C0/C1 control characters other than tab, newline and carriage return; never part of a value.
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def key_part(text: str) -> str:
    """One half of the dedup key: NFKC, lower case, separators removed."""
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", text).lower())


def normalize_key(brand: str, model: str) -> str:
    """Duplicate detection key: ``key_part(brand) + "|" + key_part(model)``."""
    return f"{key_part(brand)}|{key_part(model)}"


def brand_key_of(dedup_key: str) -> str:
    """The brand half of a dedup key (a product's key starts with ``brand_key + "|"``)."""
    return dedup_key.split("|", 1)[0]


def clean_text(value: str) -> str:
    """A cell as a display value: NFKC (full-width letters and digits become ASCII), runs of
    whitespace collapsed to one space, trimmed."""
    return " ".join(unicodedata.normalize("NFKC", value).split())


def model_variant(a: str, b: str, *, min_core: int = 3) -> bool:
    """Whether two model keys (``key_part`` values) differ only by a prefix or a suffix: one is the
    other with something added at the start or the end (``m70t`` / ``thinkcentrem70t`` /
    ``m70tg``). The shorter must keep at least ``min_core`` characters so ``1`` is not a variant
    of everything."""
    if a == b:
        return False
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    return len(short) >= min_core and (long_.startswith(short) or long_.endswith(short))
