from decimal import Decimal

import pytest

from catalog_import.specs import AttributeSpec, validate_specs

REGISTRY = [
    AttributeSpec(
        "memory_gb",
        "内存容量",
        "number",
        unit="GB",
        required=True,
        min_value=Decimal(1),
        max_value=Decimal(4096),
    ),
    AttributeSpec("screen_inch", "屏幕尺寸", "number", unit="英寸"),
    AttributeSpec("os", "操作系统", "enum", enum_values=("统信UOS", "银河麒麟", "Windows 11 专业版")),
    AttributeSpec("duplex", "自动双面", "bool"),
    AttributeSpec("remark", "备注", "text", max_length=10),
]


@pytest.mark.parametrize("raw", ["16GB", "16 G", "16", 16, "１６GB", "16gb", " 16 GiB "])
def test_memory_accepts_common_spellings(raw):
    result = validate_specs(REGISTRY, {"memory_gb": raw})
    assert result.ok, result.errors
    assert result.values == {"memory_gb": 16}


def test_values_are_coerced_to_their_types():
    result = validate_specs(
        REGISTRY,
        {"memory_gb": "8", "screen_inch": "15.6 英寸", "os": "银河麒麟", "duplex": "是", "remark": " 无 "},
    )
    assert result.values == {
        "memory_gb": 8,
        "screen_inch": 15.6,
        "os": "银河麒麟",
        "duplex": True,
        "remark": "无",
    }


@pytest.mark.parametrize(
    ("raw", "field", "fragment"),
    [
        ({}, "memory_gb", "必填"),
        ({"memory_gb": "16TB"}, "memory_gb", "单位应为 GB"),
        ({"memory_gb": "sixteen"}, "memory_gb", "应为数字"),
        ({"memory_gb": "0"}, "memory_gb", "不能小于 1"),
        ({"memory_gb": "99999"}, "memory_gb", "不能大于 4096"),
        ({"memory_gb": True}, "memory_gb", "应为数字"),
        ({"memory_gb": 8, "os": "DOS"}, "os", "只能取以下值之一"),
        ({"memory_gb": 8, "duplex": "maybe"}, "duplex", "“是”或“否”"),
        ({"memory_gb": 8, "remark": "x" * 11}, "remark", "不能超过 10 个字符"),
        ({"memory_gb": 8, "color": "红"}, "color", "未知的规格参数"),
    ],
)
def test_errors_name_the_attribute_and_the_fix(raw, field, fragment):
    result = validate_specs(REGISTRY, raw)
    assert not result.ok
    assert result.values == {}
    assert fragment in result.errors[field]


def test_enum_match_ignores_case_but_stores_the_registry_spelling():
    result = validate_specs(REGISTRY, {"memory_gb": 8, "os": "windows 11 专业版"})
    assert result.values["os"] == "Windows 11 专业版"


def test_units_are_not_confused_across_attributes():
    registry = [
        AttributeSpec("print_speed_ppm", "打印速度", "number", unit="页/分钟"),
        AttributeSpec("grammage", "克重", "number", unit="克"),
    ]
    assert not validate_specs(registry, {"print_speed_ppm": "30页"}).ok
    assert validate_specs(registry, {"print_speed_ppm": "30ppm"}).values == {"print_speed_ppm": 30}
    assert not validate_specs(registry, {"grammage": "80g"}).ok
    assert validate_specs(registry, {"grammage": "80g/m²"}).values == {"grammage": 80}
