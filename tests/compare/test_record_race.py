"""Two purchasers saving at the same moment on real PostgreSQL: both compute the same next number,
the unique constraint refuses the second insert, and the loser takes the next number instead of
failing. (SQLite serialises writers, so there is no race to test there.)"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import delete, select

from app.auth.models import Organization, OrgKind, Role, User
from app.compare import services
from app.compare.models import ComparisonRecord
from app.extensions import db
from tests import factories

NOW = datetime(2031, 5, 20, 2, 0, tzinfo=UTC)  # a day no other test uses: BJ-20310520-…


@pytest.mark.postgres
def test_concurrent_saves_take_consecutive_numbers(app, monkeypatch):
    if app.config["DB_BACKEND"] != "postgresql":
        pytest.skip("SQLite serialises writers; the race exists on PostgreSQL")
    with app.app_context():
        # Committed for real: each thread works on its own connection and must see these rows.
        unit = factories.org(OrgKind.PURCHASING_UNIT, name="并发测试单位")
        buyers = [factories.user(unit, Role.PURCHASER) for _ in range(2)]
        db.session.commit()
        unit_id, buyer_ids = unit.id, [b.id for b in buyers]
        db.session.remove()

    computed = services.next_record_number
    barrier = threading.Barrier(2, timeout=10)
    first_call = threading.local()

    def racing(now):
        number = computed(now)
        if not getattr(first_call, "done", False):
            first_call.done = True
            barrier.wait()  # both threads hold the same number before either inserts
        return number

    monkeypatch.setattr(services, "next_record_number", racing)
    numbers: list[str] = []
    errors: list[BaseException] = []

    def save(user_id: int) -> None:
        try:
            with app.app_context():
                record = ComparisonRecord(
                    organization_id=unit_id,
                    created_by_id=user_id,
                    created_at=NOW,
                    title="并发保存",
                    note="",
                    product_ids=[1, 2],
                    product_count=2,
                    snapshot={},
                    lowest_price=Decimal("1.00"),
                )
                services._insert_with_number(record, NOW)
                db.session.commit()
                numbers.append(record.number)
                db.session.remove()
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=save, args=(user_id,)) for user_id in buyer_ids]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert not errors, errors
        assert sorted(numbers) == ["BJ-20310520-0001", "BJ-20310520-0002"]
    finally:
        with app.app_context():
            db.session.execute(delete(ComparisonRecord).where(ComparisonRecord.organization_id == unit_id))
            db.session.execute(delete(User).where(User.organization_id == unit_id))
            db.session.execute(delete(Organization).where(Organization.id == unit_id))
            db.session.commit()
            assert (
                db.session.scalar(select(ComparisonRecord.id).where(ComparisonRecord.number.like("BJ-2031%")))
                is None
            )
            db.session.remove()
