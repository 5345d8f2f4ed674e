"""Accessibility checks that can be made on the HTML and the stylesheet (WCAG 2.1 AA)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.auth.models import OrgKind
from tests import factories
from tests.conftest import login
from tests.ui.pages import Page, parse

CSS = (Path(__file__).resolve().parents[2] / "static" / "css" / "app.css").read_text(encoding="utf-8")


@pytest.fixture
def pages(client) -> dict[str, Page]:
    product = factories.product()
    factories.offer(product)
    found = {
        url: parse(client.get(url).get_data(as_text=True)) for url in ("/", "/login", "/search", "/nope")
    }
    purchaser = factories.user()
    plan = factories.plan(purchaser.organization)
    login(client, purchaser.username)
    for url in (
        "/",
        f"/products/{product.id}",
        "/plans/",
        f"/plans/{plan.id}",
        "/account/password",
        "/search?page=abc",
    ):
        found[f"{url} (purchaser)"] = parse(client.get(url).get_data(as_text=True))
    client.post(
        "/logout",
        data={"csrf_token": found["/ (purchaser)"].find_all("input", name="csrf_token")[0].get("value")},
    )
    supplier = factories.org(OrgKind.SUPPLIER)
    factories.offer(supplier=supplier)
    login(client, factories.user(supplier).username)
    found["/supplier/offers (supplier)"] = parse(client.get("/supplier/offers").get_data(as_text=True))
    return found


def test_every_form_control_has_a_label(pages):
    for name, page in pages.items():
        labels = {label.get("for"): label.text for label in page.find_all("label")}
        controls = [
            e
            for e in page.elements
            if e.tag in ("input", "select", "textarea")
            and e.get("type") not in ("hidden", "submit", "button")
        ]
        for control in controls:
            assert control.get("id"), f"{name}: <{control.tag} name={control.get('name')}> has no id"
            assert labels.get(control.get("id")), f"{name}: no <label> for #{control.get('id')}"


def test_ids_are_unique_and_references_resolve(pages):
    for name, page in pages.items():
        ids = page.ids()
        assert len(ids) == len(set(ids)), f"{name}: duplicate ids"
        for element in page.elements:
            for attribute in ("aria-describedby", "aria-labelledby"):
                for ref in (element.get(attribute) or "").split():
                    assert ref in ids, f"{name}: {attribute}={ref!r} points nowhere"
            href = element.get("href") or ""
            if element.tag == "a" and href.startswith("#") and len(href) > 1:
                assert href[1:] in ids, f"{name}: link to missing {href}"


def test_page_structure(pages):
    for name, page in pages.items():
        html = page.one("html")
        assert html.get("lang") == "zh-CN", name
        assert len(page.find_all("h1")) == 1, f"{name}: one <h1> per page"
        assert page.one("main").get("id") == "main", name
        assert page.one("a", class_="skip-link").get("href") == "#main", name
        assert page.find_all("nav", class_="main-nav")[0].get("aria-label"), name
        for image in page.find_all("img"):
            assert image.has("alt"), f"{name}: <img> without alt"
        for nav in page.find_all("nav"):
            assert nav.get("aria-label"), f"{name}: unlabelled <nav>"


def test_tables_have_captions_and_scoped_headers(pages):
    checked = 0
    for name, page in pages.items():
        for table in page.find_all("table"):
            assert page.inside(table, "caption"), f"{name}: table without <caption>"
            for th in page.inside(table, "th"):
                assert th.get("scope") in ("col", "row"), f"{name}: <th> {th.text!r} without scope"
            checked += 1
    assert checked >= 3


def test_status_is_never_shown_by_colour_alone(pages):
    page = pages["/supplier/offers (supplier)"]
    badges = page.find_all("span", class_="badge badge-listed")
    assert badges and all(b.text for b in badges)


def test_keyboard_focus_is_visible():
    rule = re.search(r":focus-visible\s*\{([^}]*)\}", CSS)
    assert rule, "no :focus-visible rule"
    assert re.search(r"outline:\s*[2-9]px solid", rule.group(1))
    assert not re.search(r"(?<![\w-]):focus\s*\{[^}]*outline:\s*(none|0)", CSS.replace("main:focus", "")), (
        "focus outline removed somewhere"
    )
    assert re.search(r"\.skip-link:focus", CSS)


def test_fonts_are_local_with_cjk_fallbacks():
    font = re.search(r"--font:([^;]*);", CSS).group(1)
    for family in ('"PingFang SC"', '"Microsoft YaHei"', '"Noto Sans CJK SC"', "sans-serif"):
        assert family in font
    assert "@font-face" not in CSS


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(foreground: str, background: str) -> float:
    lighter, darker = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


COLOURS = dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{6})\b", CSS))
WHITE = "#ffffff"


@pytest.mark.parametrize(
    ("foreground", "background", "minimum"),
    [
        ("text", WHITE, 4.5),
        ("text", "bg", 4.5),
        ("muted", WHITE, 4.5),
        ("muted", "bg", 4.5),
        ("navy", WHITE, 4.5),
        ("navy", "bg", 4.5),
        (WHITE, "red", 4.5),
        (WHITE, "red-dark", 4.5),
        (WHITE, "navy", 4.5),
        ("red", WHITE, 4.5),
        ("danger", "danger-tint", 4.5),
        ("success", "success-tint", 4.5),
        ("warning", "warning-tint", 4.5),
        ("muted", "info-tint", 4.5),
        ("focus", WHITE, 3.0),
        ("border-strong", WHITE, 3.0),  # form control boundaries (WCAG 1.4.11)
    ],
)
def test_colour_contrast(foreground, background, minimum):
    fg = COLOURS.get(foreground, foreground)
    bg = COLOURS.get(background, background)
    assert contrast(fg, bg) >= minimum, f"{foreground} on {background}: {contrast(fg, bg):.2f}"
