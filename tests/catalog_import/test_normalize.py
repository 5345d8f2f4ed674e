import re
import subprocess
import sys
import unicodedata

import pytest

from catalog_import.normalize import clean_text, model_variant, normalize_key
from catalog_import.regions import MAINLAND, PROVINCES, RegionError, format_regions, parse_regions
from catalog_import.specs import AttributeSpec, validate_specs


def _previous_normalize_key(brand: str, model: str) -> str:
    """app.catalog.services.normalize_key as it was before it moved here: stored keys must not change."""

    def norm(text: str) -> str:
        text = unicodedata.normalize("NFKC", text).lower()
        return re.sub(r"[\s\-_/·.()（）]+", "", text)

    return f"{norm(brand)}|{norm(model)}"


@pytest.mark.parametrize(
    ("brand", "model"),
    [
        ("联想", "ThinkCentre M70t"),
        ("ＨＵＡＷＥＩ", "MateBook X-Pro (2024)"),
        ("得力", "A4 70g·5包/箱"),
        ("HP", "LaserJet Pro M404dn"),
        (" 惠普 ", "战66\u3000五代"),
    ],
)
def test_dedup_key_is_unchanged(brand, model):
    assert normalize_key(brand, model) == _previous_normalize_key(brand, model)


def test_the_app_delegates_its_dedup_key_here():
    from app.catalog.services import normalize_key as app_normalize_key

    assert app_normalize_key("ＨＵＡＷＥＩ", "Mate-Book X") == normalize_key("ＨＵＡＷＥＩ", "Mate-Book X")


def test_clean_text_normalises_width_and_whitespace():
    assert clean_text("  ＴｈｉｎｋＣｅｎｔｒｅ\u3000 M70t\n") == "ThinkCentre M70t"


@pytest.mark.parametrize(
    ("a", "b", "variant"),
    [
        ("m70t", "thinkcentrem70t", True),
        ("m70t", "m70tg", True),
        ("m70t", "m70t", False),
        ("m70t", "m80t", False),
        ("m7", "m70t", False),  # too short to count
        ("m70t", "xm70ty", False),  # both ends changed: a different model
    ],
)
def test_model_variants(a, b, variant):
    assert model_variant(a, b) is variant


def test_region_table_has_every_provincial_division():
    assert len(PROVINCES) == 34 and len(MAINLAND) == 31
    assert PROVINCES["320000"] == "江苏省" and "710000" not in MAINLAND


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        ("全国", MAINLAND),
        ("江苏省、浙江", ("320000", "330000")),
        ("320000,330000;310000", ("310000", "320000", "330000")),
        ("内蒙古 广西，新疆；香港/澳门|台湾", ("150000", "450000", "650000", "710000", "810000", "820000")),
        ("全国、香港", (*MAINLAND, "810000")),
        ("", ()),
    ],
)
def test_regions(text, codes):
    assert parse_regions(text) == tuple(sorted(codes))


def test_unknown_regions_are_listed():
    with pytest.raises(RegionError) as caught:
        parse_regions("江苏、火星、110001")
    assert caught.value.unknown == ["火星", "110001"]


def test_regions_format_back():
    assert format_regions(MAINLAND) == "全国"
    assert format_regions(("330000", "320000")) == "江苏省、浙江省"


def test_spec_results_carry_messages_without_the_label():
    registry = [AttributeSpec("memory_gb", "内存容量", "number", unit="GB", required=True)]
    result = validate_specs(registry, {"memory_gb": "十六"})
    assert result.errors == {"memory_gb": "「内存容量」应为数字（单位：GB），例如 16，收到「十六」"}
    assert result.details == {"memory_gb": "应为数字（单位：GB），例如 16，收到「十六」"}


def test_number_examples_stay_in_range():
    from decimal import Decimal

    spec = AttributeSpec(
        "lumens", "亮度", "number", unit="流明", min_value=Decimal(100), max_value=Decimal(50000)
    )
    assert spec.example_value() == "25000流明"
    result = validate_specs([spec], {"lumens": "很亮"})
    assert result.details["lumens"] == "应为数字（单位：流明），例如 25000，收到「很亮」"


def test_catalog_import_never_imports_the_app():
    code = (
        "import sys, catalog_import, catalog_import.templates, catalog_import.report;"
        "bad = [m for m in sys.modules if m == 'app' or m.startswith(('app.', 'flask', 'sqlalchemy'))];"
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
