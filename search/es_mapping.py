"""The Elasticsearch index: settings, mappings and the source document for a product.

One document per PRODUCT; its listed offers are a ``nested`` field so price, region and stock
conditions can be required of a single offer. Specs are typed fields created on first use by
dynamic templates (``attr_num.*`` double, ``attr_kw.*`` keyword, ``attr_bool.*`` boolean); every
other part of the mapping is ``dynamic: strict``, so a typo in a field name is an indexing error,
not a silently new field.

The mapping is declared with ``elasticsearch.dsl``; :func:`index_body` renders it to the plain
dict sent to ``indices.create`` (and pinned in tests/search/fixtures/es/index_body.json).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from elasticsearch.dsl import (
    Boolean,
    Date,
    Document,
    Float,
    Index,
    InnerDoc,
    Integer,
    Keyword,
    Long,
    MetaField,
    Nested,
    Object,
    ScaledFloat,
    Text,
    analyzer,
    token_filter,
)

from search.model import OfferDoc, ProductDoc

# standard + cjk_width + lowercase + cjk_bigram: Han runs become overlapping bigrams (a lone Han
# character stays a unigram), full-width Latin folds to ASCII. The search analyzer; its golden
# reference is search.analyzer.analyze.
CJK_TEXT = analyzer(
    "cjk_text",
    tokenizer="standard",
    filter=["cjk_width", "lowercase", "cjk_bigram"],
)
# The index analyzer also keeps every Han character as a unigram, so a one-character query (纸)
# finds 复印纸; golden reference: search.analyzer.index_tokens. (Both are compared with the Python
# analyzer on a live cluster in tests/search/test_elasticsearch_shapes.py.)
CJK_BIGRAM_UNIGRAMS = token_filter("cjk_bigram_unigrams", type="cjk_bigram", output_unigrams=True)
CJK_TEXT_INDEX = analyzer(
    "cjk_text_index",
    tokenizer="standard",
    filter=["cjk_width", "lowercase", CJK_BIGRAM_UNIGRAMS],
)

# The three typed spec objects and the mapping their dynamic template gives every sub-field.
ATTR_FIELDS: dict[str, str] = {"attr_num": "double", "attr_kw": "keyword", "attr_bool": "boolean"}

PRICE_SCALING_FACTOR = 100  # prices are stored as whole fen


class OfferMapping(InnerDoc):
    offer_id = Long()
    supplier_id = Long()
    price = ScaledFloat(scaling_factor=PRICE_SCALING_FACTOR)
    regions = Keyword()
    stock = Integer()
    supplier_sme = Boolean()
    supplier_rating = Float()


class ProductMapping(Document):
    product_id = Long()
    version = Long()
    active = Boolean()
    category_code = Keyword()
    category_path = Keyword()
    brand = Keyword()
    model = Keyword()
    name = Text(analyzer=CJK_TEXT_INDEX, search_analyzer=CJK_TEXT)
    text = Text(analyzer=CJK_TEXT_INDEX, search_analyzer=CJK_TEXT)
    attr_num = Object(dynamic=True)
    attr_kw = Object(dynamic=True)
    attr_bool = Object(dynamic=True)
    energy_saving = Boolean()
    environmental = Boolean()
    origin = Keyword()
    rating = Float()
    listed_at = Date()
    offers = Nested(OfferMapping)

    class Meta:
        dynamic = MetaField("strict")
        # Strings in attr_kw stay keywords even when they look like dates or numbers.
        date_detection = MetaField(False)
        numeric_detection = MetaField(False)
        dynamic_templates = MetaField(
            [
                {name: {"path_match": f"{name}.*", "mapping": {"type": es_type}}}
                for name, es_type in ATTR_FIELDS.items()
            ]
        )


def index_body() -> dict[str, Any]:
    """``settings`` + ``mappings`` for ``indices.create``."""
    index = Index("products")  # the name is not part of the body
    # One primary shard: a catalogue of standardized goods fits one shard many times over, and
    # terms-facet counts are exact only when a single shard holds every document. Reads scale
    # out through replicas (left to the cluster's default).
    index.settings(number_of_shards=1)
    index.analyzer(CJK_TEXT_INDEX)
    index.analyzer(CJK_TEXT)
    index.document(ProductMapping)
    return index.to_dict()


# ---------------------------------------------------------------------------------------------
# Documents


def product_source(doc: ProductDoc) -> dict[str, Any]:
    """The JSON ``_source`` of a product (its ``_id`` is ``str(product_id)``)."""
    attrs = split_specs(doc.specs)
    return {
        "product_id": doc.product_id,
        "version": doc.version,
        "active": doc.active,
        "category_code": doc.category_code,
        "category_path": list(doc.category_path),
        "brand": doc.brand,
        "model": doc.model,
        "name": doc.name,
        "text": doc.text,
        **attrs,
        "energy_saving": doc.energy_saving,
        "environmental": doc.environmental,
        "origin": doc.origin,
        "rating": float(doc.rating),
        "listed_at": format_datetime(doc.listed_at),
        "offers": [offer_source(offer) for offer in doc.offers],
    }


def offer_source(offer: OfferDoc) -> dict[str, Any]:
    return {
        "offer_id": offer.offer_id,
        "supplier_id": offer.supplier_id,
        # A string keeps the exact decimal in _source; ES parses it into whole fen.
        "price": format_price(offer.price),
        "regions": list(offer.regions),
        "stock": offer.stock,
        "supplier_sme": offer.supplier_sme,
        "supplier_rating": float(offer.supplier_rating),
    }


def split_specs(specs: Mapping[str, object]) -> dict[str, dict[str, Any]]:
    """Route each spec value to its typed object by Python type: bool → ``attr_bool``,
    int/float/Decimal → ``attr_num``, str → ``attr_kw``. ``None`` is left out; a list or tuple
    is a multi-valued spec (all of one type). Empty objects are left out."""
    out: dict[str, dict[str, Any]] = {name: {} for name in ATTR_FIELDS}
    for code, value in specs.items():
        if value is None:
            continue
        values = list(value) if isinstance(value, list | tuple) else [value]
        if not values:
            continue
        field = attr_field(values[0])
        if any(attr_field(v) != field for v in values):
            raise ValueError(f"spec {code!r} mixes value types: {values!r}")
        converted = [attr_value(v) for v in values]
        out[field][code] = converted if isinstance(value, list | tuple) else converted[0]
    return {name: values for name, values in out.items() if values}


def attr_field(value: object) -> str:
    """The typed object (``attr_num``/``attr_kw``/``attr_bool``) a spec value belongs in."""
    if isinstance(value, bool):  # before int: bool is an int subclass
        return "attr_bool"
    if isinstance(value, int | float | Decimal):
        return "attr_num"
    if isinstance(value, str):
        return "attr_kw"
    raise TypeError(f"unsupported spec value {value!r} ({type(value).__name__})")


def attr_value(value: object) -> Any:
    return float(value) if isinstance(value, Decimal) else value


def format_price(price: Decimal) -> str:
    return f"{Decimal(price).quantize(Decimal('0.01')):f}"


def format_datetime(value: datetime) -> str:
    """ISO 8601 in UTC with milliseconds (a naive datetime is taken as UTC)."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(timespec="milliseconds") + "Z"


def index_action(doc: ProductDoc, index: str) -> dict[str, Any]:
    """A bulk ``index`` action with external versioning: Elasticsearch keeps the document only
    when ``doc.version`` is higher than the indexed one (409 otherwise: a newer version won)."""
    return {
        "_op_type": "index",
        "_index": index,
        "_id": str(doc.product_id),
        "version": doc.version,
        "version_type": "external",
        "_source": product_source(doc),
    }


def index_actions(docs: Iterable[ProductDoc], index: str) -> Iterable[dict[str, Any]]:
    for doc in docs:
        yield index_action(doc, index)
