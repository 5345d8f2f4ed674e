"""The one text analyzer both backends share.

NFKC, lowercase; runs of Han characters become overlapping bigrams (a lone Han character stays a
unigram); runs of ``[a-z0-9.]`` are kept whole so ``i7-1360P``, ``M4`` and ``15.6`` are findable. At index
time every Han character is also kept as a unigram, so one-character queries work.
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
    """Search-time tokens: bigrams of Han runs (a lone Han character stays a unigram)."""
    return _tokens(text, unigrams=False)


def index_tokens(text: str) -> list[str]:
    """Index-time tokens: the bigrams plus every Han character on its own, so a one-character
    query (纸) finds 复印纸. (Elasticsearch: ``cjk_bigram`` with ``output_unigrams`` at index time,
    without at search time.)"""
    return _tokens(text, unigrams=True)


def _tokens(text: str, *, unigrams: bool) -> list[str]:
    tokens: list[str] = []
    for match in _RUNS.finditer(normalize(text)):
        run = match.group()
        if _IS_HAN.match(run):
            if len(run) == 1:
                tokens.append(run)
                continue
            for i in range(len(run) - 1):
                if unigrams:
                    tokens.append(run[i])
                tokens.append(run[i : i + 2])
            if unigrams:
                tokens.append(run[-1])
        else:
            run = run.strip(".")
            if run:
                tokens.append(run)
    return tokens


def required_matches(token_count: int) -> int:
    """The minimum_should_match policy: every token of a short query, all but a quarter of a long
    one (Elasticsearch's ``-25%``), so 笔记本电脑 does not match everything containing 笔记."""
    return max(1, token_count - token_count // 4) if token_count else 0
