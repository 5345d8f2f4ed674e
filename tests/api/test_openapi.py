"""The OpenAPI document: valid JSON, public, lists every /api/v1 route of the application, and
every operation declares the bearer scheme and its error answers."""

from __future__ import annotations

import json
import re

from app.api import SPEC_EXTENSION

HTTP_METHODS = {"get", "put", "post", "patch", "delete", "head", "options", "trace"}


def _api_paths(app) -> dict[str, set[str]]:
    """The application's /api/v1 routes as OpenAPI paths → methods (the document itself excluded)."""
    paths: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.endpoint == "api-docs.openapi_json":
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        paths.setdefault(path, set()).update(m.lower() for m in rule.methods - {"HEAD", "OPTIONS"})
    return paths


def _document(client) -> dict:
    response = client.get("/api/v1/openapi.json")  # no token needed
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return json.loads(response.get_data(as_text=True))


def test_document_lists_every_api_route(app, client):
    doc = _document(client)
    assert doc["openapi"] == "3.0.3"
    assert doc["info"]["title"] == "政府采购电子卖场 API"
    expected = _api_paths(app)
    assert set(expected) >= {
        "/api/v1/me",
        "/api/v1/categories",
        "/api/v1/categories/{code}",
        "/api/v1/products",
        "/api/v1/products/{product_id}",
        "/api/v1/offers",
        "/api/v1/offers/{offer_id}",
        "/api/v1/plans",
        "/api/v1/plans/{plan_id}",
    }
    assert set(doc["paths"]) == set(expected)
    for path, methods in expected.items():
        assert set(doc["paths"][path]) & HTTP_METHODS == methods, path


def test_bearer_scheme_applies_to_every_operation(client):
    doc = _document(client)
    assert doc["components"]["securitySchemes"]["bearerAuth"]["type"] == "http"
    assert doc["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert doc["security"] == [{"bearerAuth": []}]
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            assert operation["security"] == [{"bearerAuth": []}], (path, method)
            assert re.search(r"[\u4e00-\u9fff]", operation["summary"]), (path, method)
            assert "401" in operation["responses"], (path, method)
            if operation["x-required-scopes"]:
                assert "403" in operation["responses"], (path, method)
            if "{" in path:
                assert "404" in operation["responses"], (path, method)
            if path.endswith(("/categories", "/products", "/offers", "/plans")):
                assert "422" in operation["responses"], (path, method)


def test_error_answers_are_documented_in_chinese_with_the_error_body(client):
    doc = _document(client)
    responses = doc["components"]["responses"]
    error_body = {"$ref": "#/components/schemas/ApiError"}
    for name in ("UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND", "UNPROCESSABLE_ENTITY"):
        assert re.search(r"[\u4e00-\u9fff]", responses[name]["description"]), name
        assert responses[name]["content"]["application/json"]["schema"] == error_body
    properties = doc["components"]["schemas"]["ApiError"]["properties"]
    assert set(properties) == {"code", "status", "message", "errors"}


def test_money_is_documented_as_a_decimal_string(client):
    schemas = _document(client)["components"]["schemas"]
    for schema, field in [
        ("Plan", "amount"),
        ("Plan", "available"),
        ("Product", "lowest_price"),
        ("ListedOffer", "price"),
        ("OwnOffer", "market_price"),
    ]:
        assert schemas[schema]["properties"][field]["type"] == "string", (schema, field)
        assert schemas[schema]["properties"][field]["format"] == "decimal", (schema, field)


def test_each_application_serves_its_own_document(app, client):
    # One module-level Api serves several applications (one per test database): each keeps its own.
    assert app.extensions[SPEC_EXTENSION].to_dict() == _document(client)
