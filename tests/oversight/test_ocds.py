"""Open data: the OCDS 1.1 release package at /open-data/ocds/releases.json.

Every package is checked against the OCDS 1.1.5 schemas kept in data/ocds/ (JSON Schema draft 4,
the release schema registered under its own URL so nothing is fetched), for orders made in tests
and for orders placed on the real demo data set through the checkout and the lifecycle.
"""

from __future__ import annotations

import csv
import json
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
from jsonschema import Draft4Validator
from referencing import Registry, Resource

from app.auth.models import User
from app.auth.passwords import hash_password
from app.demo.generate import DEMO_PASSWORD
from app.demo.load import load_demo
from app.extensions import db
from app.orders.lifecycle import Actor, transition
from app.orders.models import Order
from app.orders.models import OrderStatus as S
from app.oversight import ocds
from tests import factories
from tests.orders.helpers import shop
from tests.oversight.test_notices import advance, place, published_order

OCDS_DIR = Path(__file__).resolve().parents[2] / "data" / "ocds"
URL = "/open-data/ocds/releases.json"
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def _schema(name: str) -> dict:
    return json.loads((OCDS_DIR / name).read_text(encoding="utf-8"))


RELEASE_SCHEMA = _schema("release-schema.json")
PACKAGE_VALIDATOR = Draft4Validator(
    _schema("release-package-schema.json"),
    registry=Registry().with_resource(RELEASE_SCHEMA["id"], Resource.from_contents(RELEASE_SCHEMA)),
)


def codelist(name: str) -> set[str]:
    with (OCDS_DIR / "codelists" / name).open(encoding="utf-8") as handle:
        return {row["Code"] for row in csv.DictReader(handle)}


def assert_valid(package: dict) -> None:
    """Valid against the package and release schemas, plus what the schemas leave to formats
    and open codelists: dates as full UTC date-times, party roles from the partyRole codelist."""
    errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in PACKAGE_VALIDATOR.iter_errors(package)
    ]
    assert errors == []
    assert TIMESTAMP.match(package["publishedDate"])
    roles = codelist("partyRole.csv")
    for release in package["releases"]:
        dates = [release["date"], release["awards"][0]["date"], release["contracts"][0]["dateSigned"]]
        assert all(TIMESTAMP.match(d) for d in dates), dates
        for party in release["parties"]:
            assert set(party["roles"]) <= roles


def fetch(client, query: str = "") -> dict:
    response = client.get(f"{URL}?{query}" if query else URL)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    return json.loads(response.get_data(as_text=True), parse_float=Decimal)


def ocids(package: dict) -> list[str]:
    return [release["ocid"] for release in package["releases"]]


def ocid(order: Order) -> str:
    return f"ocds-emall-{order.number}"


# --------------------------------------------------------------------------------------------
# One release


