"""The search page and the search API over the real indexing pipeline."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from app.auth.models import OrgKind
from app.catalog.models import AttributeType
from tests import factories


@pytest.fixture
def shop(app, db_session):
    """Two desktops and a laptop, committed so the after-commit indexing job indexes them."""
    from app.catalog import indexing

    indexing.search_backend(app).rebuild([])
    desktop = factories.category("A02010105", "台式计算机")
    laptop = factories.category("A02010108", "便携式计算机")
    for category in (desktop, laptop):
        factories.attribute(
            category, "memory_gb", AttributeType.NUMBER, unit="GB", facetable=True, label_zh="内存容量"
        )
        factories.attribute(
            category,
            "os",
            AttributeType.ENUM,
            facetable=True,
            label_zh="操作系统",
            enum_values=["统信UOS", "银河麒麟"],
        )
    sme = factories.org(OrgKind.SUPPLIER, name="江宁华信科技有限公司", is_sme=True)
    big = factories.org(OrgKind.SUPPLIER, name="大型集成商有限公司", is_sme=False)
    a = factories.product(
        desktop,
        brand="联想",
        model="开天M740J",
        name="联想 开天M740J 台式计算机",
        specs={"memory_gb": 16, "os": "统信UOS"},
    )
    b = factories.product(
        desktop,
        brand="长城",
        model="世恒TN",
        name="长城 世恒TN 台式计算机",
        specs={"memory_gb": 8, "os": "银河麒麟"},
    )
    c = factories.product(
        laptop,
        brand="华为",
        model="MateBook 14",
        name="华为 MateBook 14 便携式计算机",
        specs={"memory_gb": 16, "os": "统信UOS"},
    )
    factories.offer(a, sme, price=Decimal("3999.00"), regions=["110000"], stock=0)
    factories.offer(a, big, price=Decimal("5999.00"), regions=["320000"])
    factories.offer(b, sme, price=Decimal("4599.00"), regions=["320000"])
    factories.offer(c, big, price=Decimal("6999.00"), regions=["110000", "320000"])
    db_session.commit()
    return {"a": a, "b": b, "c": c}


def names(html: str) -> list[str]:
    return re.findall(r'class="product-name"><a href="/products/\d+">(.*?)</a>', html, re.S)


def plain(fragment: str) -> str:
    return re.sub(r"<[^>]+>", "", fragment).strip()


def test_text_search_highlights_and_counts(client, shop):
    html = client.get("/search?q=台式机").get_data(as_text=True)
    assert "找到 2 件商品" in html
    assert sorted(plain(n) for n in names(html)) == ["联想 开天M740J 台式计算机", "长城 世恒TN 台式计算机"]
    assert "<mark>台式计算机</mark>" in html  # the synonym's tokens are highlighted


def test_single_offer_semantics_on_the_page(client, shop):
    # The cheap offer is in Beijing and out of stock; the Jiangsu one costs 5999.
    html = client.get("/search?region=320000&in_stock=true&sort=price_asc").get_data(as_text=True)
    assert [plain(n) for n in names(html)] == [
        "长城 世恒TN 台式计算机",
        "联想 开天M740J 台式计算机",
        "华为 MateBook 14 便携式计算机",
    ]
    assert "¥5,999.00" in html and "¥3,999.00" not in html


def test_facets_chips_and_attribute_filters(client, shop):
    html = client.get("/search?category=A02010105&a.memory_gb=16").get_data(as_text=True)
    assert "找到 1 件商品" in html
    assert re.search(r'aria-current="true">.*?16.*?</a>\s*<span class="count">1</span>', html, re.S)
    assert "内存容量：16GB" in html  # a chip that removes the filter
    chip = re.search(r'<a href="(/search\?[^"]*)">内存容量：16GB', html).group(1)
    assert "a.memory_gb" not in chip and "category=A02010105" in chip
    assert "找到 2 件商品" in client.get(chip.replace("&amp;", "&")).get_data(as_text=True)


def test_unknown_attribute_and_bad_values_are_explained_not_fatal(client, shop):
    response = client.get("/search?category=A02010105&a.nope=1&a.os=DOS")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "未知的规格参数「nope」" in html
    assert "「操作系统」没有「DOS」这个取值" in html
    assert "找到 2 件商品" in html


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("page=51", "页码应在 1 到 50 之间"),
        ("per_page=1000", "每页数量"),
        ("q=" + "长" * 5000, "不能超过 200 个字符"),
        ("price_min=abc", "应为数字"),
        ("sort=random", "排序方式无效"),
        ("category=XYZ", "品目编码格式不正确"),
        ("category=A99999999", "不存在"),
        ("region=999999", "未知的地区代码"),
    ],
)
def test_bad_input_is_a_clear_422(client, shop, query, message):
    response = client.get(f"/search?{query}")
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)


def test_query_syntax_is_just_text(client, shop):
    for text in ['"(AND', "memory_gb:>1", "*", "[1 TO"]:
        response = client.get("/search", query_string={"q": text})
        assert response.status_code == 200
        assert "没有找到符合条件的商品" in response.get_data(as_text=True) or "找到" in response.get_data(
            as_text=True
        )


def test_empty_state_suggests_a_way_out(client, shop):
    html = client.get("/search?q=不存在的东西&brand=联想").get_data(as_text=True)
    assert "没有找到符合条件的商品" in html
    assert "去掉“品牌：联想”" in html
    assert 'href="/"' in html


def test_paging_keeps_the_filters(client, shop):
    html = client.get("/search?category=A02010105&per_page=1&sort=price_asc").get_data(as_text=True)
    assert "第 1 页，共 2 页" in html
    next_link = re.search(r'<a href="([^"]+)" rel="next">', html).group(1).replace("&amp;", "&")
    assert "category=A02010105" in next_link and "page=2" in next_link and "sort=price_asc" in next_link
    assert [plain(n) for n in names(client.get(next_link).get_data(as_text=True))] == [
        "长城 世恒TN 台式计算机"
    ]


def test_search_api_matches_the_page(client, shop, db_session):
    from app.api.services import issue_token

    organization = factories.org(OrgKind.PURCHASING_UNIT)
    _, token = issue_token(organization, name="search", scopes=["catalog:read"])
    db_session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    body = client.get(
        "/api/v1/search?region=320000&in_stock=true&sort=price_asc&category=A02010105", headers=headers
    ).get_json()
    assert [(d["name"], d["min_price"], d["supplier_count"]) for d in body["data"]] == [
        ("长城 世恒TN 台式计算机", "4599.00", 1),
        ("联想 开天M740J 台式计算机", "5999.00", 1),
    ]
    assert body["pagination"] == {"page": 1, "per_page": 20, "total": 2, "pages": 1}
    facets = {f["name"]: {b["key"]: b["count"] for b in f["buckets"]} for f in body["facets"]}
    assert facets["attr:memory_gb"] == {"16": 1, "8": 1}
    assert facets["brand"] == {"联想": 1, "长城": 1}
    bad = client.get("/api/v1/search?page=0", headers=headers)
    assert bad.status_code == 422 and "页码" in str(bad.get_json()["errors"])
    assert client.get("/api/v1/search").status_code == 401
