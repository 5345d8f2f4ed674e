"""The search results page (/search): facets with counts, filter chips, sorting, paging."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, current_app, render_template, request
from marshmallow import ValidationError
from werkzeug.datastructures import MultiDict

from app.catalog.regions import PROVINCES
from app.catalog.searching import SORT_LABELS, run_search
from app.extensions import limiter
from search import SearchError
from search.model import MAX_PAGE

bp = Blueprint("search", __name__)


def search_url(
    *,
    drop: tuple[str, ...] = (),
    remove: tuple[str, str] | None = None,
    add: tuple[str, str] | None = None,
    **replace,
) -> str:
    """The current search with some arguments changed. Changing a filter goes back to page 1."""
    args = MultiDict(request.args)
    # A key ending in "." drops a whole family of arguments ("a." = every attribute filter).
    for key in list(args.keys()):
        if key == "page" or any(key == d or (d.endswith(".") and key.startswith(d)) for d in drop):
            args.poplist(key)
    if remove is not None:
        key, value = remove
        args.setlist(key, [v for v in args.getlist(key) if v != value])
    if add is not None:
        args.add(*add)
    for key, value in replace.items():
        if value is None:
            args.poplist(key)
        else:
            args[key] = str(value)
    return "/search?" + urlencode(list(args.items(multi=True)))


@bp.get("/search")
@limiter.limit(lambda: current_app.config["SEARCH_RATE_LIMIT"])
def results():
    try:
        search = run_search(request.args)
    except ValidationError as exc:
        errors = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        return render_template(
            "catalog/search.html",
            search=None,
            errors=errors,
            q=request.args.get("q", "")[:200],
            sort_labels=SORT_LABELS,
            provinces=PROVINCES,
            search_url=search_url,
        ), 422
    except SearchError as exc:
        return render_template(
            "catalog/search.html",
            search=None,
            errors={"_schema": [str(exc)]},
            q=request.args.get("q", "")[:200],
            sort_labels=SORT_LABELS,
            provinces=PROVINCES,
            search_url=search_url,
        ), 503
    last_page = min(search.result.pages, MAX_PAGE)
    return render_template(
        "catalog/search.html",
        search=search,
        errors={},
        q=search.args["q"],
        sort_labels=SORT_LABELS,
        provinces=PROVINCES,
        search_url=search_url,
        last_page=last_page,
    )
