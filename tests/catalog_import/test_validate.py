from dataclasses import replace
from decimal import Decimal

import pytest

from catalog_import import (
    DictSkuLookup,
    ImportFileError,
    InMemoryProductLookup,
    MatchedProduct,
    validate_records,
)
from catalog_import.regions import MAINLAND
from tests.catalog_import.helpers import EXISTING, SPEC, file_bytes, messages, row, run

MATCHING = {  # a row quoting EXISTING, specs left blank (inherited)
    "model": "ThinkCentre M80t",
    "cpu": "",
    "memory_gb": "",
    "storage_gb": "",
    "storage_type": "",
    "os": "",
    "form_factor": "",
    "screen_inch": "",
    "energy_class": "",
    "manufacturer": "",
    "origin": "",
    "energy_saving": "",
}


def one(**changes):
    return run(file_bytes([row(**changes)], "csv"))[0]


def test_a_clean_row_proposes_a_new_product_with_typed_values():
    result = one()
    assert result.ok, result.message
    assert result.product_id is None and result.is_new_product and result.new_product_row == 2
    offer = result.offer
    assert offer.supplier_sku == "SKU-1"
    assert offer.price == Decimal("4999.00") and isinstance(offer.price, Decimal)
    assert offer.market_price == Decimal("5299.00")
    assert (offer.stock, offer.warranty_months, offer.lead_time_days) == (100, 36, 3)
    assert offer.regions == MAINLAND
    product = result.product
    assert product.dedup_key == "联想|thinkcentrem70t"
    assert product.specs == {
        "cpu": "英特尔酷睿i5-13500",
        "memory_gb": 16,
        "storage_gb": 512,
        "storage_type": "SSD",
        "os": "统信UOS",
        "form_factor": "立式",
        "screen_inch": 23.8,
        "energy_class": "1级",
    }
    assert (product.energy_saving, product.environmental, product.origin) == (True, False, "domestic")


@pytest.mark.parametrize("memory", ["16GB", "16 G", "16", "１６ｇｂ", " 16 GiB "])
def test_units_are_accepted_in_every_common_spelling(memory):
    result = one(memory_gb=memory)
    assert result.ok, result.message
    assert result.product.specs["memory_gb"] == 16


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"memory_gb": "十六"}, "第 2 行「内存容量」：应为数字（单位：GB），例如 16，收到「十六」"),
        ({"memory_gb": "16TB"}, "第 2 行「内存容量」：单位应为 GB，收到「16TB」"),
        ({"memory_gb": "0"}, "第 2 行「内存容量」：不能小于 1GB"),
        (
            {"memory_gb": ""},
            "第 2 行「内存容量」：为必填项（该品牌型号在卖场中还没有标准商品，"
            "本行将提议新建），请填写，例如 16GB",
        ),
        (
            {"os": "DOS"},
            "第 2 行「操作系统」：只能取以下值之一：统信UOS、银河麒麟、Windows 11 专业版；收到「DOS」",
        ),
        ({"supplier_sku": ""}, "第 2 行「供应商货号」：为必填项，请填写，例如 SKU-0001"),
        ({"brand": " "}, "第 2 行「品牌」：为必填项，请填写，例如 联想"),
        ({"brand": "--"}, "第 2 行「品牌」：只含分隔符，请填写品牌名称"),
        ({"price": "0"}, "第 2 行「单价」：必须大于 0"),
        ({"price": "-5"}, "第 2 行「单价」：必须大于 0"),
        ({"price": "12.345"}, "第 2 行「单价」：最多保留两位小数（精确到分），收到「12.345」"),
        ({"price": "abc"}, "第 2 行「单价」：应为金额（元），例如 4999.00，收到「abc」"),
        (
            {"price": "1000000000000"},
            "第 2 行「单价」：金额过大，不能超过 999,999,999,999.99 元",
        ),
        (
            {"price": "5300"},
            "第 2 行「单价」：价格高于市场参考价：单价 5,300.00 元高于市场参考价 5,299.00 元；"
            "请下调单价，或核实市场参考价及其来源",
        ),
        ({"market_price": ""}, "第 2 行「市场参考价」：为必填项，请填写，例如 5299.00"),
        ({"stock": "-1"}, "第 2 行「库存」：不能小于 0"),
        ({"stock": "1.5"}, "第 2 行「库存」：应为整数，例如 100，收到「1.5」"),
        ({"stock": "很多"}, "第 2 行「库存」：应为整数，例如 100，收到「很多」"),
        ({"warranty_months": "200"}, "第 2 行「质保」：不能大于 120"),
        ({"lead_time_days": "3天"}, None),  # the unit may be written
        (
            {"regions": "江苏省、火星"},
            "第 2 行「配送地区」：无法识别的地区「火星」；请填写省级名称（如 江苏省 或 江苏）或行政区划代码"
            "（如 320000），多个用“、”分隔，全部大陆省份填“全国”",
        ),
        ({"energy_saving": "可能"}, "第 2 行「节能产品」：应填写“是”或“否”，收到「可能」"),
        ({"origin": "中国"}, "第 2 行「产地」：应填写“国产”或“进口”，收到「中国」"),
        (
            {"manufacturer": ""},
            "第 2 行「生产厂商」：该品牌型号在卖场中还没有标准商品，本行将提议新建商品，需填写「生产厂商」",
        ),
        ({"name": "长" * 301}, "第 2 行「商品名称」：不能超过 300 个字符（现有 301 个）"),
        ({"model": "M70\x07"}, "第 2 行「型号」：含有不可见的控制字符，请删除后重新填写"),
    ],
)
def test_each_rule_has_its_exact_message(changes, message):
    result = one(**changes)
    if message is None:
        assert result.ok, result.message
        return
    assert [e.message for e in result.errors] == [message]
    assert result.offer is None and result.product is None


