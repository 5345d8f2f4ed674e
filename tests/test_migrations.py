"""The Alembic migrations build the schema the models describe, on SQLite and PostgreSQL."""

import uuid

import psycopg
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from app import create_app
from app.extensions import db
from tests.conftest import BACKENDS, PG_ADMIN_URL, _pg_url, make_test_config


@pytest.fixture(params=BACKENDS)
def empty_database(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.sqlite3'}"
        return
    name = f"emall_migr_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield _pg_url(name)
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _diff(connection) -> list:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return compare_metadata(context, db.metadata)


def test_upgrade_from_empty_matches_the_models_and_downgrades_cleanly(empty_database):
    app = create_app(make_test_config(empty_database))
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            assert _diff(connection) == []
            tables = set(sa.inspect(connection).get_table_names())
        assert {
            "organizations",
            "users",
            "categories",
            "attributes",
            "products",
            "offers",
            "price_changes",
            "procurement_plans",
            "ledger_entries",
            "plan_categories",
            "api_tokens",
            "audit_events",
        } <= tables
        downgrade(revision="base")
        with db.engine.connect() as connection:
            assert set(sa.inspect(connection).get_table_names()) <= {"alembic_version"}
        upgrade()
        with db.engine.connect() as connection:
            assert _diff(connection) == []
        db.engine.dispose()


def test_money_columns_are_numeric_14_2_with_checks(empty_database):
    app = create_app(make_test_config(empty_database))
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            inspector = sa.inspect(connection)
            columns = {c["name"]: c["type"] for c in inspector.get_columns("offers")}
            assert isinstance(columns["price"], sa.Numeric)
            assert (columns["price"].precision, columns["price"].scale) == (14, 2)
            checks = {c["name"] for c in inspector.get_check_constraints("procurement_plans")}
            assert "ck_procurement_plans_within_amount" in checks
        db.engine.dispose()


def test_upgrading_a_database_that_holds_data_keeps_it(empty_database):
    """Batch migrations rebuild SQLite tables; rows that others reference must survive that."""
    app = create_app(make_test_config(empty_database))
    with app.app_context():
        upgrade(revision="483206d3fd72")
        with db.engine.begin() as connection:
            connection.execute(
                sa.text(
                    "INSERT INTO organizations (id, code, name, kind, region_code, is_sme, is_active, created_at, "
                    "updated_at) VALUES (1, 'S1', '供应商', 'supplier', '110000', true, true, '2026-01-01', '2026-01-01')"
                )
            )
            connection.execute(
                sa.text(
                    "INSERT INTO categories (id, catalog_version, code, name, level, kind, description, is_leaf) "
                    "VALUES (1, '2022', 'A02010105', '台式计算机', 4, 'goods', '', true)"
                )
            )
            connection.execute(
                sa.text(
                    "INSERT INTO products (id, category_id, brand, model, manufacturer, name, dedup_key, specs, "
                    "energy_saving, environmental, origin, description, is_active, row_version, created_at, updated_at) "
                    "VALUES (1, 1, '联想', 'M1', '联想', '联想 M1', '联想|m1', '{}', false, false, 'domestic', '', true, 1, "
                    "'2026-01-01', '2026-01-01')"
                )
            )
            connection.execute(
                sa.text(
                    "INSERT INTO offers (id, product_id, supplier_id, supplier_sku, price, stock, regions, "
                    "warranty_months, lead_time_days, status, created_at, updated_at) VALUES (1, 1, 1, 'SKU1', 4999.00, 1, "
                    "'[]', 12, 3, 'listed', '2026-01-01', '2026-01-01')"
                )
            )
        upgrade()
        with db.engine.connect() as connection:
            assert connection.execute(sa.text("SELECT search_dirty FROM products WHERE id = 1")).scalar() in (
                1,
                True,
            )
            assert connection.execute(sa.text("SELECT product_id FROM offers WHERE id = 1")).scalar() == 1
            assert _diff(connection) == []
        db.engine.dispose()
