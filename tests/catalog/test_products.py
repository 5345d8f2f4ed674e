import pytest
from sqlalchemy import select

from app.catalog.models import AttributeType, Category, Product
from app.catalog.services import SpecsInvalid, load_categories, normalize_key, save_product
from tests import factories


def test_specs_are_validated_on_every_write(db_session):
    category = factories.category()
    factories.attribute(category, "memory_gb", AttributeType.NUMBER, unit="GB", required=True)
    product = Product(category=category, brand="联想", model="M750t", manufacturer="联想", name="联想 M750t")
    save_product(product, {"memory_gb": "16GB"})
    assert product.specs == {"memory_gb": 16}
    assert product.dedup_key == "联想|m750t"
    with pytest.raises(SpecsInvalid) as excinfo:
        save_product(product, {"memory_gb": "lots"})
    assert "内存" in str(excinfo.value) or "memory_gb" in excinfo.value.errors
    assert product.specs == {"memory_gb": 16}


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (("HP", "LaserJet M405dn"), ("hp", "laserjet-m405dn")),
        (("联想", "ThinkPad X1 (Gen 12)"), ("联想", "thinkpad x1 gen12")),
        (("ＤＥＬＬ", "OptiPlex 7010"), ("Dell", "optiplex_7010")),
    ],
)
def test_duplicate_key_ignores_case_width_and_separators(a, b):
    assert normalize_key(*a) == normalize_key(*b)


def test_full_2022_catalogue_loads_with_versions_and_is_idempotent(db_session):
    created = load_categories()
    assert created == 4301
    assert load_categories() == 0
    desktop = db_session.scalar(select(Category).where(Category.code == "A02010105"))
    server = db_session.scalar(select(Category).where(Category.code == "A02010104"))
    assert (desktop.name, desktop.catalog_version, desktop.is_leaf) == ("台式计算机", "2022", True)
    assert server.name == "服务器"  # 2013's A02010104 was 台式计算机: the version matters
    assert desktop.parent.code == "A02010100" and not desktop.parent.is_leaf
    goods_roots = db_session.scalars(
        select(Category).where(Category.level == 1, Category.kind == "goods")
    ).all()
    assert len(goods_roots) == 8