def test_error_carries_the_column_code_and_label_for_the_api():
    error = one(price="0").errors[0]
    assert (error.row, error.column, error.label, error.detail) == (2, "price", "单价", "必须大于 0")


@pytest.mark.parametrize(
    ("price", "market", "ok"),
    [("5299.00", "5299.00", True), ("5299.01", "5299.00", False), ("¥1,234.50", "2000元", True)],
)
def test_price_may_equal_but_not_exceed_the_market_price(price, market, ok):
    result = one(price=price, market_price=market)
    assert result.ok is ok
    if not ok:
        assert "价格高于市场参考价" in result.message


def test_regions_accept_names_short_names_codes_and_separators():
    result = one(regions="江苏省、浙江,320000;上海 内蒙古，广西")
    assert result.offer.regions == ("150000", "310000", "320000", "330000", "450000")


def test_blank_optional_offer_values_take_their_defaults():
    result = one(warranty_months="", lead_time_days="", market_price_source="", environmental="")
    assert result.ok, result.message
    assert (result.offer.warranty_months, result.offer.lead_time_days) == (12, 3)
    assert result.offer.market_price_source == ""
    assert result.product.environmental is False


def test_every_error_of_a_row_is_reported_at_once():
    result = one(price="abc", stock="-1", memory_gb="十六")
    assert [e.column for e in result.errors] == ["price", "stock", "memory_gb"]
    assert result.message.count("第 2 行") == 3


def test_duplicate_skus_in_the_file_name_both_rows():
    results = run(file_bytes([row(), row(model="M90"), row(supplier_sku="ＳＫＵ-1", model="M91")], "csv"))
    assert results[0].ok
    assert messages(results) == [
        "第 3 行「供应商货号」：货号「SKU-1」与第 2 行重复；同一文件中每个货号只能出现一次",
        "第 4 行「供应商货号」：货号「SKU-1」与第 2 行重复；同一文件中每个货号只能出现一次",
    ]


def test_matching_an_existing_product_inherits_its_specs():
    lookup = InMemoryProductLookup([EXISTING])
    # Case, width and separators do not matter: THINKCENTRE-m80t is ThinkCentre M80t.
    result = run(
        file_bytes([row(**{**MATCHING, "model": "ＴＨＩＮＫＣＥＮＴＲＥ-m80t"})], "csv"), lookup=lookup
    )[0]
    assert result.ok, result.message
    assert result.product_id == 7 and not result.is_new_product
    assert result.product.model == "ThinkCentre M80t"  # the canonical spelling
    assert result.product.specs == dict(EXISTING.specs)
    assert result.product.energy_saving is True


