"""The product, comparison and record pages follow the same rules as the rest of the site
(tests/ui): labelled controls, unique ids, captioned tables with scoped headers, one <h1>, labelled
navigation, and nothing inline that the Content-Security-Policy would block."""

from __future__ import annotations

import pytest

from app.auth.models import OrgKind
from tests import factories
from tests.compare.conftest import add, make_record, token
from tests.conftest import login
from tests.ui.pages import Page, assert_accessible, parse

EXTERNAL = ("http://", "https://", "//")


@pytest.fixture
def pages(app, client, catalog, purchaser) -> dict[str, Page]:
    p = catalog.products
    found: dict[str, Page] = {}

    def get(name: str, url: str, status: int = 200) -> None:
        response = client.get(url)
        assert response.status_code == status, (name, response.status_code)
        found[name] = parse(response.get_data(as_text=True))

    get("product", f"/products/{p['d1'].id}")
    get("product, each supplier", f"/products/{p['d1'].id}?suppliers=1")
    get("compare, empty", "/compare")
    add(client, p["d1"].id)
    add(client, p["l1"].id)
    get("compare, anonymous", "/compare")
    login(client, purchaser.username)
    add(client, p["d1"].id)
    add(client, p["d2"].id)
    get("compare, purchaser", "/compare?diff=1")
    response = client.post(
        "/compare/save",
        data={"csrf_token": token(client), "product_ids": [p["d1"].id, p["d2"].id], "note": "长" * 1001},
    )
    assert response.status_code == 422
    found["compare, form errors"] = parse(response.get_data(as_text=True))
    record = make_record(purchaser, [p["d1"], p["d2"]], note="备注")
    get("records", "/compare/records")
    get("record", f"/compare/records/{record.id}")
    get("record, differences", f"/compare/records/{record.id}?diff=1")
    get("record, print", f"/compare/records/{record.id}/print")
    get("product, purchaser", f"/products/{p['d2'].id}")
    client = app.test_client()
    login(client, factories.user(factories.org(OrgKind.REGULATOR)).username)
    get("records, regulator", "/compare/records")
    return found


def test_controls_are_labelled_and_ids_resolve(pages):
    for name, page in pages.items():
        assert_accessible(name, page)


def test_structure_tables_and_navigation(pages):
    for name, page in pages.items():
        assert page.one("html").get("lang") == "zh-CN", name
        assert len(page.find_all("h1")) == 1, f"{name}: one <h1>"
        assert page.one("main").get("id") == "main", name
        for nav in page.find_all("nav"):
            assert nav.get("aria-label"), f"{name}: unlabelled <nav>"
        for table in page.find_all("table"):
            assert page.inside(table, "caption"), f"{name}: table without caption"
            for th in page.inside(table, "th"):
                assert th.get("scope") in ("col", "row"), f"{name}: <th> {th.text!r} without scope"
        for image in page.find_all("img"):
            assert image.has("alt"), name


def test_nothing_inline_and_nothing_remote(pages):
    for name, page in pages.items():
        assert not [s for s in page.find_all("script") if not s.get("src")], f"{name}: inline script"
        assert not page.find_all("style"), f"{name}: <style>"
        for element in page.elements:
            assert "style" not in element.attrs, f"{name}: style attribute on <{element.tag}>"
            assert not [a for a in element.attrs if a.startswith("on")], f"{name}: handler on <{element.tag}>"
            for attribute in ("src", "href", "action"):
                assert not (element.get(attribute) or "").lower().startswith(EXTERNAL), name


def test_charts_are_images_with_a_name_and_a_description(pages):
    for name in ("product", "product, each supplier"):
        page = pages[name]
        svg = page.one("svg", class_="price-chart")
        assert svg.get("role") == "img"
        title_id, desc_id = svg.get("aria-labelledby").split()
        assert page.by_id(title_id).tag == "title" and page.by_id(desc_id).tag == "desc"
        assert page.one("details", class_="chart-data")
