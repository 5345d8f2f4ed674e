"""政府采购电子卖场 — the application factory."""

from __future__ import annotations

import sqlite3

from flask import Flask, has_request_context, request, session
from flask_login import current_user
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.routing import IntegerConverter

from config import BASE_DIR, INSTANCE_DIR, Config, config_for


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        # Let SQLAlchemy, not pysqlite, issue BEGIN, so SAVEPOINTs work; enforce foreign keys.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")  # big imports hold the write lock a while
        cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin(conn) -> None:
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN")


class DatabaseId(IntegerConverter):
    """``<int:…>`` in every route: an id a database row can have (a 20-digit id in a URL is a 404,
    not an overflow in the database driver)."""

    def __init__(self, url_map, fixed_digits=0, min=None, max=2**63 - 1, signed=False):
        super().__init__(url_map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def select_locale() -> str:
    from flask import current_app

    languages = current_app.config["LANGUAGES"]
    # Jobs have no request (and no session): lazy strings there take the default language.
    chosen = session.get("locale") if has_request_context() else None
    if chosen in languages:
        return chosen
    if current_user and getattr(current_user, "locale", None) in languages:
        return current_user.locale
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def create_app(config: type[Config] | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=str(INSTANCE_DIR),
        template_folder=str(BASE_DIR / "templates"),
        static_folder=str(BASE_DIR / "static"),
    )
    app.config.from_object(config or config_for())

    from app import extensions as ext

    ext.db.init_app(app)
    with app.app_context():
        if ext.db.engine.dialect.name != "sqlite":  # a file that never hangs up
            from app.core.pool import ping_idle_connections

            ping_idle_connections(ext.db.engine, app.config["DB_PING_IDLE_SECONDS"])
    ext.migrate.init_app(app, ext.db, directory=str(BASE_DIR / "migrations"))
    ext.csrf.init_app(app)
    ext.limiter.init_app(app)
    ext.babel.init_app(app, locale_selector=select_locale)
    _init_login(app)

    from app.core import errors, transaction

    transaction.init_app(app)
    _register_models()
    app.url_map.converters["int"] = DatabaseId  # before any route is added
    _register_blueprints(app)
    errors.init_app(app)  # after the API, whose error handler it replaces for HTML pages
    _register_cli(app)
    _register_template_helpers(app)

    if app.config.get("SCHEDULER_THREAD"):
        from app.core.scheduler import start_thread

        start_thread(app)

    @app.get("/healthz")
    def healthz():
        return {"status": "ok"}

    return app


def _init_login(app: Flask) -> None:
    from flask_babel import lazy_gettext

    from app.auth.services import load_user_by_session_token
    from app.extensions import login_manager

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = lazy_gettext("请先登录。")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    login_manager.user_loader(load_user_by_session_token)


def _register_models() -> None:
    # Import every models module so metadata (Alembic, create_all) sees all tables.
    from app.auth import models as _auth  # noqa: F401
    from app.catalog import indexing as _indexing  # noqa: F401  (registers the flush listeners)
    from app.catalog import models as _catalog  # noqa: F401
    from app.catalog_upload import models as _catalog_upload  # noqa: F401
    from app.compare import models as _compare  # noqa: F401
    from app.core import audit as _audit  # noqa: F401
    from app.orders import models as _orders  # noqa: F401
    from app.oversight import models as _oversight  # noqa: F401
    from app.payments import models as _payments  # noqa: F401
    from app.procurement import models as _procurement  # noqa: F401
    from app.review import models as _review  # noqa: F401
    from app.webhooks import models as _webhooks  # noqa: F401


def _register_blueprints(app: Flask) -> None:
    from app.api import init_app as init_api
    from app.api.views import bp as api_tokens_bp
    from app.auth.views import bp as auth_bp
    from app.catalog.search_views import bp as search_bp
    from app.catalog.supplier_views import bp as supplier_bp
    from app.catalog.views import bp as catalog_bp
    from app.catalog_upload.views import bp as catalog_upload_bp
    from app.compare.views import bp as compare_bp
    from app.orders.cart_views import bp as cart_bp
    from app.orders.rule_views import bp as order_rules_bp
    from app.orders.views import bp as orders_bp
    from app.oversight.monitor_views import bp as monitor_bp
    from app.oversight.notices import bp as notices_bp
    from app.oversight.opendata import bp as open_data_bp
    from app.oversight.price_board import bp as price_board_bp
    from app.oversight.views import bp as oversight_bp
    from app.oversight.views import public_bp as late_payments_bp
    from app.payments.views import bp as payments_bp
    from app.procurement.views import bp as procurement_bp
    from app.review.views import bp as review_bp
    from app.webhooks.views import bp as webhooks_bp

    for blueprint in (
        auth_bp,
        catalog_bp,
        procurement_bp,
        supplier_bp,
        search_bp,
        api_tokens_bp,
        compare_bp,
        catalog_upload_bp,
        review_bp,
        cart_bp,
        orders_bp,
        order_rules_bp,
        webhooks_bp,
        oversight_bp,
        monitor_bp,
        price_board_bp,
        late_payments_bp,
        notices_bp,
        open_data_bp,
        payments_bp,
    ):
        app.register_blueprint(blueprint)
    init_api(app)


def _register_cli(app: Flask) -> None:
    from app.catalog.cli import catalog_cli, search_cli
    from app.core.scheduler import scheduler_cli
    from app.demo.cli import demo_cli
    from app.payments.cli import payments_stub_command
    from app.webhooks.cli import webhooks_cli

    app.cli.add_command(catalog_cli)
    app.cli.add_command(search_cli)
    app.cli.add_command(scheduler_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(webhooks_cli)
    app.cli.add_command(payments_stub_command)


def _register_template_helpers(app: Flask) -> None:
    from flask import g
    from flask_babel import get_locale, get_translations

    from app.core.money import format_cny

    app.jinja_env.filters["cny"] = format_cny

    def translations():
        # Looked up once per request: Flask-Babel resolves its context on every call, which
        # added up to a third of a search page's rendering time.
        found = g.get("_translations")
        if found is None:
            found = g._translations = get_translations()
        return found

    app.jinja_env.install_gettext_callables(
        gettext=lambda s: translations().ugettext(s),
        ngettext=lambda s, p, n: translations().ungettext(s, p, n),
        newstyle=True,
    )

    @app.context_processor
    def inject_globals():
        return {"current_locale": str(get_locale()), "languages": app.config["LANGUAGES"]}

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "frame-ancestors 'none'; form-action 'self'",
        )
        if request.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "public, max-age=3600")
        return response
