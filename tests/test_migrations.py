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


DAY = "2026-01-01"
SEED_ROWS = [
    (
        "organizations",
        {
            "id": 1,
            "code": "S1",
            "name": "供应商",
            "kind": "supplier",
            "region_code": "110000",
            "is_sme": True,
            "is_active": True,
            "created_at": DAY,
            "updated_at": DAY,
        },
    ),
    (
        "categories",
        {
            "id": 1,
            "catalog_version": "2022",
            "code": "A02010105",
            "name": "台式计算机",
            "level": 4,
            "kind": "goods",
            "description": "",
            "is_leaf": True,
        },
    ),
    (
        "products",
        {
            "id": 1,
            "category_id": 1,
            "brand": "联想",
            "model": "M1",
            "manufacturer": "联想",
            "name": "联想 M1",
            "dedup_key": "联想|m1",
            "specs": "{}",
            "energy_saving": False,
            "environmental": False,
            "origin": "domestic",
            "description": "",
            "is_active": True,
            "row_version": 1,
            "created_at": DAY,
            "updated_at": DAY,
        },
    ),
    (
        "offers",
        {
            "id": 1,
            "product_id": 1,
            "supplier_id": 1,
            "supplier_sku": "SKU1",
            "price": "4999.00",
            "stock": 1,
            "regions": "[]",
            "warranty_months": 12,
            "lead_time_days": 3,
            "status": "listed",
            "created_at": DAY,
            "updated_at": DAY,
        },
    ),
]


def test_upgrading_a_database_that_holds_data_keeps_it(empty_database):
    """Batch migrations rebuild SQLite tables; rows that others reference must survive that."""
    app = create_app(make_test_config(empty_database))
    with app.app_context():
        upgrade(revision="483206d3fd72")
        with db.engine.begin() as connection:
            for table, row in SEED_ROWS:
                connection.execute(sa.table(table, *map(sa.column, row)).insert().values(**row))
        upgrade()
        with db.engine.connect() as connection:
            assert connection.execute(sa.text("SELECT search_dirty FROM products WHERE id = 1")).scalar() in (
                1,
                True,
            )
            assert connection.execute(sa.text("SELECT product_id FROM offers WHERE id = 1")).scalar() == 1
            assert _diff(connection) == []
        db.engine.dispose()