def test_a_release_carries_the_transaction(client, db_session):
    s = shop(prices=("3000.00", "2000.00"))
    s.unit.credit_code = "11110000MB0000001X"
    s.suppliers[0].credit_code = "91110000MA0000002Y"
    s.suppliers[0].is_sme = True
    s.suppliers[0].region_code = "320000"
    s.category.code, s.category.name = "A02010105", "台式计算机"
    factories.offer(s.offers[0].product, price=Decimal("2950.50"))
    db.session.flush()
    order = published_order(s, quantity=2, at=datetime(2026, 11, 3, 2, 30, 15, 123456, tzinfo=UTC))

    response = client.get(URL)
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    text = response.get_data(as_text=True)
    assert '"amount":6000.00,"currency":"CNY"' in text  # fen written exactly, not through a float
    package = json.loads(text, parse_float=Decimal)
    assert_valid(package)
    assert package["version"] == "1.1"
    assert package["uri"] == "http://localhost/open-data/ocds/releases.json"
    assert package["publisher"] == {"name": "政府采购电子卖场"}
    assert package["publishedDate"] == release_date(order)
    assert "links" not in package
    (release,) = package["releases"]
    line = order.lines[0]
    unit_ref = {"id": "CN-USCC-11110000MB0000001X", "name": s.unit.name}
    supplier_ref = {"id": "CN-USCC-91110000MA0000002Y", "name": s.suppliers[0].name}
    item = {
        "id": str(line.id),
        "description": line.name,
        "classification": {"scheme": "CN-GPC-2022", "id": "A02010105", "description": "台式计算机"},
        "quantity": 2,
        "unit": {
            "scheme": "UNCEFACT",
            "id": "H87",
            "name": "件",
            "value": {"amount": Decimal("3000.00"), "currency": "CNY"},
        },
    }
    value = {"amount": Decimal("6000.00"), "currency": "CNY"}
    title = f"{s.unit.name}电子卖场直购（{order.number}）"
    assert release == {
        "ocid": ocid(order),
        "id": f"{ocid(order)}-confirmed",
        "date": release_date(order),
        "tag": ["award", "contract"],
        "initiationType": "tender",
        "language": "zh",
        "parties": [
            {
                "id": unit_ref["id"],
                "name": s.unit.name,
                "identifier": {"scheme": "CN-USCC", "id": "11110000MB0000001X", "legalName": s.unit.name},
                "roles": ["buyer", "procuringEntity"],
                "address": {"region": "北京市", "countryName": "中国"},
            },
            {
                "id": supplier_ref["id"],
                "name": s.suppliers[0].name,
                "identifier": {
                    "scheme": "CN-USCC",
                    "id": "91110000MA0000002Y",
                    "legalName": s.suppliers[0].name,
                },
                "roles": ["supplier"],
                "address": {"region": "江苏省", "countryName": "中国"},
                "details": {"scale": "sme"},
            },
        ],
        "buyer": unit_ref,
        "tender": {
            "id": order.number,
            "title": title,
            "status": "complete",
            "procuringEntity": unit_ref,
            "value": value,
            "procurementMethod": "direct",
            "procurementMethodDetails": "电子卖场直购",
            "mainProcurementCategory": "goods",
            "numberOfTenderers": 1,
            "tenderers": [supplier_ref],
        },
        "awards": [
            {
                "id": f"{order.number}-award",
                "title": title,
                "status": "active",
                "date": "2026-11-03T02:30:15Z",
                "value": value,
                "suppliers": [supplier_ref],
                "items": [item],
            }
        ],
        "contracts": [
            {
                "id": order.number,
                "awardID": f"{order.number}-award",
                "title": title,
                "status": "active",
                "value": value,
                "items": [item],
                "dateSigned": "2026-11-03T02:30:15Z",
                "period": {"startDate": "2026-11-03T02:30:15Z"},
            }
        ],
    }


def release_date(order: Order) -> str:
    """The moment the order entered its current status, as the release states it."""
    entered = [e.created_at for e in order.history if e.to_status == order.status.value][-1]
    return entered.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_organizations_without_a_credit_code_use_the_mall_code(client, db_session):
    s = shop()
    order = published_order(s)
    package = fetch(client)
    assert_valid(package)
    (release,) = package["releases"]
    assert release["buyer"] == {"id": f"X-EMALL-ORG-{s.unit.code}", "name": s.unit.name}
    assert release["parties"][1]["identifier"] == {
        "scheme": "X-EMALL-ORG",
        "id": s.suppliers[0].code,
        "legalName": s.suppliers[0].name,
    }
    assert "details" not in release["parties"][1]  # not an SME: no scale claimed
    assert release["ocid"] == ocid(order)


def test_the_release_follows_the_order_to_the_end_of_its_contract(client, db_session):
    s = shop()
    shipped = advance(s, published_order(s), S.SHIPPED)
    returned = advance(s, published_order(s, 1), S.SHIPPED, S.DELIVERED)
    transition(returned, S.RETURNED, Actor.of_user(s.purchaser), note="型号不符")
    db.session.flush()
    package = fetch(client)
    assert_valid(package)
    by_ocid = {r["ocid"]: r for r in package["releases"]}
    assert by_ocid[ocid(shipped)]["id"] == f"{ocid(shipped)}-shipped"
    assert by_ocid[ocid(shipped)]["tag"] == ["award", "contract"]
    assert by_ocid[ocid(shipped)]["contracts"][0]["status"] == "active"
    assert by_ocid[ocid(shipped)]["date"] == release_date(shipped)
    done = by_ocid[ocid(returned)]
    assert done["id"] == f"{ocid(returned)}-returned"
    assert done["tag"] == ["award", "contract", "contractTermination"]
    assert done["contracts"][0]["status"] == "terminated"
    assert done["awards"][0]["status"] == "active"


def test_unconfirmed_orders_are_not_released(client, db_session):
    s = shop()
    place(s)
    rejected = place(s, 1)
    transition(rejected, S.REJECTED, Actor.of_user(s.supplier_users[1]), note="缺货")
    db.session.flush()
    package = fetch(client)
    assert package["releases"] == []
    assert "links" not in package
    assert TIMESTAMP.match(package["publishedDate"])


