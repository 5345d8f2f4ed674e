"""The interface every search backend implements, and the behaviour they share.

The contract (tests/search/test_contract.py runs it against every available backend):

- A product matches when its product-level conditions hold (text, categories, brands, attribute
  filters, policy flags, ``active``) and at least ONE of its listed offers satisfies every
  offer-level condition at once (price range, region, in stock, SME supplier, supplier ids). A
  product is never matched because one offer is cheap and another delivers to the region. A
  product without listed offers never matches.
- Text: ``search.text.parse_text``; every synonym group must match through one of its
  alternatives (all of that alternative's tokens), and the free tokens must match at least
  ``required_matches(n)`` of ``n``. An empty text matches everything.
- Categories match the product's category or any ancestor (``category_path``).
- ``attr_terms``: any of the values (typed: str/int/float/bool); ``attr_ranges``: any of the ranges,
  ``low <= v < high``; ``price_min``/``price_max``: inclusive.
- A hit is a product with its lowest matching offer (ties: lowest offer id), the number of distinct
  suppliers among its matching offers, and a score for relevance.
- ``total`` counts products. Facets count products, each under every condition except its own
  (``brand`` ← brands, ``category`` ← category_codes, ``price`` ← price_min/max, ``attr:X`` ←
  attr_terms/attr_ranges of X); a price bucket counts products with a matching offer priced in it.
  Buckets of TERMS facets are ordered by count desc, then key asc; RANGES keep the given order
  (empty ones included). Bucket ``selected`` marks values the query filters on.
- Sorts: relevance (score desc), price_asc / price_desc (by the hit's min_price), rating (product
  rating desc), newest (listed_at desc); ties by product id ascending.
- Paging: ``page`` × ``per_page`` over products; a page beyond the end is empty, not an error.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from search.model import ProductDoc, SearchQuery, SearchResult


class SearchError(RuntimeError):
    """The engine failed (unreachable, index missing…); callers show a clear message."""


class SearchBackend(Protocol):
    name: str

    def ensure_index(self) -> None:
        """Create the index (and aliases) when missing; a no-op otherwise."""

    def index(self, docs: Sequence[ProductDoc]) -> int:
        """Upsert products with their listed offers. A document whose ``version`` is older than
        the indexed one is ignored (late writes never win). ``active=False`` soft-deletes.
        Returns how many documents were written."""

    def search(self, query: SearchQuery) -> SearchResult:
        """Products grouped from their matching offers, with facets counting products."""

    def rebuild(self, docs: Iterable[ProductDoc]) -> int:
        """Build a complete new index from ``docs`` and swap it in atomically. Returns the number
        of products indexed."""

    def refresh(self) -> None:
        """Make everything written so far visible to searches (tests; bulk loads)."""

    def status(self) -> dict:
        """Name, index/alias in use, document counts and the highest indexed version."""

    def indexed_versions(self, product_ids: Sequence[int]) -> dict[int, int]:
        """The version currently indexed for each product (missing ids are absent)."""
