"""The JSON API for machine clients under /api/v1 (flask-smorest; OpenAPI at /api/v1/openapi.json).

``api`` is one module-level object whose ``init_app`` runs once per application (the tests build
one on SQLite and one on PostgreSQL in the same process). flask-smorest keeps the spec of the
application initialised last on that object, so each application's spec is also kept in its own
``app.extensions`` and that is the one served. Error bodies are rendered by
:mod:`app.core.errors`, whose handler replaces flask-smorest's; this module only adds the
``WWW-Authenticate`` challenge to 401/403 answers.
"""

from __future__ import annotations

import http

from flask import Flask, current_app, g, json, request
from flask_smorest import Api
from flask_smorest.utils import prepare_response

from app.api.schemas import ApiErrorSchema, DecimalString, MoneyString

SPEC_EXTENSION = "emall-api-spec"
API_PREFIX = "/api/v1"

# Chinese descriptions of the answers every operation documents.
RESPONSE_DESCRIPTIONS = {
    http.HTTPStatus.BAD_REQUEST: "请求无效",
    http.HTTPStatus.UNAUTHORIZED: "缺少访问令牌，或令牌无效、已吊销、已过期"
    "（响应带 WWW-Authenticate: Bearer）",
    http.HTTPStatus.FORBIDDEN: "令牌缺少所需的权限范围，或调用方单位类型无权访问此资源",
    http.HTTPStatus.NOT_FOUND: "资源不存在，或不属于调用方可见的范围",
    http.HTTPStatus.METHOD_NOT_ALLOWED: "此地址不支持该请求方式",
    http.HTTPStatus.UNSUPPORTED_MEDIA_TYPE: "请求体应为 JSON",
    http.HTTPStatus.UNPROCESSABLE_ENTITY: "参数未通过校验；errors 中按位置和字段给出中文说明",
    http.HTTPStatus.TOO_MANY_REQUESTS: "请求过于频繁",
    http.HTTPStatus.INTERNAL_SERVER_ERROR: "系统错误",
}


class EmallApi(Api):
    ERROR_SCHEMA = ApiErrorSchema

    def _register_responses(self):
        """flask-smorest's lazily registered responses, with Chinese descriptions."""
        for status in http.HTTPStatus:
            response = {"description": RESPONSE_DESCRIPTIONS.get(status, status.phrase)}
            if not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, self.DEFAULT_RESPONSE_CONTENT_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "错误响应", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, self.DEFAULT_RESPONSE_CONTENT_TYPE)
        self.spec.components.response(self.DEFAULT_ERROR_RESPONSE_NAME, response, lazy=True)

    def _openapi_json(self):
        """Serve the spec of the application handling this request (see the module docstring)."""
        spec = current_app.extensions[SPEC_EXTENSION]
        return current_app.response_class(
            json.dumps(spec.to_dict(), indent=2, sort_keys=False, ensure_ascii=False),
            mimetype="application/json",
        )


api = EmallApi()
api.register_field(MoneyString, "string", "decimal")
api.register_field(DecimalString, "string", "decimal")


def init_app(app: Flask) -> None:
    from app.api.auth import REALM, SECURITY_SCHEME
    from app.api.v1 import BLUEPRINTS

    api.init_app(
        app,
        spec_kwargs={
            "info": {
                "description": "政府采购电子卖场机器接口。所有接口（本文档除外）都需要 "
                "`Authorization: Bearer <令牌>`；令牌在“API 令牌”页面签发。"
                '金额一律为两位小数的字符串，例如 "4999.00"。'
            },
            # Every operation also carries its own requirement; the scopes it needs are in x-required-scopes.
            "security": [{SECURITY_SCHEME: []}],
        },
    )
    api.spec.components.security_scheme(
        SECURITY_SCHEME,
        {
            "type": "http",
            "scheme": "bearer",
            "description": "API 令牌（gpm_ 开头），在“API 令牌”页面签发，只显示一次。",
        },
    )
    from app.api.catalog_upload import offer_writes_bp
    from app.api.orders import orders_bp
    from app.api.plans import plan_writes_bp
    from app.api.search import search_bp

    for blueprint in (*BLUEPRINTS, search_bp, offer_writes_bp, plan_writes_bp, orders_bp):
        api.register_blueprint(blueprint)
    app.extensions[SPEC_EXTENSION] = api.spec

    @app.after_request
    def api_response_headers(response):
        if not request.path.startswith(API_PREFIX + "/"):
            return response
        challenge = g.get("api_www_authenticate")
        if response.status_code == 401:
            response.headers["WWW-Authenticate"] = challenge or f'Bearer realm="{REALM}"'
        elif response.status_code == 403 and challenge:
            response.headers["WWW-Authenticate"] = challenge
        # Answers depend on the caller's token: never cache them in shared caches.
        if request.endpoint != "api-docs.openapi_json":
            response.headers.setdefault("Cache-Control", "no-store")
            response.vary.add("Authorization")
        return response
