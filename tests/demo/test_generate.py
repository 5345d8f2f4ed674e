"""The demo generator without a database: deterministic, consistent, well-formed."""

from __future__ import annotations

from collections import Counter, defaultdict
from decimal import Decimal

import pytest

from app.catalog.registry import REGISTRY_BY_CODE
from app.catalog.services import normalize_key
from app.demo.generate import BASE_TIME, DEFAULT_SEED, credit_code, credit_code_is_valid, generate
from catalog_import.specs import validate_specs


@pytest.fixture(scope="module")
def data():
    return generate()


def test_same_seed_same_data(data):
    again = generate(DEFAULT_SEED)
    assert again.digest() == data.digest()
    assert [(p.dedup_key, p.specs) for p in again.products[:50]] == [
        (p.dedup_key, p.specs) for p in data.products[:50]
    ]
    assert again.organizations == data.organizations
    assert again.plans == data.plans


def test_another_seed_other_data(data):
    assert generate(DEFAULT_SEED + 1).digest() != data.digest()


def test_credit_codes_are_well_formed_and_unique(data):
    codes = [o.credit_code for o in data.organizations]
    assert len(set(codes)) == len(codes)
    assert all(len(code) == 18 and credit_code_is_valid(code) for code in codes)
    # A published example of the check characters (GB 32100 / GB 11714 algorithms).
    assert credit_code("91", "350100", "M000100Y") == "91350100M000100Y43"
    assert not credit_code_is_valid(codes[0][:17] + ("0" if codes[0][17] != "0" else "1"))


def test_products_are_unique_and_their_specs_are_the_coerced_values(data):
    keys = [p.dedup_key for p in data.products]
    assert len(set(keys)) == len(keys) >= 2000
    for p in data.products:
        assert p.dedup_key == normalize_key(p.brand, p.model)
        result = validate_specs(REGISTRY_BY_CODE[p.category_code].specs(), p.specs)
        assert result.errors == {} and result.values == p.specs, p.name
        assert p.created_at < BASE_TIME
        assert len(p.name) <= 300 and len(p.model) <= 128 and len(p.dedup_key) <= 200
    assert len({p.category_code for p in data.products}) == len(REGISTRY_BY_CODE)


def test_offers_and_price_histories(data):
    market = {p.dedup_key: p.market_price for p in data.products}
    per_product = Counter(o.dedup_key for o in data.offers)
    assert set(per_product) == set(market)
    assert set(per_product.values()) <= {2, 3, 4, 5}
    skus = defaultdict(list)
    for o in data.offers:
        skus[o.supplier_code].append(o.supplier_sku)
        assert Decimal(0) < o.price <= o.market_price == market[o.dedup_key]
        assert o.price.as_tuple().exponent == -2
        assert o.history[-1].price == o.price
        times = [h.changed_at for h in o.history]
        assert times == sorted(times) and times[0] == o.created_at and times[-1] < BASE_TIME
        assert (o.listed_at is not None) == (o.status == "listed")
    assert all(len(v) == len(set(v)) for v in skus.values())
    with_history = [o for o in data.offers if len(o.history) > 1]
    assert 0.2 < len(with_history) / len(data.offers) < 0.5
    assert max(len(o.history) for o in data.offers) == 4
    statuses = Counter(o.status for o in data.offers)
    assert statuses["listed"] > 0.9 * len(data.offers) and statuses["draft"] and statuses["pending_review"]
