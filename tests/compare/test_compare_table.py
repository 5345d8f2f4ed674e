"""The side-by-side table: union of the registries, rows that differ marked in words, the best
value of comparable attributes (higher/lower for numbers and booleans, position for enums), the
lowest price, and 只看差异."""

from __future__ import annotations

import pytest

from app.compare import services
from tests.compare.conftest import add
from tests.ui.pages import Page, parse


def _page(client, products, query: str = "") -> Page:
    for product in products:
        add(client, product.id)
    response = client.get(f"/compare{query}")
    assert response.status_code == 200
    return parse(response.get_data(as_text=True))


def _rows(page: Page) -> dict[str, list[str]]:
    """Row label → the cells' texts; a differing row's label ends with 有差异, a best cell with 最优."""
    table = page.one("table", class_=next(e.get("class") for e in page.find_all("table")))
    rows = {}
    for tr in page.inside(table, "tr"):
        heads = page.inside(tr, "th", scope="row")
        if heads:
            rows[heads[0].text] = [td.text for td in page.inside(tr, "td")]
    return rows


def test_same_category_rows_differences_and_best_values(client, catalog):
    p = catalog.products
    page = _page(client, [p["d1"], p["d2"], p["d3"]])
    assert _rows(page) == {
        "品目": ["A02010105 台式计算机"] * 3,
        "制造商": ["联想(北京)有限公司"] * 3,
        "产地": ["国产"] * 3,
        "节能产品 有差异": ["否", "是", "否"],
        "环境标志产品": ["否"] * 3,
        "内存容量（GB） 有差异": ["8", "16 最优", "16 最优"],  # 16 and 16.0 are the same value
        "重量（kg） 有差异": ["5.5", "4.2 最优", "—"],  # lower is better
        "能效等级 有差异": ["3级", "1级 最优", "2级"],  # enum, lower: the earlier value is better
        "端口速率 有差异": ["千兆", "万兆 最优", "百兆"],  # enum, higher: the later value is better
        "无线网络 有差异": ["否", "是 最优", "是 最优"],  # bool, higher: True is better
        "颜色 有差异": ["黑色", "银色", "黑色"],  # not comparable: different, but never "best"
        "操作系统": ["统信UOS"] * 3,
    }
    # The markers are text, not only colour.
    assert all(m.text == "有差异" for m in page.find_all("span", class_="diff-marker"))
    assert len(page.find_all("tr", class_="row-differs")) == 7
    assert not page.find_all("p", class_="notice notice-warning")


def test_lowest_price_is_marked_with_supplier_counts(client, catalog):
    p = catalog.products
    page = _page(client, [p["d1"], p["d2"], p["d3"]])
    cards = page.find_all("th", class_="compare-product")
    prices = [page.inside(card, "p", class_="compare-price")[0].text for card in cards]
    assert prices == [
        "最低报价 ¥4,999.00 最低价 2 家供应商报价",
        "最低报价 ¥5,899.00 1 家供应商报价",
        "最低报价 ¥4,999.00 最低价 1 家供应商报价",
    ]
    links = [page.inside(card, "a")[0].get("href") for card in cards]
    assert links == [f"/products/{p[k].id}" for k in ("d1", "d2", "d3")]
    removes = [page.inside(card, "form")[0] for card in cards]
    assert {f.get("action") for f in removes} == {"/compare/remove"}


def test_across_categories_only_shared_attributes_rank(client, catalog):
    p = catalog.products
    page = _page(client, [p["d1"], p["l1"]])
    rows = _rows(page)
    assert rows["内存容量（GB） 有差异"] == ["8", "32 最优"]  # shared code: compares across categories
    assert rows["重量（kg） 有差异"] == ["5.5", "不适用"]  # one value alone is never "best"
    assert rows["能效等级 有差异"] == ["3级", "1级"]  # the two registries' enum lists differ
    assert rows["电池容量（Wh） 有差异"] == ["不适用", "57"]
    assert list(rows)[-1] == "电池容量（Wh） 有差异"  # the second registry's own rows come after
    assert page.one("p", class_="notice notice-warning").text.startswith(
        "注意：所比较的商品属于不同品目（台式计算机、便携式计算机）"
    )


