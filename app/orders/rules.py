"""Direct-order rules (DESIGN.md "The order's life"), configurable per region and category.

For one region and category the most specific configured rule wins field by field
(region + category, then category, then region, then the mall-wide row), then the defaults. An
order spanning several categories follows the strictest of its categories' rules.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from decimal import Decimal

import sqlalchemy as sa

from app.extensions import db
from app.orders.models import OrderRule


@dataclasses.dataclass(frozen=True)
class RuleSet:
    direct_ceiling: Decimal = Decimal("200000.00")  # 直购限额 per order
    approval_threshold: Decimal = Decimal("50000.00")  # above it the unit's approver signs off
    comparison_required_above: Decimal = Decimal("10000.00")  # a comparison record is required
    confirm_hours: int = 48  # supplier confirmation, then auto-cancel
    accept_days: int = 7  # acceptance after delivery, then an alert
    pay_days: int = 30  # payment after acceptance (SME payment regulation), then an alert
    split_window_days: int = 30  # anti-splitting look-back window


DEFAULTS = RuleSet()
FIELDS = [field.name for field in dataclasses.fields(RuleSet)]


def to_json(rules: RuleSet) -> dict:
    return {
        name: str(value) if isinstance(value, Decimal) else value
        for name, value in dataclasses.asdict(rules).items()
    }


def from_json(data: dict) -> RuleSet:
    return RuleSet(
        **{
            name: Decimal(data[name]) if isinstance(getattr(DEFAULTS, name), Decimal) else int(data[name])
            for name in FIELDS
            if name in data
        }
    )


def _specificity(rule: OrderRule) -> int:
    return (2 if rule.category_id is not None else 0) + (1 if rule.region_code is not None else 0)


def rules_for(region_code: str, category_id: int | None) -> RuleSet:
    rows = db.session.scalars(
        sa.select(OrderRule).where(
            sa.or_(OrderRule.region_code.is_(None), OrderRule.region_code == region_code),
            sa.or_(OrderRule.category_id.is_(None), OrderRule.category_id == category_id),
        )
    ).all()
    values = {}
    for name in FIELDS:
        for rule in sorted(rows, key=_specificity, reverse=True):
            if getattr(rule, name) is not None:
                values[name] = getattr(rule, name)
                break
    return dataclasses.replace(DEFAULTS, **values)


def strictest(region_code: str, category_ids: Iterable[int]) -> RuleSet:
    """The tightest limits and shortest deadlines among the rules of these categories."""
    sets = [rules_for(region_code, category_id) for category_id in sorted(set(category_ids))]
    if not sets:
        return rules_for(region_code, None)
    return RuleSet(**{name: min(getattr(s, name) for s in sets) for name in FIELDS})
