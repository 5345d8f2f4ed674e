"""The compare list in the session: add, remove, clear, the limit of 4, and clear messages when a
product cannot be added (nothing is added then)."""

from __future__ import annotations

from app.extensions import db
from tests.compare.conftest import add, flashes, session_ids, token
from tests.ui.pages import parse


def test_add_keeps_the_list_in_the_session_and_goes_back(client, catalog):
    d1 = catalog.products["d1"]
    response = add(client, d1.id, next_url=f"/products/{d1.id}")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/products/{d1.id}"
    assert session_ids(client) == [d1.id]
    assert flashes(client) == [("success", "已加入对比（1/4）。")]
    # Shown on the next page, and the list survives across pages.
    page = parse(client.get(f"/products/{d1.id}").get_data(as_text=True))
    assert page.one("p", class_="flash flash-success").text == "成功 已加入对比（1/4）。"
    assert session_ids(client) == [d1.id]


def test_adding_twice_does_not_duplicate(client, catalog):
    d1 = catalog.products["d1"]
    add(client, d1.id)
    client.get("/compare")  # consume the first message
    add(client, d1.id)
    assert session_ids(client) == [d1.id]
    assert flashes(client) == [("info", "该商品已在对比列表中（1/4）。")]


def test_at_most_four_products(client, catalog):
    p = catalog.products
    for key in ("d1", "d2", "d3", "d4"):
        add(client, p[key].id)
    client.get("/compare")
    response = add(client, p["l1"].id, next_url=f"/products/{p['l1'].id}")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/products/{p['l1'].id}"
    assert session_ids(client) == [p["d1"].id, p["d2"].id, p["d3"].id, p["d4"].id]
    assert flashes(client) == [("error", "对比列表最多只能放 4 件商品，请先移除一件再加入。")]


def test_unknown_or_inactive_product_is_refused_with_a_message(client, catalog):
    add(client, catalog.products["d1"].id)
    client.get("/compare")
    for product_id in (catalog.products["gone"].id, 987654):
        response = add(client, product_id)
        assert response.status_code == 302
        assert response.headers["Location"] == "/compare"
        assert flashes(client) == [("error", "商品不存在或已下架，未加入对比。")]
        client.get("/compare")
        assert session_ids(client) == [catalog.products["d1"].id]


def test_invalid_product_id_is_a_clear_422_and_adds_nothing(client, catalog):
    csrf = token(client)
    for value in ("abc", "", "-3"):
        response = client.post("/compare/add", data={"product_id": value, "csrf_token": csrf})
        assert response.status_code == 422
        assert "商品" in response.get_data(as_text=True)
    assert session_ids(client) == []


def test_different_categories_are_allowed_with_a_warning(client, catalog):
    add(client, catalog.products["d1"].id)
    client.get("/compare")
    add(client, catalog.products["l1"].id)
    assert session_ids(client) == [catalog.products["d1"].id, catalog.products["l1"].id]
    assert flashes(client) == [
        ("success", "已加入对比（2/4）。"),
        ("warning", "该商品与对比列表中的台式计算机不属于同一品目，只有共同的参数可以直接比较。"),
    ]


def test_remove_and_clear(client, catalog):
    p = catalog.products
    for key in ("d1", "d2", "d3"):
        add(client, p[key].id)
    csrf = token(client)
    response = client.post("/compare/remove", data={"product_id": p["d2"].id, "csrf_token": csrf})
    assert (response.status_code, response.headers["Location"]) == (302, "/compare")
    assert session_ids(client) == [p["d1"].id, p["d3"].id]
    # Removing one that is not there changes nothing.
    client.post("/compare/remove", data={"product_id": p["d2"].id, "csrf_token": csrf})
    assert session_ids(client) == [p["d1"].id, p["d3"].id]
    response = client.post("/compare/clear", data={"csrf_token": csrf})
    assert response.status_code == 302
    assert session_ids(client) == []


def test_every_button_needs_the_csrf_token(client, catalog):
    d1 = catalog.products["d1"]
    add(client, d1.id)
    for url, data in (
        ("/compare/add", {"product_id": catalog.products["d2"].id}),
        ("/compare/remove", {"product_id": d1.id}),
        ("/compare/clear", {}),
    ):
        assert client.post(url, data=data).status_code == 400, url
    assert session_ids(client) == [d1.id]


def test_next_must_stay_on_this_site(client, catalog):
    d1 = catalog.products["d1"]
    response = add(client, d1.id, next_url="https://evil.example/")
    assert response.headers["Location"] == f"/products/{d1.id}"


def test_fewer_than_two_products_explain_how_to_add(client, catalog):
    page = parse(client.get("/compare").get_data(as_text=True))
    empty = page.one("div", class_="empty-state")
    assert page.inside(empty, "p", class_="empty-title")[0].text == "至少选择 2 件商品才能对比"
    assert "加入对比" in empty.text
    assert not page.find_all("table")

    add(client, catalog.products["d1"].id)
    page = parse(client.get("/compare").get_data(as_text=True))
    pending = page.one("ul", class_="compare-pending")
    assert page.inside(pending, "a")[0].text == "联想 D1"
    assert page.inside(pending, "form")[0].get("action") == "/compare/remove"
    assert not page.find_all("table")


def test_products_delisted_after_adding_drop_out(client, catalog):
    p = catalog.products
    for key in ("d1", "d2", "d3"):
        add(client, p[key].id)
    p["d2"].is_active = False
    db.session.flush()
    page = parse(client.get("/compare").get_data(as_text=True))
    assert page.one("p", class_="notice notice-info").text == "1 件商品已下架，已从对比列表中移除。"
    assert session_ids(client) == [p["d1"].id, p["d3"].id]
    assert [th.text.split(" ")[0] for th in page.find_all("th", class_="compare-product")] == ["联想", "浪潮"]
