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
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from app.auth.models import Organization, OrgKind
from app.catalog.charts import LOCAL_TZ
from app.catalog.models import CATALOG_VERSION, Category
from app.core.db import utcnow
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


def fiscal_year() -> int:
    """The budget year runs on China's calendar, whatever the server's time zone."""
    return utcnow().astimezone(LOCAL_TZ).year


class BudgetError(Exception):
    """The plan cannot take this movement; the message is for the buyer."""


# Which plan columns each kind of movement changes, and by which sign.
DELTAS = {
    LedgerKind.RESERVE: {"reserved": 1},
    LedgerKind.RELEASE: {"reserved": -1, "released": 1},
    LedgerKind.CONSUME: {"reserved": -1, "consumed": 1},
}


def _move(
    plan: ProcurementPlan, kind: LedgerKind, movements: list[tuple[str, Decimal]], note: str, user
) -> None:
    """Apply ``movements`` ((reference, amount) pairs) of one kind with one guarded UPDATE of the
    plan row — all of them or none — then write a ledger entry and an event for each."""
    movements = [(reference, to_money(amount)) for reference, amount in movements]
    if not movements or any(amount <= 0 for _, amount in movements):
        raise ValueError("ledger movements are positive")
    total = sum((amount for _, amount in movements), Decimal("0.00"))
    table = ProcurementPlan.__table__
    c = table.c
    values = {name: _fen(c[name] + sign * total) for name, sign in DELTAS[kind].items()}
    if kind is LedgerKind.RESERVE:
        guard = sa.and_(
            c.status == PlanStatus.APPROVED.value, _fen(c.amount - c.reserved - c.consumed) >= total
        )
    else:
        guard = _fen(c.reserved) >= total
    # RETURNING hands back the new totals (for the events) without reading the row again.
    moved = db.session.execute(
        sa.update(table)
        .where(c.id == plan.id, guard)
        .values(values)
        .returning(c.reserved, c.consumed, c.released)
    ).one_or_none()
    if moved is None:
        if kind is LedgerKind.RESERVE:
            db.session.refresh(plan)
            if plan.status is not PlanStatus.APPROVED:
                raise BudgetError(f"采购计划 {plan.plan_no} 当前不可用（{plan.status.value}），不能下单。")
            raise BudgetError(
                f"采购计划 {plan.plan_no} 可用余额 ¥{plan.available:,.2f}，不足以支付 ¥{total:,.2f}。"
            )
        raise RuntimeError(f"plan {plan.plan_no}: {kind.value} of {total} exceeds what is reserved")
    db.session.add_all(
        LedgerEntry(
            plan_id=plan.id,
            kind=kind,
            amount=amount,
            reference=reference,
            note=note,
            created_by_id=getattr(user, "id", None),
        )
        for reference, amount in movements
    )
    db.session.flush()
    # Each event carries the plan's totals as they stood right after its own movement.
    totals = {name: to_money(value) for name, value in moved._mapping.items()}
    running = {name: totals[name] - sign * total for name, sign in DELTAS[kind].items()}
    for reference, amount in movements:
        for name, sign in DELTAS[kind].items():
            running[name] += sign * amount
            set_committed_value(plan, name, running[name])
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
    reserve_all(plan, [(reference, amount)], user=user, note=note)


def reserve_all(
    plan: ProcurementPlan, movements: list[tuple[str, Decimal]], *, user=None, note: str = ""
) -> None:
    """Reserve every (reference, amount) at once — a checkout's orders — or none of them."""
    _move(plan, LedgerKind.RESERVE, movements, note or "下单预占", user)


def release(plan: ProcurementPlan, amount: Decimal, *, reference: str, user=None, note: str = "") -> None:
    _move(plan, LedgerKind.RELEASE, [(reference, amount)], note or "释放预占", user)


def consume(plan: ProcurementPlan, amount: Decimal, *, reference: str, user=None, note: str = "") -> None:
    _move(plan, LedgerKind.CONSUME, [(reference, amount)], note or "支付核销", user)


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