def test_specs_given_for_an_existing_product_must_agree():
    lookup = InMemoryProductLookup([EXISTING])
    results = run(
        file_bytes([row(**{**MATCHING, "memory_gb": "16G", "os": "银河麒麟"})], "csv"), lookup=lookup
    )
    assert results[0].ok, results[0].message
    results = run(
        file_bytes([row(**{**MATCHING, "memory_gb": "8", "energy_saving": "否", "origin": "进口"})], "csv"),
        lookup=lookup,
    )
    assert messages(results) == [
        "第 2 行「内存容量」：与标准商品 #7「联想 ThinkCentre M80t」的规格不一致："
        "标准商品为 16GB，本行为 8GB；"
        "同一型号的规格必须一致，配置不同请填写该配置对应的型号",
        "第 2 行「节能产品」：与标准商品 #7「联想 ThinkCentre M80t」不一致：标准商品为“是”，本行为“否”；"
        "认证和产地以标准商品为准，如有变更请联系卖场运营",
        "第 2 行「产地」：与标准商品 #7「联想 ThinkCentre M80t」不一致：标准商品为“国产”，本行为“进口”；"
        "认证和产地以标准商品为准，如有变更请联系卖场运营",
    ]


def test_a_product_of_another_category_is_refused():
    lookup = InMemoryProductLookup([replace(EXISTING, category_code="A02010108")])
    result = run(file_bytes([row(**MATCHING)], "csv"), lookup=lookup)[0]
    assert result.message == (
        "第 2 行「型号」：该品牌型号已是品目 A02010108 的标准商品 #7「联想 ThinkCentre M80t」，"
        "不属于本品目（A02010105 台式计算机）；请使用该品目的模板上传"
    )


SAME_SPECS = {
    "cpu": "英特尔酷睿i7-13700",
    "memory_gb": "16",
    "storage_gb": "1024GB",
    "storage_type": "SSD",
    "os": "银河麒麟",
    "form_factor": "立式",
    "screen_inch": "",
    "energy_class": "1级",
}


@pytest.mark.parametrize(
    "model", ["ThinkCentre M80t Pro", "联想ThinkCentre M80t", "M80t", "ThinkCentre M80t-G"]
)
def test_a_renamed_duplicate_of_an_existing_product_is_refused(model):
    lookup = InMemoryProductLookup([EXISTING])
    result = run(file_bytes([row(model=model, **SAME_SPECS)], "csv"), lookup=lookup)[0]
    assert result.message == (
        "第 2 行「型号」：疑似已有标准商品 #7「联想 ThinkCentre M80t」的重复：品牌相同、规格完全一致，"
        "型号只差前后缀；请使用已有型号「ThinkCentre M80t」。如确为不同商品，请填写厂商铭牌上的正式型号，"
        "或联系卖场运营核实"
    )


@pytest.mark.parametrize(
    "changes",
    [
        {"model": "ThinkCentre M80t Pro", "memory_gb": "32"},  # different specs: a different product
        {"model": "ThinkCentre M90t"},  # not a prefix/suffix variant
        {"model": "ThinkCentre M80t Pro", "brand": "惠普"},  # another brand
    ],
)
def test_similar_but_different_products_may_be_proposed(changes):
    lookup = InMemoryProductLookup([EXISTING])
    result = run(file_bytes([row(**{**SAME_SPECS, **changes})], "csv"), lookup=lookup)[0]
    assert result.ok, result.message
    assert result.is_new_product


def test_rows_proposing_the_same_new_product_share_it_and_must_agree():
    results = run(
        file_bytes(
            [
                row(),
                row(supplier_sku="SKU-2", model="thinkcentre-m70t"),
                row(supplier_sku="SKU-3", memory_gb="32"),
            ],
            "csv",
        )
    )
    assert results[0].new_product_row == 2 and results[1].new_product_row == 2
    assert results[1].ok
    assert messages(results) == [
        "第 4 行「内存容量」：与第 2 行（同一品牌型号）填写的不一致；同一型号的规格、厂商、认证和产地必须相同"
    ]


def test_a_supplier_sku_cannot_move_to_another_product():
    lookup = InMemoryProductLookup([EXISTING])
    skus = DictSkuLookup({"SKU-1": 99, "SKU-2": 7})
    results = run(
        file_bytes([row(), row(supplier_sku="SKU-2", **MATCHING)], "csv"), lookup=lookup, existing_skus=skus
    )
    assert messages(results) == [
        "第 2 行「供应商货号」：货号「SKU-1」已是标准商品 #99 的报价，不能改为另一商品；"
        "如要上架新商品，请使用新的货号"
    ]
    assert results[1].ok and results[1].product_id == 7


