"""One synonym table, expanded in the app so both backends receive the same query."""

from __future__ import annotations

from search.analyzer import normalize

# Each group lists interchangeable terms; a query containing one matches any of them.
SYNONYM_GROUPS: tuple[tuple[str, ...], ...] = (
    ("笔记本电脑", "笔记本", "便携式计算机", "laptop", "notebook"),
    ("台式计算机", "台式机", "台式电脑", "desktop"),
    ("服务器", "server"),
    ("显示器", "液晶显示器", "monitor"),
    ("打印机", "printer"),
    ("多功能一体机", "一体机", "mfp"),
    ("复印纸", "打印纸", "a4纸"),
    ("鼓粉盒", "硒鼓", "粉盒", "toner"),
    ("碎纸机", "shredder"),
    ("不间断电源", "ups"),
    ("交换机", "交换设备", "switch"),
    ("投影仪", "投影机", "projector"),
    ("扫描仪", "scanner"),
)

_LOOKUP: dict[str, tuple[str, ...]] = {}
for _group in SYNONYM_GROUPS:
    for _term in _group:
        _LOOKUP[normalize(_term)] = tuple(normalize(t) for t in _group)
# Longest first, so 笔记本电脑 wins over 笔记本 when both could match.
_TERMS = sorted(_LOOKUP, key=len, reverse=True)


def split_synonyms(text: str) -> tuple[list[tuple[str, ...]], str]:
    """Take the synonym terms out of ``text``: returns the groups found (each a tuple of
    alternatives) and the remaining text."""
    rest = normalize(text)
    groups: list[tuple[str, ...]] = []
    for term in _TERMS:
        while term in rest:
            # ASCII terms must be whole words: "ups" is not inside "groups".
            index = rest.index(term)
            if term.isascii() and not _word_boundaries(rest, index, len(term)):
                break
            group = _LOOKUP[term]
            if group not in groups:
                groups.append(group)
            rest = rest[:index] + " " + rest[index + len(term) :]
    return groups, rest


def _word_boundaries(text: str, start: int, length: int) -> bool:
    before = text[start - 1] if start > 0 else " "
    after = text[start + length] if start + length < len(text) else " "
    return not (before.isascii() and before.isalnum()) and not (after.isascii() and after.isalnum())
