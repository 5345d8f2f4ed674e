"""Everything a page needs is served by the app itself (no CDN), and nothing needs inline code,
which the Content-Security-Policy (script-src/style-src 'self') would block anyway."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.auth.models import OrgKind
from tests import factories
from tests.conftest import login
from tests.ui.pages import parse

STATIC = Path(__file__).resolve().parents[2] / "static"
URL_ATTRIBUTES = ("src", "href", "action", "formaction", "poster", "data", "srcset", "cite", "background")
EXTERNAL = ("http://", "https://", "//")


def pages_to_check(client) -> dict[str, str]:
    product = factories.product()
    factories.offer(product)
    anonymous = {url: client.get(url).get_data(as_text=True) for url in ("/", "/login", "/search", "/nope")}
    purchaser = factories.user()
    plan = factories.plan(purchaser.organization)
    login(client, purchaser.username)
    signed_in = {
        f"{url} (purchaser)": client.get(url).get_data(as_text=True)
        for url in (
            "/",
            "/search",
            f"/products/{product.id}",
            "/plans/",
            f"/plans/{plan.id}",
            "/account/password",
            "/supplier/offers",
            "/search?page=abc",
        )
    }
    return anonymous | signed_in


def test_all_page_assets_are_local(client):
    for name, html in pages_to_check(client).items():
        page = parse(html)
        for element in page.elements:
            for attribute in URL_ATTRIBUTES:
                value = (element.get(attribute) or "").strip()
                assert not value.lower().startswith(EXTERNAL), (
                    f"{name}: <{element.tag} {attribute}={value!r}>"
                )


def test_home_page_assets_load(client):
    page = parse(client.get("/").get_data(as_text=True))
    assets = [e.get("href") for e in page.find_all("link")] + [e.get("src") for e in page.find_all("img")]
    assets += [e.get("src") for e in page.find_all("script") if e.get("src")]
    assert "/static/css/app.css" in assets
    for url in assets:
        assert url.startswith("/static/"), url
        response = client.get(url)
        assert response.status_code == 200, url
        response.close()


def test_no_inline_scripts_styles_or_handlers(client):
    for name, html in pages_to_check(client).items():
        page = parse(html)
        assert not [s for s in page.find_all("script") if not s.get("src")], f"{name}: inline <script>"
        assert not page.find_all("style"), f"{name}: <style> element"
        for element in page.elements:
            assert "style" not in element.attrs, f"{name}: style attribute on <{element.tag}>"
            handlers = [a for a in element.attrs if a.startswith("on")]
            assert not handlers, f"{name}: {handlers} on <{element.tag}>"
            assert not (element.get("href") or "").lower().startswith("javascript:"), name


@pytest.mark.parametrize("path", sorted(p.relative_to(STATIC).as_posix() for p in STATIC.rglob("*.css")))
def test_stylesheets_fetch_nothing_remote(path):
    css = (STATIC / path).read_text(encoding="utf-8")
    references = re.findall(r"url\(\s*['\"]?([^'\")]+)", css) + re.findall(r"@import\s+['\"]?([^'\";]+)", css)
    for reference in references:
        assert not reference.lower().startswith(EXTERNAL), f"{path}: {reference}"
    assert "@font-face" not in css or "url(http" not in css


def test_supplier_pages_are_local_too(client):
    supplier = factories.org(OrgKind.SUPPLIER)
    offer = factories.offer(supplier=supplier)
    login(client, factories.user(supplier).username)
    for url in ("/supplier/offers", f"/supplier/offers/{offer.id}"):
        page = parse(client.get(url).get_data(as_text=True))
        for element in page.elements:
            for attribute in URL_ATTRIBUTES:
                assert not (element.get(attribute) or "").lower().startswith(EXTERNAL), url
