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