# --------------------------------------------------------------------------------------------
# Creating plans (the finance system's API and the operator's page)


class PlanInputError(Exception):
    """The plan names something that does not exist; ``field`` is the input to fix."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


class PlanConflict(Exception):
    """The plan number is taken by a plan with different content; ``differences`` names the fields."""

    def __init__(self, plan: ProcurementPlan, differences: list[str]):
        self.plan = plan
        self.differences = differences
        super().__init__(
            f"计划编号 {plan.plan_no} 已存在，且内容不同（{'、'.join(differences)}）；"
            "采购计划批复后不能通过重复推送修改，请核对计划编号。"
        )


def _plan_unit(unit_code: str) -> Organization:
    unit = db.session.scalar(sa.select(Organization).where(Organization.code == unit_code))
    if unit is None or unit.kind is not OrgKind.PURCHASING_UNIT:
        raise PlanInputError("unit_code", f"预算单位 {unit_code} 不存在")
    if not unit.is_active:
        raise PlanInputError("unit_code", f"预算单位 {unit_code} 已停用")
    return unit


def _plan_categories(codes: list[str]) -> list[Category]:
    found = {
        category.code: category
        for category in db.session.scalars(
            sa.select(Category).where(Category.catalog_version == CATALOG_VERSION, Category.code.in_(codes))
        )
    }
    unknown = [code for code in codes if code not in found]
    if unknown:
        raise PlanInputError(
            "category_codes", f"品目 {'、'.join(unknown)} 不在 {CATALOG_VERSION} 版政府采购品目分类目录中"
        )
    branches = [code for code in codes if not found[code].is_leaf]
    if branches:
        raise PlanInputError(
            "category_codes", f"品目 {'、'.join(branches)} 不是末级品目，请选择其下的末级品目"
        )
    return [found[code] for code in codes]


def _plan_differences(
    plan: ProcurementPlan, unit: Organization, values: dict, categories: list[Category]
) -> list[str]:
    differences = []
    if plan.unit_id != unit.id:
        differences.append("预算单位")
    labels = {
        "name": "计划名称",
        "fiscal_year": "预算年度",
        "budget_line_code": "预算项目编码",
        "fund_source": "资金来源",
    }
    differences.extend(label for key, label in labels.items() if getattr(plan, key) != values[key])
    if plan.amount != to_money(values["amount"]):
        differences.append("批复金额")
    if {c.id for c in plan.categories} != {c.id for c in categories}:
        differences.append("适用品目")
    return differences


def create_plan(
    *,
    unit_code: str,
    plan_no: str,
    name: str,
    fiscal_year: int,
    budget_line_code: str,
    fund_source: str,
    amount: Decimal,
    category_codes: list[str],
) -> tuple[ProcurementPlan, bool]:
    """Create an approved plan, idempotent by plan number: returns ``(plan, created)``.

    The same plan number with the same content returns the existing plan (``created`` False); with
    different content it raises :class:`PlanConflict`. The budget ledger starts empty: its
    movements only ever come from orders."""
    unit = _plan_unit(unit_code)
    categories = _plan_categories(category_codes)
    values = {
        "name": name,
        "fiscal_year": fiscal_year,
        "budget_line_code": budget_line_code,
        "fund_source": fund_source,
        "amount": to_money(amount),
    }

    def existing() -> ProcurementPlan | None:
        return db.session.scalar(sa.select(ProcurementPlan).where(ProcurementPlan.plan_no == plan_no))

    def answer(plan: ProcurementPlan) -> tuple[ProcurementPlan, bool]:
        differences = _plan_differences(plan, unit, values, categories)
        if differences:
            raise PlanConflict(plan, differences)
        return plan, False

    plan = existing()
    if plan is not None:
        return answer(plan)
    plan = ProcurementPlan(unit_id=unit.id, plan_no=plan_no, categories=categories, **values)
    try:
        with db.session.begin_nested():
            db.session.add(plan)
    except IntegrityError:
        # A concurrent request created this plan number first: answer as if it had come before.
        plan = existing()
        if plan is None:
            raise
        return answer(plan)
    return plan, True
