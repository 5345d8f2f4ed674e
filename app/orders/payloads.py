"""The full order as JSON for outbound events and the API: plan, lines, amounts, comparison."""

from __future__ import annotations

from app.orders.models import Order


def _when(value) -> str | None:
    return value.isoformat() if value else None


def order_payload(order: Order) -> dict:
    record = order.comparison_record
    return {
        "order_no": order.number,
        "status": order.status.value,
        "total": str(order.total),
        "currency": "CNY",
        "needs_approval": order.needs_approval,
        "unit": {"code": order.unit.code, "name": order.unit.name},
        "supplier": {
            "code": order.supplier.code,
            "name": order.supplier.name,
            "credit_code": order.supplier.credit_code,
            "is_sme": order.supplier.is_sme,
        },
        "plan": {
            "plan_no": order.plan.plan_no,
            "fiscal_year": order.plan.fiscal_year,
            "budget_line_code": order.plan.budget_line_code,
            "fund_source": order.plan.fund_source,
        },
        "lines": [
            {
                "supplier_sku": line.supplier_sku,
                "name": line.name,
                "brand": line.brand,
                "model": line.model,
                "category_code": line.category.code,
                "unit_price": str(line.unit_price),
                "quantity": line.quantity,
                "amount": str(line.amount),
                "market_price": str(line.market_price) if line.market_price is not None else None,
            }
            for line in order.lines
        ],
        "comparison": None
        if record is None
        else {
            "number": record.number,
            "product_count": record.product_count,
            "lowest_price": str(record.lowest_price),
        },
        "split_reason": order.split_reason,
        "tracking_number": order.tracking_number,
        "submitted_at": _when(order.submitted_at),
        "confirm_due_at": _when(order.confirm_due_at),
        "confirmed_at": _when(order.confirmed_at),
        "delivered_at": _when(order.delivered_at),
        "accepted_at": _when(order.accepted_at),
        "paid_at": _when(order.paid_at),
    }
