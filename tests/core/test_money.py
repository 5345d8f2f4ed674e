from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.core.money import format_cny, from_fen, to_fen, to_money
from app.procurement.models import ProcurementPlan
from tests import factories


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", "1.00"),
        ("0.005", "0.01"),
        ("0.004", "0.00"),
        (Decimal("12.345"), "12.35"),
        (7, "7.00"),
        (" 99.9 ", "99.90"),
    ],
)
def test_to_money_rounds_half_up_to_fen(raw, expected):
    assert to_money(raw) == Decimal(expected)
    assert str(to_money(raw)) == expected


@pytest.mark.parametrize("raw", ["abc", "", "NaN", "Infinity", "1e", None])
def test_to_money_refuses_garbage(raw):
    with pytest.raises(ValueError, match="不是有效的金额"):
        to_money(raw)


def test_to_money_refuses_float():
    with pytest.raises(TypeError):
        to_money(0.1)


def test_fen_round_trip():
    assert to_fen(Decimal("4999.99")) == 499999
    assert from_fen(499999) == Decimal("4999.99")
    assert format_cny(Decimal("1234567.5")) == "¥1,234,567.50"
    assert format_cny(None) == "—"


def test_money_column_is_exact_on_both_databases(db_session):
    # Values that a binary float cannot hold exactly must come back to the fen.
    amounts = [Decimal("0.10"), Decimal("0.20"), Decimal("99999999999.99"), Decimal("1234.57")]
    plans = [factories.plan(amount=a) for a in amounts]
    db_session.expire_all()
    for plan, amount in zip(plans, amounts, strict=True):
        stored = db_session.get(ProcurementPlan, plan.id).amount
        assert isinstance(stored, Decimal)
        assert stored == amount
    total = db_session.scalar(
        select(func.sum(ProcurementPlan.amount)).where(ProcurementPlan.id.in_([p.id for p in plans]))
    )
    assert total == sum(amounts)


def test_money_check_constraint_refuses_overdrawn_plan(db_session):
    from sqlalchemy.exc import IntegrityError

    plan = factories.plan(amount=Decimal("100.00"))
    plan.reserved = Decimal("60.00")
    plan.consumed = Decimal("50.00")
    with pytest.raises(IntegrityError):
        db_session.flush()
