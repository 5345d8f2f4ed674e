"""Small HTML helpers for UI tests (the standard library's parser, no extra dependency)."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
)


@dataclass
class Element:
    tag: str
    attrs: dict[str, str | None]
    parts: list[str] = field(default_factory=list)
    parent: Element | None = field(default=None, repr=False)

    @property
    def text(self) -> str:
        return " ".join("".join(self.parts).split())

    def get(self, name: str) -> str | None:
        return self.attrs.get(name)

    def has(self, name: str) -> bool:
        """Whether the attribute is present (boolean attributes such as ``open`` have no value)."""
        return name in self.attrs


class Page(HTMLParser):
    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.elements: list[Element] = []
        self._open: list[Element] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        element = Element(tag, dict(attrs), parent=self._open[-1] if self._open else None)
        self.elements.append(element)
        if tag not in VOID:
            self._open.append(element)

    def handle_endtag(self, tag):
        for index in range(len(self._open) - 1, -1, -1):
            if self._open[index].tag == tag:
                del self._open[index:]
                break

    def handle_data(self, data):
        for element in self._open:
            element.parts.append(data)

    def find_all(self, tag: str | None = None, **attrs: str) -> list[Element]:
        """Elements by tag and exact attribute values (``aria_current="page"`` → aria-current)."""
        wanted = {name.rstrip("_").replace("_", "-"): value for name, value in attrs.items()}
        return [
            e
            for e in self.elements
            if (tag is None or e.tag == tag) and all(e.attrs.get(k) == v for k, v in wanted.items())
        ]

    def one(self, tag: str | None = None, **attrs: str) -> Element:
        found = self.find_all(tag, **attrs)
        assert len(found) == 1, f"expected one <{tag} {attrs}>, found {len(found)}"
        return found[0]

    def inside(self, ancestor: Element, tag: str | None = None, **attrs: str) -> list[Element]:
        """Like find_all, limited to the descendants of ``ancestor``."""

        def descends(element: Element) -> bool:
            node = element.parent
            while node is not None:
                if node is ancestor:
                    return True
                node = node.parent
            return False

        return [e for e in self.find_all(tag, **attrs) if descends(e)]

    def by_id(self, element_id: str) -> Element | None:
        found = [e for e in self.elements if e.attrs.get("id") == element_id]
        assert len(found) <= 1, f"duplicate id {element_id!r}"
        return found[0] if found else None

    def ids(self) -> list[str]:
        return [e.attrs["id"] for e in self.elements if e.attrs.get("id")]


def parse(html: str) -> Page:
    return Page(html)


def assert_accessible(name: str, page: Page) -> None:
    """The site's rules for one page: every control labelled, ids unique and every reference to one
    resolving, no inline styles, handlers or scripts (CSP), one <h1>."""
    labels = {label.get("for") for label in page.find_all("label")}
    for control in page.elements:
        if control.tag in ("input", "select", "textarea") and control.get("type") not in (
            "hidden",
            "submit",
            "button",
        ):
            assert control.get("id") in labels, (
                f"{name}: <{control.tag} name={control.get('name')}> unlabelled"
            )
    ids = page.ids()
    assert len(ids) == len(set(ids)), f"{name}: duplicate ids"
    for element in page.elements:
        for attribute in ("aria-describedby", "aria-labelledby"):
            for ref in (element.get(attribute) or "").split():
                assert ref in ids, f"{name}: {attribute}={ref!r} points nowhere"
        href = element.get("href") or ""
        if element.tag == "a" and href.startswith("#") and len(href) > 1:
            assert href[1:] in ids, f"{name}: link to missing {href}"
        assert "style" not in element.attrs, f"{name}: style attribute on <{element.tag}>"
        assert not [a for a in element.attrs if a.startswith("on")], f"{name}: handler on <{element.tag}>"
    assert not [s for s in page.find_all("script") if not s.get("src")], f"{name}: inline script"
    assert len(page.find_all("h1")) == 1, f"{name}: one <h1>"
