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


@dataclasses.dataclass(frozen=True)
class RuleBook:
    """The configured rows that can apply to some categories in one region, read in one query:
    a checkout resolves every supplier group and category of its cart from the same book."""

    category_ids: frozenset[int]
    rows: tuple[OrderRule, ...]

    @classmethod
    def load(cls, region_code: str, category_ids: Iterable[int]) -> RuleBook:
        ids = frozenset(category_ids)
        category = OrderRule.category_id.is_(None)
        if ids:
            category = sa.or_(category, OrderRule.category_id.in_(sorted(ids)))
        rows = db.session.scalars(
            sa.select(OrderRule).where(
                sa.or_(OrderRule.region_code.is_(None), OrderRule.region_code == region_code), category
            )
        )
        return cls(ids, tuple(rows))

    def rules_for(self, category_id: int | None) -> RuleSet:
        if category_id is not None and category_id not in self.category_ids:
            raise ValueError(f"category {category_id} is not in this rule book")
        applicable = sorted(
            (rule for rule in self.rows if rule.category_id in (None, category_id)),
            key=_specificity,
            reverse=True,
        )
        values = {}
        for name in FIELDS:
            for rule in applicable:
                if getattr(rule, name) is not None:
                    values[name] = getattr(rule, name)
                    break
        return dataclasses.replace(DEFAULTS, **values)

    def strictest(self, category_ids: Iterable[int]) -> RuleSet:
        """The tightest limits and shortest deadlines among the rules of these categories."""
        sets = [self.rules_for(category_id) for category_id in sorted(set(category_ids))]
        if not sets:
            return self.rules_for(None)
        return RuleSet(**{name: min(getattr(s, name) for s in sets) for name in FIELDS})


def rules_for(region_code: str, category_id: int | None) -> RuleSet:
    ids = [] if category_id is None else [category_id]
    return RuleBook.load(region_code, ids).rules_for(category_id)


def strictest(region_code: str, category_ids: Iterable[int]) -> RuleSet:
    """The tightest limits and shortest deadlines among the rules of these categories."""
    ids = set(category_ids)
    return RuleBook.load(region_code, ids).strictest(ids)
