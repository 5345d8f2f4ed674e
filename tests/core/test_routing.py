"""Ids in URLs are ids a row can have: a 20-digit id is a 404 on every route, not a driver error."""

from __future__ import annotations

import pytest

from app.auth.models import OrgKind, Role
from tests import factories
from tests.conftest import login

HUGE = "99999999999999999999"


@pytest.mark.parametrize("path", [f"/products/{HUGE}", f"/prices/{HUGE}", f"/api/v1/products/{HUGE}"])
def test_public_routes_answer_404_for_an_id_no_row_can_have(client, path):
    assert client.get(path).status_code == 404


def test_signed_in_routes_answer_404_too(client):
    login(client, factories.user(factories.org(OrgKind.PURCHASING_UNIT), Role.PURCHASER).username)
    for path in (f"/orders/{HUGE}", f"/plans/{HUGE}", f"/compare/records/{HUGE}"):
        assert client.get(path).status_code == 404, path
