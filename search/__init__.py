"""Product search: one interface, two backends (tantivy embedded, Elasticsearch in production).

No Flask imports: the app feeds this library documents and queries; it never reaches into the app.
"""

from search.backend import SearchBackend, SearchError
from search.model import (
    FacetBucket,
    FacetKind,
    FacetRequest,
    NumericRange,
    OfferDoc,
    ProductDoc,
    ProductHit,
    SearchQuery,
    SearchResult,
    Sort,
)

__all__ = [
    "FacetBucket",
    "FacetKind",
    "FacetRequest",
    "NumericRange",
    "OfferDoc",
    "ProductDoc",
    "ProductHit",
    "SearchBackend",
    "SearchError",
    "SearchQuery",
    "SearchResult",
    "Sort",
]