def test_build_release_refuses_an_unconfirmed_order(db_session):
    order = place(shop())
    with pytest.raises(ValueError, match="not a published transaction"):
        ocds.build_release(order, prefix="ocds-emall")


def test_dumps_writes_decimals_exactly_and_refuses_floats():
    assert ocds.dumps({"a": [Decimal("0.10"), Decimal("12345678901.99")], "b": "中文", "c": None}) == (
        '{"a":[0.10,12345678901.99],"b":"中文","c":null}'
    )
    with pytest.raises(TypeError):
        ocds.dumps({"amount": 0.1})
    with pytest.raises(ValueError):
        ocds.dumps(Decimal("NaN"))


# --------------------------------------------------------------------------------------------
# Paging and dates


@pytest.fixture
def five(db_session):
    s = shop(plan_amount="1000000.00")
    start = datetime(2026, 3, 1, 4, tzinfo=UTC)
    orders = [published_order(s, n % 2, at=start + timedelta(days=n)) for n in range(5)]
    return s, orders


def test_pages_follow_links_next_to_the_end(client, five):
    _s, orders = five
    first = fetch(client, "limit=2")
    assert_valid(first)
    assert ocids(first) == [ocid(o) for o in orders[:2]]
    next_url = first["links"]["next"]
    parts = urlsplit(next_url)
    assert (parts.scheme, parts.netloc, parts.path) == ("http", "localhost", URL)
    assert parse_qs(parts.query)["limit"] == ["2"]
    seen, pages, package = [], 0, first
    while True:
        assert_valid(package)
        seen += ocids(package)
        pages += 1
        if "links" not in package:
            break
        package = fetch(client, urlsplit(package["links"]["next"]).query)
    assert pages == 3 and len(package["releases"]) == 1  # 2 + 2 + 1
    assert seen == [ocid(o) for o in orders]


def test_the_cursor_is_stable_while_new_orders_are_confirmed(client, five):
    s, orders = five
    first = fetch(client, "limit=3")
    late = published_order(s)  # confirmed now: after every earlier transaction
    rest = fetch(client, urlsplit(first["links"]["next"]).query)
    assert ocids(rest) == [ocid(o) for o in [*orders[3:], late]]
    assert "links" not in rest


def test_a_page_that_ends_exactly_has_no_next_link(client, five):
    package = fetch(client, "limit=5")
    assert len(package["releases"]) == 5 and "links" not in package
    assert len(fetch(client)["releases"]) == 5  # default limit 100


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("since=2026-03-02", [1, 2, 3, 4]),
        ("until=2026-03-02", [0, 1]),  # a day as the end: the whole day included
        ("since=2026-03-02&until=2026-03-03", [1, 2]),
        ("since=2026-03-02T12:00:00%2B08:00", [1, 2, 3, 4]),  # 04:00Z is noon in Beijing: inclusive
        ("since=2026-03-02T04:00:01Z", [2, 3, 4]),
        ("until=2026-03-03T04:00:00Z", [0, 1]),  # a date-time as the end: exclusive
        ("since=2026-04-01", []),
    ],
)
def test_since_and_until_select_by_the_date_of_the_transaction(client, five, query, expected):
    _s, orders = five
    package = fetch(client, query)
    assert ocids(package) == [ocid(orders[n]) for n in expected]


