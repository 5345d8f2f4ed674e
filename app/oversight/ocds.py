"""OCDS 1.1 open data of the mall's transactions: pure functions from orders to release dicts.

One **release per confirmed order** (a contracting process of its own): the direct order is the
award and the contract at once, concluded when the supplier confirms it. Choices, so a reader of
the data knows what they mean:

- ``ocid`` = ``<OCDS_OCID_PREFIX>-<order number>``, e.g. ``ocds-emall-DD20261126ABCDEFGHIJ``.
  The default prefix ``ocds-emall`` is a placeholder: an install that publishes for real registers
  its own prefix with the Open Contracting Partnership and sets ``OCDS_OCID_PREFIX``.
- A release describes the process as it stands now: its ``id`` is ``<ocid>-<order status>`` and
  its ``date`` the moment the order entered that status, so every change of status is a new
  release (the order's life has no cycles, so an id is never reused for other content).
- ``tag`` is ``["award", "contract"]``, plus ``"contractTermination"`` once the contract is over
  (completed, or the goods returned); ``initiationType`` is ``"tender"`` (the only value OCDS
  allows), ``tender.procurementMethod`` ``"direct"`` with the details ``电子卖场直购``.
- Parties are organizations only — the buying unit (``buyer``, ``procuringEntity``) and the
  supplier — identified by their 统一社会信用代码 under the scheme ``CN-USCC`` (no org-id.guide
  list covers the code for every kind of legal person: ``CN-SAIC`` is companies only), or, lacking
  one, by the mall's organization code under ``X-EMALL-ORG``. No person's name, phone number or
  address is ever published: the order's contact, delivery address, notes and buyer stay out.
- Items: one per order line, classified ``{"scheme": "CN-GPC-2022", "id": <2022 code>,
  "description": <category name>}``, counted in pieces (UN/CEFACT ``H87``, 件: the catalogue has
  no unit of measure per product) with the frozen unit price as ``unit.value``.
- Amounts are JSON numbers written from the Decimal with exactly two places (``4999.00``), never
  through a float: :func:`dumps` writes the package.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from app.catalog.regions import PROVINCES
from app.core.money import to_money
from app.orders.models import OrderStatus as S

OCDS_VERSION = "1.1"
CURRENCY = "CNY"
CLASSIFICATION_SCHEME = "CN-GPC-2022"  # 政府采购品目分类目录（2022 年版）
CREDIT_CODE_SCHEME = "CN-USCC"  # 统一社会信用代码 (GB 32100)
LOCAL_SCHEME = "X-EMALL-ORG"  # the mall's own organization code, for those without a credit code
PROCUREMENT_METHOD_DETAILS = "电子卖场直购"
UNIT = {"scheme": "UNCEFACT", "id": "H87", "name": "件"}

# The statuses of an order that has been confirmed: each one is a published transaction.
PUBLISHED_STATUSES = frozenset(
    {S.CONFIRMED, S.SHIPPED, S.DELIVERED, S.ACCEPTED, S.RETURNED, S.PAYMENT_PENDING, S.PAID, S.COMPLETED}
)
# The contract is over (OCDS "terminated": in force once, now closed, completed or not).
TERMINATED = frozenset({S.COMPLETED, S.RETURNED})


def timestamp(moment: datetime) -> str:
    """An OCDS date-time: UTC, whole seconds, with its zone (``2026-11-26T15:06:56Z``)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def money(amount: Decimal) -> dict[str, Any]:
    return {"amount": to_money(amount), "currency": CURRENCY}


def ocid(prefix: str, order) -> str:
    return f"{prefix}-{order.number}"


def identifier(organization) -> dict[str, str]:
    if organization.credit_code:
        return {"scheme": CREDIT_CODE_SCHEME, "id": organization.credit_code, "legalName": organization.name}
    return {"scheme": LOCAL_SCHEME, "id": organization.code, "legalName": organization.name}


def party_id(organization) -> str:
    found = identifier(organization)
    return f"{found['scheme']}-{found['id']}"


def reference(organization) -> dict[str, str]:
    """An OrganizationReference: what ``buyer``, ``procuringEntity`` and ``suppliers`` hold."""
    return {"id": party_id(organization), "name": organization.name}


