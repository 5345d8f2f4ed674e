"""Free text → the query both backends run: synonym groups (any alternative, all of its tokens)
plus the remaining free text under the minimum_should_match policy. Also highlighting."""

from __future__ import annotations

from dataclasses import dataclass

from search.analyzer import MAX_QUERY_CHARS, analyze, normalize, required_matches
from search.synonyms import split_synonyms

# Tokens beyond this are dropped: a pasted paragraph must not become a thousand-clause query.
MAX_TOKENS = 24


@dataclass(frozen=True)
class TextQuery:
    groups: tuple[tuple[str, ...], ...]  # each: alternatives (normalized text); one must match
    free_text: str  # what is left after the synonyms

    @property
    def free_tokens(self) -> list[str]:
        return analyze(self.free_text)[:MAX_TOKENS]

    @property
    def required(self) -> int:
        return required_matches(len(self.free_tokens))

    @property
    def is_empty(self) -> bool:
        return not self.groups and not self.free_tokens

    def all_tokens(self) -> set[str]:
        tokens = set(self.free_tokens)
        for group in self.groups:
            for alternative in group:
                tokens.update(analyze(alternative))
        return tokens


def parse_text(text: str) -> TextQuery:
    groups, rest = split_synonyms(text[:MAX_QUERY_CHARS])
    # Keep only what the analyzer keeps, so the free text means the same to both backends.
    free = " ".join(analyze_runs(rest))
    return TextQuery(groups=tuple(groups), free_text=free)


def analyze_runs(text: str) -> list[str]:
    """The analyzer's input runs (Han runs and alphanumeric runs), in order, capped."""
    tokens = analyze(text)[:MAX_TOKENS]
    if not tokens:
        return []
    # Rebuild runs from the text so Elasticsearch sees the same adjacency the analyzer saw.
    from search.analyzer import _RUNS

    runs, count = [], 0
    for match in _RUNS.finditer(normalize(text)):
        run = match.group().strip(".")
        if not run:
            continue
        produced = len(analyze(run))
        if count + produced > MAX_TOKENS:
            break
        runs.append(run)
        count += produced
    return runs


def highlight(text: str, query: TextQuery) -> list[tuple[str, bool]]:
    """Split ``text`` into (segment, matched) pieces for the query's tokens."""
    normalized = normalize(text)
    tokens = query.all_tokens()
    if not tokens or len(normalized) != len(text):
        return [(text, False)] if text else []
    marked = [False] * len(text)
    for token in tokens:
        start = normalized.find(token)
        while start != -1:
            for i in range(start, start + len(token)):
                marked[i] = True
            start = normalized.find(token, start + 1)
    pieces: list[tuple[str, bool]] = []
    for char, flag in zip(text, marked, strict=True):
        if pieces and pieces[-1][1] == flag:
            pieces[-1] = (pieces[-1][0] + char, flag)
        else:
            pieces.append((char, flag))
    return pieces