def test_only_differences(client, catalog):
    p = catalog.products
    page = _page(client, [p["d1"], p["d2"], p["d3"]], "?diff=1")
    assert list(_rows(page)) == [
        "节能产品 有差异",
        "内存容量（GB） 有差异",
        "重量（kg） 有差异",
        "能效等级 有差异",
        "端口速率 有差异",
        "无线网络 有差异",
        "颜色 有差异",
    ]
    switch = page.one("nav", aria_label="参数显示方式")
    links = {a.text: (a.get("href"), a.get("aria-current")) for a in page.inside(switch, "a")}
    assert links == {
        "全部参数": ("/compare", None),
        "只看差异（7 项）": ("/compare?diff=1", "true"),
    }
    assert len(_rows(parse(client.get("/compare").get_data(as_text=True)))) == 12


def test_identical_products_with_only_differences(client, catalog):
    from tests import factories

    twin = factories.product(catalog.desktop, specs=dict(catalog.products["d4"].specs))
    page = _page(client, [catalog.products["d4"], twin], "?diff=1")
    assert _rows(page) == {}
    assert (
        "所比较商品的各项参数完全相同。"
        in page.one("table", class_="data-table compare-table compare-n2").text
    )


def test_bad_switch_value_is_a_clear_422(client, catalog):
    assert client.get("/compare?diff=perhaps").status_code == 422


@pytest.mark.parametrize(
    ("values", "attribute", "expected"),
    [
        ([8, 16, None], {"type": "number", "better": "higher"}, [False, True, False]),
        ([8, 16, 4], {"type": "number", "better": "lower"}, [False, False, True]),
        ([True, False], {"type": "bool", "better": "higher"}, [True, False]),
        ([True, False], {"type": "bool", "better": "lower"}, [False, True]),
        (["P-4", "P-7", "P-5"], {"type": "enum", "better": "higher", "enum_values": ["P-4", "P-5", "P-7"]},
         [False, True, False]),
        (["2级", "1级"], {"type": "enum", "better": "lower", "enum_values": ["1级", "2级", "3级"]},
         [False, True]),
        (["2级", "未知"], {"type": "enum", "better": "lower", "enum_values": ["1级", "2级"]}, [False, False]),
        (["1级", "2级"], {"type": "enum", "better": "lower", "enum_values": None}, [False, False]),
        ([5, 5], {"type": "number", "better": "higher"}, [False, False]),
        ([5, 9], {"type": "number", "better": None}, [False, False]),
        ([5, 9], {"type": "number", "better": "higher", "comparable": False}, [False, False]),
        (["a", "b"], {"type": "text", "better": "higher"}, [False, False]),
    ],
)  # fmt: skip
def test_best_flags(values, attribute, expected):
    from decimal import Decimal

    attribute = {"comparable": True, **attribute}
    normalized = [Decimal(v) if isinstance(v, int) and not isinstance(v, bool) else v for v in values]
    assert services.best_flags(normalized, attribute) == expected


def test_the_table_is_built_from_the_snapshot(app, db_session, catalog):
    p = catalog.products
    with app.test_request_context():
        snapshot = services.build_snapshot(services.products_in_order([p["d2"].id, p["l1"].id]))
        table = services.comparison_table(snapshot)
    assert [c.product["product_id"] for c in table.columns] == [p["d2"].id, p["l1"].id]
    assert [c.is_lowest for c in table.columns] == [True, False]
    memory = next(r for r in table.rows if r.key == "memory_gb")
    assert (memory.differs, memory.ranked, [c.best for c in memory.cells]) == (True, True, [False, True])
    assert table.categories_differ and table.category_names == ["台式计算机", "便携式计算机"]