def test_the_next_link_keeps_the_dates(client, five):
    _s, orders = five
    first = fetch(client, "since=2026-03-02&until=2026-03-04&limit=2")
    query = parse_qs(urlsplit(first["links"]["next"]).query)
    assert (query["since"], query["until"], query["limit"]) == (["2026-03-02"], ["2026-03-04"], ["2"])
    rest = fetch(client, urlsplit(first["links"]["next"]).query)
    assert ocids(rest) == [ocid(orders[3])]


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("since=yesterday", "since", "应为日期（如 2026-11-01）或带时区的时间"),
        ("since=2026-02-30", "since", "应为日期（如 2026-11-01）或带时区的时间"),
        ("until=2026-03-01T08:00:00", "until", "时间须带时区"),
        ("since=1900-01-01", "since", "日期应在 2000-01-01 至 2099-12-31 之间"),
        ("until=9999-12-31", "until", "日期应在 2000-01-01 至 2099-12-31 之间"),
        ("since=2026-03-05&until=2026-03-01", "until", "起始时间须早于截止时间"),
        ("limit=0", "limit", "每页数量应在 1–100 之间"),
        ("limit=1000000", "limit", "每页数量应在 1–100 之间"),
        ("limit=ten", "limit", "应为整数"),
        ("cursor=not-a-cursor", "cursor", "翻页标记无效，请从第一页重新开始"),
        ("cursor=" + "A" * 300, "cursor", "翻页标记无效，请从第一页重新开始"),
        ("cursor=MjAyNi0wMy0wMXwx", "cursor", "翻页标记无效，请从第一页重新开始"),  # a naive time
        # 0001-01-01T00:00:00+01:00|1: would overflow on the way to UTC
        ("cursor=MDAwMS0wMS0wMVQwMDowMDowMCswMTowMHwx", "cursor", "翻页标记无效，请从第一页重新开始"),
    ],
)
def test_bad_input_is_a_json_400_with_the_field(client, five, query, field, message):
    response = client.get(f"{URL}?{query}", headers={"Accept": "text/html"})
    assert response.status_code == 400
    assert response.mimetype == "application/json"
    answer = response.get_json()
    assert (answer["code"], answer["status"], answer["message"]) == (
        400,
        "请求无效",
        "查询参数有误，请按提示修改。",
    )
    assert list(answer["errors"]) == [field]
    assert message in answer["errors"][field][0]


def test_unknown_parameters_and_empty_values_are_ignored(client, five):
    _s, orders = five
    package = fetch(client, "page=9&per_page=1000&format=xml&since=&limit=")
    assert ocids(package) == [ocid(o) for o in orders]


def test_rate_limit_answers_429_in_json(app, client, db_session):
    saved = app.config["PUBLIC_RATE_LIMIT"]
    app.config["PUBLIC_RATE_LIMIT"] = "2 per minute"
    try:
        assert client.get(URL).status_code == 200
        assert client.get(URL).status_code == 200
        response = client.get(URL, headers={"Accept": "text/html"})
    finally:
        app.config["PUBLIC_RATE_LIMIT"] = saved
    assert response.status_code == 429
    assert response.mimetype == "application/json"
    assert response.get_json() == {
        "code": 429,
        "status": "请求过于频繁",
        "message": "请求过于频繁，请稍后再试。",
    }
    assert int(response.headers["Retry-After"]) > 0


# --------------------------------------------------------------------------------------------
# The demo data set


def _personal(request: dict, purchaser: User) -> dict:
    """The checkout form's values; callables are given the purchaser (their own name, say)."""
    return {key: value(purchaser) if callable(value) else value for key, value in request.items()}


def test_every_release_of_orders_on_the_demo_data_validates(client, db_session):
    load_demo(password_hash=hash_password(DEMO_PASSWORD))
    orders = db.session.scalars(sa.select(Order)).all()
    published = [o for o in orders if o.confirmed_at is not None]
    assert len(published) >= 40  # the demo's orders reach every state

    package = fetch(client, "limit=25")
    releases = list(package["releases"])
    assert_valid(package)
    while "links" in package:
        package = fetch(client, urlsplit(package["links"]["next"]).query)
        assert_valid(package)
        releases += package["releases"]
    assert sorted(r["ocid"] for r in releases) == sorted(ocid(o) for o in published)
    by_ocid = {ocid(o): o for o in published}
    for release in releases:
        # Demo organizations all have a 统一社会信用代码; every item has its 2022 code.
        assert all(p["identifier"]["scheme"] == "CN-USCC" for p in release["parties"])
        order = by_ocid[release["ocid"]]
        items = release["awards"][0]["items"]
        assert [item["quantity"] for item in items] == [line.quantity for line in order.lines]
        for item in items:
            assert item["classification"]["scheme"] == "CN-GPC-2022"
            assert re.fullmatch(r"[ABC]\d{2,8}", item["classification"]["id"])
        total = sum(i["unit"]["value"]["amount"] * i["quantity"] for i in items)
        assert release["awards"][0]["value"]["amount"] == total == release["contracts"][0]["value"]["amount"]
        assert Decimal(str(total)) == order.total
    statuses = {r["id"].rsplit("-", 1)[1] for r in releases}
    assert (
        {"confirmed", "shipped", "delivered", "accepted", "paid", "completed", "returned"}
        <= statuses
        <= {s.value for s in ocds.PUBLISHED_STATUSES}
    )