def party(organization, roles: list[str]) -> dict[str, Any]:
    """An organization of the process. Only organizational data: its name, its registered
    identifier, its province; never a contact point."""
    found: dict[str, Any] = {
        "id": party_id(organization),
        "name": organization.name,
        "identifier": identifier(organization),
        "roles": roles,
    }
    region = PROVINCES.get(organization.region_code or "")
    if region:
        found["address"] = {"region": region, "countryName": "中国"}
    if "supplier" in roles and organization.is_sme:
        found["details"] = {"scale": "sme"}
    return found


def item(line) -> dict[str, Any]:
    category = line.category
    return {
        "id": str(line.id),
        "description": line.name,
        "classification": {
            "scheme": CLASSIFICATION_SCHEME,
            "id": category.code,
            "description": category.name,
        },
        "quantity": line.quantity,
        "unit": {**UNIT, "value": money(line.unit_price)},
    }


def status_since(order) -> datetime:
    """When the order entered its current status (its history's last row into it)."""
    for event in reversed(order.history):
        if event.to_status == order.status.value:
            return event.created_at
    return order.confirmed_at


def main_category(order) -> str:
    """goods, works or services: the kind of the order's largest line."""
    largest = max(order.lines, key=lambda line: (line.amount, -line.id))
    return largest.category.kind.value


def build_release(order, *, prefix: str) -> dict[str, Any]:
    """The release of one confirmed order. ``order`` comes with its unit, supplier, lines (with
    their categories) and history loaded."""
    if order.status not in PUBLISHED_STATUSES or order.confirmed_at is None:
        raise ValueError(f"order {order.number} is not a published transaction ({order.status})")
    process = ocid(prefix, order)
    confirmed = timestamp(order.confirmed_at)
    items = [item(line) for line in order.lines]
    value = money(order.total)
    terminated = order.status in TERMINATED
    award_id = f"{order.number}-award"
    title = f"{order.unit.name}{PROCUREMENT_METHOD_DETAILS}（{order.number}）"
    tag = ["award", "contract"] + (["contractTermination"] if terminated else [])
    return {
        "ocid": process,
        "id": f"{process}-{order.status.value}",
        "date": timestamp(status_since(order)),
        "tag": tag,
        "initiationType": "tender",
        "language": "zh",
        "parties": [
            party(order.unit, ["buyer", "procuringEntity"]),
            party(order.supplier, ["supplier"]),
        ],
        "buyer": reference(order.unit),
        "tender": {
            "id": order.number,
            "title": title,
            "status": "complete",
            "procuringEntity": reference(order.unit),
            "value": value,
            "procurementMethod": "direct",
            "procurementMethodDetails": PROCUREMENT_METHOD_DETAILS,
            "mainProcurementCategory": main_category(order),
            "numberOfTenderers": 1,
            "tenderers": [reference(order.supplier)],
        },
        "awards": [
            {
                "id": award_id,
                "title": title,
                "status": "active",
                "date": confirmed,
                "value": value,
                "suppliers": [reference(order.supplier)],
                "items": items,
            }
        ],
        "contracts": [
            {
                "id": order.number,
                "awardID": award_id,
                "title": title,
                "status": "terminated" if terminated else "active",
                "value": value,
                "items": items,
                "dateSigned": confirmed,
                "period": {"startDate": confirmed},
            }
        ],
    }


def build_package(
    releases: list[dict[str, Any]],
    *,
    uri: str,
    publisher: str,
    published: datetime,
    next_url: str | None = None,
) -> dict[str, Any]:
    """A release package; ``links.next`` (OCDS pagination) when there is a next page."""
    package: dict[str, Any] = {
        "uri": uri,
        "version": OCDS_VERSION,
        "publishedDate": timestamp(published),
        "publisher": {"name": publisher},
        "releases": releases,
    }
    if next_url:
        package["links"] = {"next": next_url}
    return package


def package_date(orders: Iterable, fallback: datetime) -> datetime:
    """The package's date: the latest change among its orders (OCDS: generated on demand, the
    date of the last change to its contents), or ``fallback`` when it has none."""
    return max((status_since(order) for order in orders), default=fallback)


def dumps(value: Any) -> str:
    """JSON with every Decimal written as an exact number (``4999.00``), never through a float."""
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"not a finite amount: {value!r}")
        return format(value, "f")
    if isinstance(value, dict):
        members = (f"{json.dumps(str(key), ensure_ascii=False)}:{dumps(v)}" for key, v in value.items())
        return "{" + ",".join(members) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(dumps(v) for v in value) + "]"
    if isinstance(value, float):
        raise TypeError("amounts must be Decimal, never float")
    return json.dumps(value, ensure_ascii=False)
