"""The one text analyzer both backends share.

NFKC, lowercase; runs of Han characters become overlapping bigrams (a lone Han character stays a
unigram); runs of ``[a-z0-9.]`` are kept whole so ``i7-1360P``, ``M4`` and ``15.6`` are findable.
The tantivy backend indexes these tokens through a whitespace tokenizer; the Elasticsearch
analyzer (standard + cjk_width + lowercase + cjk_bigram) is tested against this as its golden
reference.
"""

from __future__ import annotations

import re
import unicodedata

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_RUNS = re.compile(rf"[{_HAN}]+|[a-z0-9.]+")
_IS_HAN = re.compile(rf"[{_HAN}]")

# A query longer than this is cut: nobody types more, and it bounds the work a query can cause.
MAX_QUERY_CHARS = 200


def normalize(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


def analyze(text: str) -> list[str]:
    tokens: list[str] = []
    for match in _RUNS.finditer(normalize(text)):
        run = match.group()
        if _IS_HAN.match(run):
            if len(run) == 1:
                tokens.append(run)
            else:
                tokens.extend(run[i : i + 2] for i in range(len(run) - 1))
        else:
            run = run.strip(".")
            if run:
                tokens.append(run)
    return tokens


def required_matches(token_count: int) -> int:
    """The minimum_should_match policy: every token of a short query, all but a quarter of a long
    one (Elasticsearch's ``-25%``), so 笔记本电脑 does not match everything containing 笔记."""
    return max(1, token_count - token_count // 4) if token_count else 0
