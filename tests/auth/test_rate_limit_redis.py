"""Production keeps rate-limit counters in Redis, shared by every app process."""

import os
import uuid

from flask_migrate import upgrade

from app import create_app
from app.extensions import db
from tests import factories
from tests.conftest import csrf_from, make_test_config

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def test_login_limit_is_shared_through_redis(tmp_path):
    config = make_test_config(
        f"sqlite:///{tmp_path / 'limits.sqlite3'}",
        RATELIMIT_STORAGE_URI=REDIS_URL,
        RATELIMIT_KEY_PREFIX=f"test-{uuid.uuid4().hex[:8]}",
        LOGIN_RATE_LIMIT="3 per minute",
    )
    # Two app instances stand for two server processes sharing one Redis.
    first, second = create_app(config), create_app(config)
    with first.app_context():
        upgrade()
        user = factories.user()
        db.session.commit()
        username = user.username
    for application in (first, second, first):
        client = application.test_client()
        token = csrf_from(client)
        response = client.post(
            "/login", data={"username": username, "password": "bad-password-1", "csrf_token": token}
        )
        assert response.status_code == 200
    client = second.test_client()
    token = csrf_from(client)
    response = client.post(
        "/login", data={"username": username, "password": factories.PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 429
