"""The event types an endpoint may subscribe to (their labels are in templates/webhooks/_macros.html).

Orders emit ``order.<status>`` on every transition (``app.orders.lifecycle``); budget ledger
entries emit ``budget.reserved`` / ``budget.released`` / ``budget.consumed``
(``app.procurement.services``). ``group.*`` subscribes to a whole group, including types added
later; no selection at all means every event.
"""

from __future__ import annotations

from app.orders.models import OrderStatus

ORDER_STATUSES = tuple(status.value for status in OrderStatus)
BUDGET_EVENTS = ("reserved", "released", "consumed")

ORDER_TYPES = tuple(f"order.{status}" for status in ORDER_STATUSES)
BUDGET_TYPES = tuple(f"budget.{kind}" for kind in BUDGET_EVENTS)
EVENT_TYPES = ORDER_TYPES + BUDGET_TYPES
GROUPS = {"order.*": ORDER_TYPES, "budget.*": BUDGET_TYPES}
SELECTABLE = frozenset(EVENT_TYPES) | frozenset(GROUPS)

TEST_EVENT = "webhook.test"  # sent by ``flask webhooks send-test``; never subscribed to
