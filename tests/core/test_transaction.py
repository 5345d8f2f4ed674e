from flask import Blueprint, abort
from sqlalchemy import select

from app.core.audit import AuditEvent
from app.core.transaction import after_commit
from app.extensions import db


def test_after_commit_runs_only_after_commit(app, db_session):
    ran = []
    after_commit(lambda: ran.append("x"))
    db_session.flush()
    assert ran == []
    db_session.commit()
    assert ran == ["x"]


def test_after_commit_is_dropped_on_rollback(app, db_session):
    ran = []
    after_commit(lambda: ran.append("x"))
    db_session.rollback()
    db_session.commit()
    assert ran == []


def _probe_blueprint() -> Blueprint:
    bp = Blueprint(f"probe_{id(object())}", __name__)

    @bp.post("/_probe/ok")
    def ok():
        db.session.add(AuditEvent(action="probe.ok"))
        return "ok"

    @bp.post("/_probe/fail")
    def fail():
        db.session.add(AuditEvent(action="probe.fail"))
        db.session.flush()
        abort(409, "冲突")

    return bp


def test_request_commits_on_success_and_rolls_back_on_error(app, db_session):
    # A throwaway app on the same database, so the probe routes don't leak into other tests.
    from app import create_app
    from app.extensions import csrf

    probe_app = create_app(type("ProbeConfig", (), {**{k: app.config[k] for k in app.config if k.isupper()}}))
    bp = _probe_blueprint()
    csrf.exempt(bp)
    probe_app.register_blueprint(bp)
    engines = db._app_engines[app]
    db._app_engines[probe_app][None] = engines[None]  # share the test's rolled-back connection
    client = probe_app.test_client()
    assert client.post("/_probe/ok").status_code == 200
    assert client.post("/_probe/fail").status_code == 409
    actions = db_session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("probe.%"))).all()
    assert actions == ["probe.ok"]
