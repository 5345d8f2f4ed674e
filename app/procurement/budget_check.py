"""The finance budget API (预算管理一体化), asked before the local ledger when configured.

``BUDGET_CHECK_URL`` receives ``POST {order_no, plan_no, budget_line_code, fiscal_year, amount,
currency}`` with ``Idempotency-Key: <order number>`` and answers ``{"approved": bool, "reason": …}``.
Three tries at most (timeout 3 s each) on network errors and 5xx; anything else that is not a clear
yes is a no: the check fails closed. Never called while a plan row is locked.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from decimal import Decimal

import requests
from flask import current_app

from app.procurement.models import ProcurementPlan

TIMEOUT_S = 3
RETRIES = 2


class BudgetCheckRefused(Exception):
    """The finance system said no, or could not be asked; the message is for the buyer."""

    def __init__(self, message: str, answer: dict):
        super().__init__(message)
        self.answer = answer


@contextlib.contextmanager
def http_session() -> Iterator[requests.Session | None]:
    """One HTTP session for a checkout's checks (none when no finance budget API is configured)."""
    if not current_app.config.get("BUDGET_CHECK_URL"):
        yield None
        return
    with requests.Session() as http:
        yield http


def check(
    order_no: str, plan: ProcurementPlan, amount: Decimal, session: requests.Session | None = None
) -> dict:
    """The recorded answer: ``{"source", "approved", "reason", "latency_ms", "attempts"}``."""
    url = current_app.config.get("BUDGET_CHECK_URL")
    if not url:
        return {"source": "local", "approved": True, "reason": "", "latency_ms": 0, "attempts": 0}
    body = {
        "order_no": order_no,
        "plan_no": plan.plan_no,
        "budget_line_code": plan.budget_line_code,
        "fiscal_year": plan.fiscal_year,
        "amount": str(amount),
        "currency": "CNY",
    }
    session = session or requests.Session()
    started = time.monotonic()
    problem = ""
    for attempt in range(1, RETRIES + 2):
        try:
            response = session.post(
                url,
                json=body,
                headers={"Idempotency-Key": order_no},
                timeout=TIMEOUT_S,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            problem = f"network: {type(exc).__name__}"
            continue
        if response.status_code >= 500:
            problem = f"HTTP {response.status_code}"
            continue
        answer = _answer(response)
        answer.update(latency_ms=round((time.monotonic() - started) * 1000), attempts=attempt)
        if not answer["approved"]:
            reason = answer["reason"] or "财政预算系统未通过预算校验"
            raise BudgetCheckRefused(f"财政预算系统拒绝了订单 {order_no}：{reason}", answer)
        return answer
    answer = {
        "source": "finance",
        "approved": False,
        "reason": problem,
        "latency_ms": round((time.monotonic() - started) * 1000),
        "attempts": RETRIES + 1,
    }
    raise BudgetCheckRefused("财政预算系统暂时无法确认预算，订单未提交，请稍后重试。", answer)


def _answer(response: requests.Response) -> dict:
    try:
        data = response.json() if response.status_code == 200 else {}
    except ValueError:
        data = {}
    approved = isinstance(data, dict) and data.get("approved") is True
    reason = str(data.get("reason") or "") if isinstance(data, dict) else ""
    if response.status_code != 200:
        reason = reason or f"HTTP {response.status_code}"
    return {"source": "finance", "approved": approved, "reason": reason[:200]}
