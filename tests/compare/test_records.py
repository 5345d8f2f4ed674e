"""Saved comparison records (比价记录): what is frozen, where prices come from, numbering, who may
save, and who may read them (an organization's records are invisible to every other unit)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.auth.models import OrgKind, Role
from app.catalog.models import Offer
from app.compare import services
from app.compare.models import ComparisonRecord
from app.core.db import utcnow
from app.extensions import db
from tests import factories
from tests.compare.conftest import NUMBER, add, flashes, make_record, token
from tests.conftest import login
from tests.ui.pages import parse


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(ComparisonRecord))


def _compare_page(client, products):
    for product in products:
        add(client, product.id)
    page = parse(client.get("/compare").get_data(as_text=True))
    form = page.one("form", action="/compare/save")
    return page, form


def _save(client, page, form, **extra):
    data = {"csrf_token": page.inside(form, "input", name="csrf_token")[0].get("value")}
    data["product_ids"] = [i.get("value") for i in page.inside(form, "input", name="product_ids")]
    data.update(extra)
    return client.post("/compare/save", data=data)


# --------------------------------------------------------------------------------------------
# Saving


def test_purchaser_saves_a_record_with_prices_from_the_database(client, catalog, purchaser):
    p = catalog.products
    login(client, purchaser.username)
    page, form = _compare_page(client, [p["d1"], p["d2"]])
    assert [i.get("value") for i in page.inside(form, "input", name="product_ids")] == [
        str(p["d1"].id),
        str(p["d2"].id),
    ]
    before = utcnow()
    # A forged form cannot set prices: they are read again from the database.
    response = _save(
        client, page, form, title=" 办公电脑比价 ", note="选择理由：性价比", price="1.00", lowest_price="1.00"
    )
    assert response.status_code == 302, response.get_data(as_text=True)[-800:]
    record = db.session.scalars(select(ComparisonRecord)).one()
    assert response.headers["Location"] == f"/compare/records/{record.id}"
    assert NUMBER.match(record.number)
    today = record.created_at.astimezone(services.LOCAL_TZ).strftime("%Y%m%d")
    assert record.number == f"BJ-{today}-0001"
    assert before <= record.created_at <= utcnow()
    assert (record.organization_id, record.created_by_id) == (purchaser.organization_id, purchaser.id)
    assert (record.title, record.note) == ("办公电脑比价", "选择理由：性价比")
    assert (record.product_ids, record.product_count) == ([p["d1"].id, p["d2"].id], 2)
    sme_offer = db.session.scalar(select(Offer).where(Offer.product_id == p["d1"].id, Offer.price == 4999))
    assert (record.lowest_price, record.lowest_offer_id) == (Decimal("4999.00"), sme_offer.id)

    snapshot = record.snapshot
    assert snapshot["version"] == 1
    assert datetime.fromisoformat(snapshot["saved_at"]) == record.created_at
    assert [a["code"] for a in snapshot["attributes"]] == [
        "memory_gb",
        "weight_kg",
        "energy_class",
        "port_speed",
        "wifi",
        "color",
        "os",
    ]
    assert snapshot["attributes"][2] == {
        "code": "energy_class",
        "label_zh": "能效等级",
        "label_en": "energy_class",
        "type": "enum",
        "unit": None,
        "comparable": True,
        "better": "lower",
        "enum_values": ["1级", "2级", "3级"],
        "category_codes": ["A02010105"],
    }
    d1, d2 = snapshot["products"]
    d1_offers = db.session.scalars(
        select(Offer).where(Offer.product_id == p["d1"].id).order_by(Offer.price)
    ).all()
    assert d1 == {
        "product_id": p["d1"].id,
        "name": "联想 D1",
        "brand": "联想",
        "model": "D1",
        "manufacturer": "联想(北京)有限公司",
        "category_code": "A02010105",
        "category_name": "台式计算机",
        "catalog_version": "2022",
        "origin": "domestic",
        "energy_saving": False,
        "environmental": False,
        "specs": p["d1"].specs,
        "offers": [
            {
                "offer_id": d1_offers[0].id,
                "supplier_id": catalog.suppliers["sme"].id,
                "supplier_name": "甲科技有限公司",
                "supplier_sme": True,
                "price": "4999.00",
                "market_price": "5299.00",
                "market_price_source": None,
                "in_stock": True,
                "regions": ["110000"],
                "warranty_months": 12,
                "lead_time_days": 3,
            },
            {
                "offer_id": d1_offers[1].id,
                "supplier_id": catalog.suppliers["big"].id,
                "supplier_name": "乙电子有限公司",
                "supplier_sme": False,
                "price": "5100.00",
                "market_price": None,
                "market_price_source": None,
                "in_stock": True,
                "regions": ["110000"],
                "warranty_months": 12,
                "lead_time_days": 3,
            },
        ],
        "lowest_offer_id": d1_offers[0].id,
        "lowest_price": "4999.00",
    }
    assert (d2["lowest_price"], [o["price"] for o in d2["offers"]], d2["offers"][0]["in_stock"]) == (
        "5899.00",
        ["5899.00"],
        False,
    )
    assert flashes(client) == [("success", f"已保存比价记录 {record.number}。")]


def test_a_record_stays_frozen_when_prices_change(client, catalog, purchaser):
    p = catalog.products
    record = make_record(purchaser, [p["d1"], p["d2"]])
    for offer in p["d1"].offers:
        offer.price = Decimal("3000.00")
    db.session.flush()
    login(client, purchaser.username)
    page = parse(client.get(f"/compare/records/{record.id}").get_data(as_text=True))
    cards = page.find_all("th", class_="compare-product")
    assert page.inside(cards[0], "span", class_="price")[0].text == "¥4,999.00"
    assert "¥3,000.00" not in page.one("main").text
    local = record.created_at.astimezone(services.LOCAL_TZ).strftime("%Y-%m-%d %H:%M:%S")
    assert page.one("p", class_="notice notice-info").text == (
        f"以下是保存时（{local}，北京时间）冻结的参数和报价，之后的价格变化不会改变本记录。"
    )


def test_default_title_names_the_categories(app, catalog, purchaser):
    p = catalog.products
    with app.test_request_context():
        one = make_record(purchaser, [p["d1"], p["d2"], p["d3"]])
        two = make_record(purchaser, [p["d1"], p["l1"]])
    assert one.title == "台式计算机比价（3 件商品）"
    assert two.title == "台式计算机、便携式计算机比价（2 件商品）"


def test_numbers_follow_a_per_day_sequence_in_china_time(app, catalog, purchaser):
    p = catalog.products
    pair = [p["d1"], p["d2"]]
    with app.test_request_context():
        numbers = [
            make_record(
                purchaser, pair, now=datetime(2026, 11, 25, 16, 30, tzinfo=UTC)
            ).number,  # 11-26 00:30
            make_record(purchaser, pair, now=datetime(2026, 11, 26, 3, 0, tzinfo=UTC)).number,
            make_record(purchaser, pair, now=datetime(2026, 11, 26, 15, 59, tzinfo=UTC)).number,  # 23:59
            make_record(purchaser, pair, now=datetime(2026, 11, 26, 16, 0, tzinfo=UTC)).number,  # next day
            make_record(factories.user(), pair, now=datetime(2026, 11, 26, 17, 0, tzinfo=UTC)).number,
        ]
    assert numbers == [
        "BJ-20261126-0001",
        "BJ-20261126-0002",
        "BJ-20261126-0003",
        "BJ-20261127-0001",
        "BJ-20261127-0002",  # one sequence for the whole mall: numbers are unique
    ]


def test_the_sequence_goes_past_9999(app, catalog, purchaser):
    p = catalog.products
    with app.test_request_context():
        first = make_record(purchaser, [p["d1"], p["d2"]], now=datetime(2026, 11, 26, 3, 0, tzinfo=UTC))
        first.number = "BJ-20261126-9999"
        db.session.flush()
        second = make_record(purchaser, [p["d1"], p["d2"]], now=datetime(2026, 11, 26, 4, 0, tzinfo=UTC))
        third = make_record(purchaser, [p["d1"], p["d2"]], now=datetime(2026, 11, 26, 5, 0, tzinfo=UTC))
    assert (second.number, third.number) == ("BJ-20261126-10000", "BJ-20261126-10001")


def test_a_number_taken_meanwhile_is_retried(app, catalog, purchaser, monkeypatch):
    p = catalog.products
    now = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
    with app.test_request_context():
        taken = make_record(purchaser, [p["d1"], p["d2"]], now=now)
        # As if another save had committed this number between our read and our insert.
        answers = iter([taken.number, "BJ-20261126-0002"])
        monkeypatch.setattr(services, "next_record_number", lambda _now: next(answers))
        record = make_record(purchaser, [p["d1"], p["d3"]], now=now)
    assert record.number == "BJ-20261126-0002"
    assert _count() == 2
    assert db.session.get(ComparisonRecord, record.id).product_ids == [p["d1"].id, p["d3"].id]


@pytest.mark.parametrize("role", [Role.APPROVER, Role.SUPPLIER, Role.OPERATOR, Role.REGULATOR, Role.FINANCE])
def test_only_purchasers_save(client, catalog, role):
    kind = {
        Role.APPROVER: OrgKind.PURCHASING_UNIT,
        Role.SUPPLIER: OrgKind.SUPPLIER,
        Role.OPERATOR: OrgKind.OPERATOR,
        Role.REGULATOR: OrgKind.REGULATOR,
        Role.FINANCE: OrgKind.FINANCE,
    }[role]
    login(client, factories.user(factories.org(kind), role).username)
    p = catalog.products
    add(client, p["d1"].id)
    add(client, p["d2"].id)
    page = parse(client.get("/compare").get_data(as_text=True))
    assert not page.find_all("form", action="/compare/save")
    response = client.post(
        "/compare/save", data={"csrf_token": token(client), "product_ids": [p["d1"].id, p["d2"].id]}
    )
    assert response.status_code == 403
    assert _count() == 0


def test_anonymous_visitors_are_sent_to_log_in(client, catalog):
    p = catalog.products
    add(client, p["d1"].id)
    add(client, p["d2"].id)
    page = parse(client.get("/compare").get_data(as_text=True))
    assert "采购经办人登录后可将本次对比保存为比价记录。" in page.one("main").text
    response = client.post(
        "/compare/save", data={"csrf_token": token(client), "product_ids": [p["d1"].id, p["d2"].id]}
    )
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    assert _count() == 0


def test_saving_needs_the_csrf_token(client, catalog, purchaser):
    login(client, purchaser.username)
    _compare_page(client, [catalog.products["d1"], catalog.products["d2"]])
    response = client.post(
        "/compare/save", data={"product_ids": [catalog.products["d1"].id, catalog.products["d2"].id]}
    )
    assert response.status_code == 400
    assert _count() == 0


def test_a_list_changed_in_another_tab_is_not_saved(client, catalog, purchaser):
    p = catalog.products
    login(client, purchaser.username)
    page, form = _compare_page(client, [p["d1"], p["d2"]])
    add(client, p["d3"].id)  # another tab
    client.get("/compare")
    response = _save(client, page, form)
    assert (response.status_code, response.headers["Location"]) == (302, "/compare")
    assert flashes(client) == [("warning", "对比列表已在其他页面发生变化，请核对后重新保存。")]
    assert _count() == 0


def test_form_errors_are_shown_next_to_the_fields(client, catalog, purchaser):
    login(client, purchaser.username)
    page, form = _compare_page(client, [catalog.products["d1"], catalog.products["d2"]])
    response = _save(client, page, form, title="长" * 201, note="保留的备注")
    assert response.status_code == 422
    page = parse(response.get_data(as_text=True))
    summary = page.one("div", class_="error-summary")
    assert page.inside(summary, "a")[0].text == "标题：标题不能超过 200 个字符"
    assert page.by_id("title").get("aria-invalid") == "true"
    assert page.by_id("title-error").text == "错误：标题不能超过 200 个字符"
    assert page.by_id("note").text == "保留的备注"
    assert _count() == 0


def test_records_need_listed_offers_and_active_products(app, catalog, purchaser):
    p = catalog.products
    bare = [factories.product(catalog.desktop), factories.product(catalog.desktop)]
    with app.test_request_context():
        with pytest.raises(services.CompareError, match="都没有在售报价"):
            make_record(purchaser, bare)
        with pytest.raises(services.CompareError, match="已下架"):
            make_record(purchaser, [p["d1"], p["gone"]])
        with pytest.raises(services.CompareError, match="2–4"):
            make_record(purchaser, [p["d1"]])
        with pytest.raises(services.CompareError, match="2–4"):
            make_record(purchaser, [p[k] for k in ("d1", "d2", "d3", "d4", "l1")])
    assert _count() == 0


# --------------------------------------------------------------------------------------------
# Reading


@pytest.fixture
def two_units(catalog):
    mine = factories.org(OrgKind.PURCHASING_UNIT, name="甲单位")
    theirs = factories.org(OrgKind.PURCHASING_UNIT, name="乙单位")
    buyer = factories.user(mine, Role.PURCHASER, display_name="张经办")
    other = factories.user(theirs, Role.PURCHASER)
    p = catalog.products
    record = make_record(buyer, [p["d1"], p["d2"]], title="甲单位的比价")
    foreign = make_record(other, [p["d1"], p["d3"]], title="乙单位的比价")
    return {"mine": mine, "theirs": theirs, "buyer": buyer, "record": record, "foreign": foreign}


def test_records_of_another_unit_are_not_found(client, two_units):
    login(client, two_units["buyer"].username)
    foreign = two_units["foreign"]
    assert client.get(f"/compare/records/{foreign.id}").status_code == 404
    assert client.get(f"/compare/records/{foreign.id}/print").status_code == 404
    body = client.get("/compare/records").get_data(as_text=True)
    assert foreign.number not in body and "乙单位的比价" not in body
    assert two_units["record"].number in body
    assert client.get(f"/compare/records/{two_units['record'].id}").status_code == 200


def test_approvers_read_their_units_records(client, two_units):
    approver = factories.user(two_units["mine"], Role.APPROVER)
    login(client, approver.username)
    assert client.get(f"/compare/records/{two_units['record'].id}").status_code == 200
    assert client.get(f"/compare/records/{two_units['foreign'].id}").status_code == 404


@pytest.mark.parametrize("kind", [OrgKind.OPERATOR, OrgKind.REGULATOR, OrgKind.FINANCE])
def test_oversight_reads_every_units_records(client, two_units, kind):
    login(client, factories.user(factories.org(kind)).username)
    for record in (two_units["record"], two_units["foreign"]):
        assert client.get(f"/compare/records/{record.id}").status_code == 200
        assert client.get(f"/compare/records/{record.id}/print").status_code == 200
    page = parse(client.get("/compare/records").get_data(as_text=True))
    units = {row[0]: row[2] for row in _list_rows(page)}
    assert units == {two_units["record"].number: "甲单位", two_units["foreign"].number: "乙单位"}


def test_suppliers_are_refused(client, two_units):
    login(client, factories.user(factories.org(OrgKind.SUPPLIER)).username)
    record = two_units["record"]
    for url in ("/compare/records", f"/compare/records/{record.id}", f"/compare/records/{record.id}/print"):
        assert client.get(url).status_code == 403, url


def test_anonymous_visitors_must_log_in_to_read(client, two_units):
    response = client.get(f"/compare/records/{two_units['record'].id}")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def _list_rows(page) -> list[list[str]]:
    table = page.one("table", class_="data-table")
    return [
        [c.text for c in page.inside(tr, None) if c.tag in ("th", "td")]
        for tr in page.inside(table, "tr")[1:]
    ]


def test_record_list_newest_first_and_paged(client, catalog, purchaser):
    p = catalog.products
    made = [
        make_record(purchaser, [p["d1"], p["d2"]], now=datetime(2026, 11, day, 2, 0, tzinfo=UTC))
        for day in (20, 21, 22)
    ]
    login(client, purchaser.username)
    page = parse(client.get("/compare/records?per_page=2").get_data(as_text=True))
    assert page.one("p", class_="result-count").text == "共 3 条比价记录"
    rows = _list_rows(page)
    assert rows == [
        [made[2].number, made[2].title, "2", "¥4,999.00", purchaser.display_name, "2026-11-22 10:00"],
        [made[1].number, made[1].title, "2", "¥4,999.00", purchaser.display_name, "2026-11-21 10:00"],
    ]
    second = parse(client.get("/compare/records?per_page=2&page=2").get_data(as_text=True))
    assert [r[0] for r in _list_rows(second)] == [made[0].number]
    assert client.get("/compare/records?page=0").status_code == 422


def test_record_list_empty_state(client, purchaser):
    login(client, purchaser.username)
    page = parse(client.get("/compare/records").get_data(as_text=True))
    assert page.one("p", class_="empty-title").text == "暂无比价记录"


def test_record_detail_shows_the_snapshot(client, two_units):
    login(client, two_units["buyer"].username)
    record = two_units["record"]
    page = parse(client.get(f"/compare/records/{record.id}").get_data(as_text=True))
    assert page.one("h1").text == "甲单位的比价"
    summary = {d.text: page.inside(d.parent, "dd")[0].text for d in page.find_all("dt")}
    assert summary["预算单位"] == "甲单位"
    assert summary["经办人"] == "张经办"
    assert summary["最低报价"] == "¥4,999.00 甲科技有限公司 · 联想 D1"
    offers = page.find_all("table", class_="data-table snapshot-offers")
    assert [page.inside(t, "caption")[0].text.split(" ")[0] for t in offers] == ["联想", "华为"]
    assert page.one("a", href=f"/compare/records/{record.id}/print").text == "打印版"
    diff = parse(client.get(f"/compare/records/{record.id}?diff=1").get_data(as_text=True))
    assert all(
        tr.get("class") == "row-differs" for tr in diff.find_all("tr") if diff.inside(tr, "th", scope="row")
    )


def test_a_delisted_product_is_marked_in_the_record(client, catalog, two_units):
    catalog.products["d2"].is_active = False
    db.session.flush()
    login(client, two_units["buyer"].username)
    page = parse(client.get(f"/compare/records/{two_units['record'].id}").get_data(as_text=True))
    names = [
        page.inside(th, "p", class_="compare-name")[0] for th in page.find_all("th", class_="compare-product")
    ]
    assert [bool(page.inside(n, "a")) for n in names] == [True, False]
    assert names[1].text == "华为 D2 （已下架）"


def test_print_view(client, two_units):
    login(client, two_units["buyer"].username)
    record = two_units["record"]
    html = client.get(f"/compare/records/{record.id}/print").get_data(as_text=True)
    page = parse(html)
    assert page.one("h1").text == "比价记录"
    assert page.one("p", class_="print-unit").text == "甲单位"
    meta = {d.text: page.inside(d.parent, "dd")[0].text for d in page.find_all("dt")}
    local = record.created_at.astimezone(services.LOCAL_TZ).strftime("%Y-%m-%d %H:%M:%S")
    assert meta["编号"] == record.number
    assert meta["保存时间"] == f"{local}（北京时间）"
    assert page.find_all("table", class_="data-table compare-table compare-n2")
    lines = [p.text for p in page.inside(page.one("section", class_="signatures"), "p")]
    assert lines == ["经办人：日期：", "审核人：日期："]
    assert not page.find_all("a", class_="skip-link") and not page.find_all("nav", class_="main-nav")
    # No links out of the sheet except back to the record; the print button needs our script.
    assert [a.get("href") for a in page.find_all("a")] == [f"/compare/records/{record.id}"]
    assert page.one("button", type="button").has("hidden")
    assert page.one("script").get("src") == "/static/js/compare.js"
    css = (Path(__file__).resolve().parents[2] / "static" / "css" / "app.css").read_text(encoding="utf-8")
    assert re.search(r"@media print \{[^@]*@page", css) and ".signature-line" in css
