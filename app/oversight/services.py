from __future__ import annotations

from app.extensions import db
from app.oversight.models import Alert, AlertKind


def raise_alert(kind: AlertKind, message: str, **fields) -> Alert:
    alert = Alert(kind=kind, message=message, **fields)
    db.session.add(alert)
    return alert
