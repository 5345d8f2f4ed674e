"""The plan's budget ledger: reserve, release, consume.

Every movement is one guarded ``UPDATE`` of the plan row plus one ledger entry, in the caller's
transaction. The guard (``amount − reserved − consumed >= x``) is evaluated while the row is
locked by that very UPDATE — PostgreSQL re-checks it after waiting for a concurrent writer, SQLite
holds the database write lock — so two checkouts can never both spend the same yuan, and no remote
call ever happens while the lock is held (callers ask the finance budget API before).
"""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa

from app.core.money import to_money
from app.extensions import db
from app.procurement.models import LedgerEntry, LedgerKind, PlanStatus, ProcurementPlan
from app.webhooks.outbox import emit

EVENT_TYPES = {
    LedgerKind.RESERVE: "budget.reserved",
    LedgerKind.RELEASE: "budget.released",
    LedgerKind.CONSUME: "budget.consumed",
}


def _fen(expression):
    # Exact on PostgreSQL already; SQLite computes NUMERIC columns in binary floating point, so
    # every sum and comparison is rounded back to fen.
    return sa.func.round(expression, 2)


class BudgetError(Exception):
    """The plan cannot take this movement; the message is for the buyer."""


def _move(plan: ProcurementPlan, kind: LedgerKind, amount: Decimal, reference: str, note: str, user) -> None:
    amount = to_money(amount)
    if amount <= 0:
        raise ValueError("ledger movements are positive")
    table = ProcurementPlan.__table__
    c = table.c
    if kind is LedgerKind.RESERVE:
        values = {"reserved": _fen(c.reserved + amount)}
        guard = sa.and_(
            c.status == PlanStatus.APPROVED.value, _fen(c.amount - c.reserved - c.consumed) >= amount
        )
    elif kind is LedgerKind.RELEASE:
        values = {"reserved": _fen(c.reserved - amount), "released": _fen(c.released + amount)}
        guard = _fen(c.reserved) >= amount
    else:
        values = {"reserved": _fen(c.reserved - amount), "consumed": _fen(c.consumed + amount)}
        guard = _fen(c.reserved) >= amount
    result = db.session.execute(sa.update(table).where(table.c.id == plan.id, guard).values(values))
    if result.rowcount != 1:
        if kind is LedgerKind.RESERVE:
            db.session.refresh(plan)
            if plan.status is not PlanStatus.APPROVED:
                raise BudgetError(f"采购计划 {plan.plan_no} 当前不可用（{plan.status.value}），不能下单。")
            raise BudgetError(
                f"采购计划 {plan.plan_no} 可用余额 ¥{plan.available:,.2f}，不足以支付 ¥{amount:,.2f}。"
            )
        raise RuntimeError(f"plan {plan.plan_no}: {kind.value} of {amount} exceeds what is reserved")
    db.session.add(
        LedgerEntry(
            plan_id=plan.id,
            kind=kind,
            amount=amount,
            reference=reference,
            note=note,
            created_by_id=getattr(user, "id", None),
        )
    )
    db.session.flush()
    db.session.refresh(plan, ["reserved", "consumed", "released"])
    emit(
        EVENT_TYPES[kind],
        {
            "plan_no": plan.plan_no,
            "unit_code": plan.unit.code,
            "order_no": reference,
            "amount": str(amount),
            "currency": "CNY",
            "plan": ledger_totals(plan),
        },
        subject=reference,
    )


def ledger_totals(plan: ProcurementPlan) -> dict[str, str]:
    return {
        "amount": str(plan.amount),
        "reserved": str(plan.reserved),
        "consumed": str(plan.consumed),
        "released": str(plan.released),
        "available": str(plan.available),
    }


def reserve(plan: ProcurementPlan, amount: Decimal, *, reference: str, user=None, note: str = "") -> None:
    """Reserve ``amount`` or raise :class:`BudgetError`; nothing changes on failure."""
    _move(plan, LedgerKind.RESERVE, amount, reference, note or "下单预占", user)


def release(plan: ProcurementPlan, amount: Decimal, *, reference: str, user=None, note: str = "") -> None:
    _move(plan, LedgerKind.RELEASE, amount, reference, note or "释放预占", user)


def consume(plan: ProcurementPlan, amount: Decimal, *, reference: str, user=None, note: str = "") -> None:
    _move(plan, LedgerKind.CONSUME, amount, reference, note or "支付核销", user)


def ledger_sums(plan_id: int) -> dict[str, Decimal]:
    """The plan's totals recomputed from its ledger (what the stored columns must equal)."""
    rows = db.session.execute(
        sa.select(LedgerEntry.kind, sa.func.coalesce(sa.func.sum(LedgerEntry.amount), 0))
        .where(LedgerEntry.plan_id == plan_id)
        .group_by(LedgerEntry.kind)
    ).all()
    sums = {kind: to_money(total) for kind, total in rows}
    zero = Decimal("0.00")
    reserved_in = sums.get(LedgerKind.RESERVE, zero)
    released = sums.get(LedgerKind.RELEASE, zero)
    consumed = sums.get(LedgerKind.CONSUME, zero)
    return {"reserved": reserved_in - released - consumed, "released": released, "consumed": consumed}