def test_the_example_row_and_blank_rows_are_skipped_but_keep_their_numbers():
    data = file_bytes(
        [row(supplier_sku="示例-SKU-0001（本行为示例，导入时忽略）"), {}, row(price="0")], "csv"
    )
    results = run(data)
    assert [r.row for r in results] == [4]
    assert results[0].message == "第 4 行「单价」：必须大于 0"


def test_only_the_example_row_is_no_data():
    data = file_bytes([row(supplier_sku="示例-1")], "csv")
    with pytest.raises(ImportFileError) as caught:
        run(data)
    assert caught.value.code == "no_rows"
    assert str(caught.value) == "文件中没有数据行（只有表头和示例行）；请从第 2 行起每行填写一个商品"


def test_content_without_a_header_is_an_error_of_the_row():
    # The header has 23 columns (A–W); the row has a 24th value.
    data = file_bytes([row()], "csv").rstrip(b"\r\n") + b",note\r\n"
    result = run(data)[0]
    assert result.message == "第 2 行：第 X 列没有表头，却填写了「note」；请删除该内容，或在表头补上对应的列"


def test_progress_is_reported_while_streaming():
    seen = []
    rows = [
        row(supplier_sku=f"SKU-{i}", model=f"M{i:04d}", price="0" if i % 10 == 0 else "4999")
        for i in range(45)
    ]
    results = run(
        file_bytes(rows, "csv"),
        on_progress=lambda s: seen.append((s.rows, s.error_rows, s.done)),
        progress_every=10,
        batch_size=10,
    )
    assert len(results) == 45
    assert seen[-1] == (45, 5, True)
    assert [rows for rows, _errors, done in seen if not done] == [10, 20, 30, 40]


def test_stats_count_rows_errors_and_new_products():
    from catalog_import import Validator, open_table

    lookup = InMemoryProductLookup([EXISTING])
    data = file_bytes(
        [row(), row(supplier_sku="SKU-2", **MATCHING), row(supplier_sku="SKU-3", price="x")], "csv"
    )
    import io

    with open_table(io.BytesIO(data), "a.csv") as table:
        validator = Validator(SPEC, lookup)
        list(validator.run(table.rows(), validator.bind(table.header)))
    stats = validator.stats
    assert (stats.rows, stats.ok_rows, stats.error_rows, stats.errors) == (3, 2, 1, 1)
    assert (stats.matched, stats.new_products, stats.done, stats.ok) == (1, 1, True, False)


def test_records_from_the_api_get_the_same_rules_and_messages():
    lookup = InMemoryProductLookup([EXISTING])
    records = [
        {**row(), "price": 4999, "regions": ["江苏省", "320000", "浙江"], "energy_saving": True},
        {**row(supplier_sku="SKU-2", **MATCHING), "price": "6000", "market_price": "5299.00"},
        {**row(supplier_sku="SKU-3", model="X1"), "colour": "红"},
    ]
    results = list(validate_records(records, SPEC, lookup))
    assert results[0].ok, results[0].message
    assert results[0].offer.regions == ("320000", "330000")
    assert results[0].offer.price == Decimal("4999.00")
    assert messages(results[1:]) == [
        "第 2 条「单价」：价格高于市场参考价：单价 6,000.00 元高于市场参考价 5,299.00 元；"
        "请下调单价，或核实市场参考价及其来源",
        "第 3 条：未知字段 colour；字段名应为模板中的列代码",
    ]


def test_lookups_are_batched():
    calls = []

    class CountingLookup(InMemoryProductLookup):
        def find_many(self, keys):
            calls.append(len(keys))
            return super().find_many(keys)

    rows = [row(supplier_sku=f"SKU-{i}", model=f"M{i:04d}") for i in range(25)]
    run(file_bytes(rows, "csv"), lookup=CountingLookup(), batch_size=10)
    assert calls == [10, 10, 5]


def test_matched_product_dedup_key_is_the_apps():
    product = MatchedProduct(id=1, category_code="A", brand="ＨＵＡＷＥＩ", model="MateBook X-Pro (2024)")
    assert product.dedup_key == "huawei|matebookxpro2024"


def test_the_compact_sku_index_grows_and_remembers_first_rows():
    from catalog_import.validate import _HashIndex

    index = _HashIndex(capacity=8)
    for number in range(5_000):
        assert index.add(f"SKU-{number}", number + 2) is None
    assert len(index) == 5_000
    assert index.add("SKU-17", 9_999) == 19  # already there: its first row, unchanged
    assert index.get("SKU-4999") == 5_001
    assert index.get("SKU-5000") is None
