"""The JSON API for machine clients under /api/v1 (flask-smorest; OpenAPI at /api/v1/openapi.json)."""

from __future__ import annotations

from flask import Flask
from flask_smorest import Api

api = Api()


def init_app(app: Flask) -> None:
    api.init_app(app, spec_kwargs={"info": {"description": "政府采购电子卖场机器接口"}})
