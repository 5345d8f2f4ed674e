"""The alert workflow (预警处置): open → acknowledged → resolved, with notes. The verbs flush, never
commit.

Regulators and operators move alerts (the issue gives the workflow to both; everything else a
regulator does stays read-only). The allowed moves are data, checked here in one place; an illegal
one (resolving twice, acknowledging a resolved alert) raises :class:`AlertMoveError`, answered
with 409. Resolving needs a written note. Every move and every note is an :class:`AlertNote` row
(who, when, from, to, text) and an audit event. The status changes through a guarded UPDATE
(``WHERE status = <the status we read>``), so of two people resolving the same alert at the same
moment exactly one wins and the other is told it moved.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.auth.access import OVERSIGHT_ROLES
from app.auth.models import User
from app.core import audit
from app.core.db import utcnow
from app.extensions import db
from app.oversight.models import Alert, AlertAction, AlertNote
from app.oversight.models import AlertStatus as A

WORKERS = OVERSIGHT_ROLES  # who may acknowledge, resolve and add notes
NOTE_MAX = 2000

# (from, to) → the action it is.
MOVES: dict[tuple[A, A], AlertAction] = {
    (A.OPEN, A.ACKNOWLEDGED): AlertAction.ACKNOWLEDGE,
    (A.OPEN, A.RESOLVED): AlertAction.RESOLVE,  # e.g. an obvious false alarm, explained in the note
    (A.ACKNOWLEDGED, A.RESOLVED): AlertAction.RESOLVE,
}
NOTE_REQUIRED = frozenset({A.RESOLVED})

STATUS_LABELS = {
    A.OPEN: _l("待处理"),
    A.ACKNOWLEDGED: _l("已知悉"),
    A.RESOLVED: _l("已办结"),
}
ACTION_LABELS = {
    AlertAction.NOTE: _l("添加备注"),
    AlertAction.ACKNOWLEDGE: _l("知悉"),
    AlertAction.RESOLVE: _l("办结"),
}


class AlertMoveError(Exception):
    """An illegal move or a refused note (409 for moves, 422 for a missing text); the message is
    for the person, in Chinese."""

    def __init__(self, message: str, *, conflict: bool = True):
        super().__init__(message)
        self.message = message
        self.conflict = conflict


def allowed_targets(alert: Alert) -> list[A]:
    return [to for (frm, to) in MOVES if frm == alert.status]


def author_label(user: User) -> str:
    return f"{user.display_name}（{user.organization.name}）"[:300]


def _check_worker(user: User) -> None:
    if user.role not in WORKERS:
        raise AlertMoveError("只有卖场运营和财政监管人员可以处理预警。")


def move(alert: Alert, to: A, user: User, note: str = "") -> AlertNote:
    """Acknowledge or resolve ``alert``; returns the log entry."""
    _check_worker(user)
    frm = alert.status
    action = MOVES.get((frm, to))
    if action is None:
        if frm is to:
            raise AlertMoveError(f"预警 #{alert.id} 已经是「{STATUS_LABELS[to]}」状态，不能重复操作。")
        raise AlertMoveError(
            f"预警 #{alert.id} 当前为「{STATUS_LABELS[frm]}」，不能变为「{STATUS_LABELS[to]}」。"
        )
    note = (note or "").strip()
    if to in NOTE_REQUIRED and not note:
        raise AlertMoveError("办结预警须填写处理意见。", conflict=False)
    if len(note) > NOTE_MAX:
        raise AlertMoveError(f"说明不能超过 {NOTE_MAX} 个字。", conflict=False)
    now = utcnow()
    moved = db.session.execute(
        sa.update(Alert)
        .where(Alert.id == alert.id, Alert.status == frm)
        .values(status=to, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:
        raise AlertMoveError(f"预警 #{alert.id} 的状态刚刚已被他人更改，请查看最新状态。")
    alert.status = to
    entry = _entry(alert, action, user, note, frm=frm, to=to, now=now)
    audit.record(
        f"alert.{action.value}",
        user=user,
        alert_id=alert.id,
        kind=alert.kind.value,
        from_status=frm.value,
        to_status=to.value,
    )
    db.session.flush()
    return entry


def add_note(alert: Alert, user: User, text: str) -> AlertNote:
    """A note on the alert's log (any status: a resolved alert can still be annotated)."""
    _check_worker(user)
    text = (text or "").strip()
    if not text:
        raise AlertMoveError("请填写备注内容。", conflict=False)
    if len(text) > NOTE_MAX:
        raise AlertMoveError(f"备注不能超过 {NOTE_MAX} 个字。", conflict=False)
    entry = _entry(alert, AlertAction.NOTE, user, text, now=utcnow())
    audit.record("alert.note", user=user, alert_id=alert.id, kind=alert.kind.value)
    db.session.flush()
    return entry


def _entry(alert: Alert, action: AlertAction, user: User, text: str, *, now, frm=None, to=None) -> AlertNote:
    entry = AlertNote(
        alert_id=alert.id,
        action=action,
        from_status=frm.value if frm else None,
        to_status=to.value if to else None,
        author_id=user.id,
        author_label=author_label(user),
        text=text,
        created_at=now,
    )
    db.session.add(entry)
    return entry


def notes_of(alert_id: int) -> list[AlertNote]:
    return list(
        db.session.scalars(
            sa.select(AlertNote)
            .where(AlertNote.alert_id == alert_id)
            .order_by(AlertNote.created_at, AlertNote.id)
        )
    )
