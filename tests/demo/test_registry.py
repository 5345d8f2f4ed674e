"""The attribute registries: pure checks against the 2022 catalogue file, no database."""

from __future__ import annotations

import csv
from collections import defaultdict

from app.catalog.models import AttributeType
from app.catalog.registry import REGISTRIES, REGISTRY_BY_CODE
from app.catalog.services import CATALOG_CSV
from catalog_import.specs import UNIT_ALIASES, validate_specs

REQUIRED_CODES = {
    "A02010105": "台式计算机",
    "A02010108": "便携式计算机",
    "A02010104": "服务器",
    "A02021104": "液晶显示器",
    "A02021003": "A4黑白打印机",
    "A02021004": "A4彩色打印机",
    "A02020400": "多功能一体机",
    "A02020100": "复印机",
    "A02021118": "扫描仪",
    "A02021301": "碎纸机",
    "A05010201": "办公桌",
    "A05010301": "办公椅",
    "A05010502": "文件柜",
    "A05040101": "复印纸",
    "A05040201": "鼓粉盒",
    "A02020200": "投影仪",
    "A02061504": "不间断电源",
    "A02010202": "交换设备",
}


def catalogue() -> tuple[dict[str, str], set[str]]:
    with CATALOG_CSV.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return {r["code"]: r["name"] for r in rows}, {r["parent_code"] for r in rows if r["parent_code"]}


def test_every_registry_is_a_2022_leaf_with_its_official_name():
    names, parents = catalogue()
    assert {r.code: r.name for r in REGISTRIES} == REQUIRED_CODES
    for registry in REGISTRIES:
        assert names[registry.code] == registry.name
        assert registry.code not in parents, f"{registry.code} is not a leaf"


def test_registries_are_well_formed():
    for registry in REGISTRIES:
        assert 4 <= len(registry.attributes) <= 9, registry.code
        codes = [a.code for a in registry.attributes]
        assert len(codes) == len(set(codes))
        assert any(a.required for a in registry.attributes)
        for a in registry.attributes:
            assert a.unit is None or a.unit in UNIT_ALIASES, (registry.code, a.code, a.unit)
            assert (a.type is AttributeType.ENUM) == bool(a.enum_values), (registry.code, a.code)
            assert len(set(a.enum_values)) == len(a.enum_values)
            if a.type is not AttributeType.NUMBER:
                assert a.unit is None and a.min_value is None and a.max_value is None, (registry.code, a.code)
            if a.min_value is not None and a.max_value is not None:
                assert a.min_value <= a.max_value
            assert a.label_zh and a.label_en


def test_shared_attributes_keep_one_type_and_unit_everywhere():
    seen: dict[str, set[tuple]] = defaultdict(set)
    for registry in REGISTRIES:
        for a in registry.attributes:
            seen[a.code].add((a.type, a.unit))
    assert {code: kinds for code, kinds in seen.items() if len(kinds) > 1} == {}
    shared = {
        code
        for code, _ in seen.items()
        if sum(code in {a.code for a in r.attributes} for r in REGISTRIES) > 1
    }
    assert {"memory_gb", "screen_inch", "energy_class", "color", "print_speed_ppm", "duplex"} <= shared


def test_a_supplier_upload_with_unit_spellings_validates():
    specs = REGISTRY_BY_CODE["A02010108"].specs()
    result = validate_specs(
        specs,
        {
            "cpu": "英特尔酷睿i5-1340P",
            "memory_gb": "16G",
            "storage_gb": "512 GB",
            "screen_inch": "14寸",
            "os": "windows 11 专业版",
            "weight_kg": "1.41公斤",
            "energy_class": "1级",
        },
    )
    assert result.errors == {}
    assert result.values == {
        "cpu": "英特尔酷睿i5-1340P",
        "memory_gb": 16,
        "storage_gb": 512,
        "screen_inch": 14,
        "os": "Windows 11 专业版",
        "weight_kg": 1.41,
        "energy_class": "1级",
    }
    missing = validate_specs(specs, {"memory_gb": 16})
    assert set(missing.errors) == {"cpu", "storage_gb", "screen_inch", "os"}
