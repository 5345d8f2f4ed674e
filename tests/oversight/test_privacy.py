"""Privacy of the public notices and open data: the people of an order are never published.

An order carries personal data — its contact's name and phone number, the delivery address, the
buyer, free text (notes, split reasons, acceptance notes, evaluation comments) — and its
organizations may have a phone number that is somebody's mobile. Every public page, both
downloads and the OCDS package are scanned for each of them; the same scan proves the order
itself *is* there, so a blank page cannot pass.
"""

from __future__ import annotations

import io
import json
import zipfile

import sqlalchemy as sa
from openpyxl import load_workbook

from app.auth.models import Organization, Role, User
from app.auth.passwords import hash_password
from app.demo.generate import DEMO_PASSWORD
from app.demo.load import load_demo
from app.extensions import db
from app.orders import services
from app.orders.lifecycle import Actor, transition
from app.orders.models import Order
from app.orders.models import OrderStatus as S
from tests.conftest import login
from tests.orders.helpers import shop
from tests.oversight.test_notices import advance, confirm, place, supplier_user

PERSONAL = {
    "contact_name": "联系人赵隐私",
    "contact_phone": "13912345678",
    "delivery_address": "幸福路 88 号 3 栋 502 室",
    "note": "到货请找王秘书 13800001111",
    "split_reason": "拆单说明：孙某某经办",
}
BUYER_NAME = "采购员钱隐私"
OTHER_TEXT = {
    "tracking": "SF-PRIVATE-778899",
    "acceptance": "验收人周隐私签收",
    "serial": "SN-PRIV-0001",
    "evaluation": "送货员吴隐私态度好",
    "unit_phone": "010-55550199",
    "supplier_phone": "13700009999",
}


def public_outputs(client, number: str, query: str = "") -> dict[str, str]:
    """Everything the public can read about the transactions, as text."""
    outputs = {}
    for name, url in {
        "list": f"/notices/?{query}",
        "detail": f"/notices/{number}",
        "csv": f"/notices/export.csv?{query}",
        "ocds": "/open-data/ocds/releases.json",
    }.items():
        response = client.get(url)
        assert response.status_code == 200, url
        outputs[name] = response.get_data().decode("utf-8-sig")
    xlsx = client.get(f"/notices/export.xlsx?{query}")
    assert xlsx.status_code == 200
    data = xlsx.get_data()
    sheet = load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
    outputs["xlsx cells"] = "\n".join(
        "\t".join("" if v is None else str(v) for v in row) for row in sheet.iter_rows(values_only=True)
    )
    with zipfile.ZipFile(io.BytesIO(data)) as archive:  # every part, metadata included
        outputs["xlsx parts"] = "\n".join(archive.read(name).decode("utf-8") for name in archive.namelist())
    # The package's strings as a reader sees them (JSON could escape non-ASCII).
    outputs["ocds strings"] = json.dumps(json.loads(outputs["ocds"]), ensure_ascii=False)
    return outputs


def assert_absent(outputs: dict[str, str], secrets: list[str]) -> None:
    found = [(where, secret) for where, text in outputs.items() for secret in secrets if secret in text]
    assert found == []


def test_no_personal_data_in_public_pages_downloads_or_open_data(app, client, db_session):
    s = shop()
    s.unit.contact_phone = OTHER_TEXT["unit_phone"]
    s.suppliers[0].contact_phone = OTHER_TEXT["supplier_phone"]
    s.purchaser.display_name = BUYER_NAME
    db.session.flush()
    order = place(s, quantity=2, **PERSONAL)
    confirm(s, order)
    advance(s, order, S.SHIPPED)
    order.tracking_number = OTHER_TEXT["tracking"]
    advance(s, order, S.DELIVERED)
    received = [
        services.ReceivedLine(line.id, line.quantity, [OTHER_TEXT["serial"], "SN-PRIV-0002"], line.model)
        for line in order.lines
    ]
    services.record_acceptance(
        order, s.purchaser, accept=True, received=received, note=OTHER_TEXT["acceptance"]
    )
    services.evaluate(order, s.purchaser, quality=5, delivery=4, service=5, comment=OTHER_TEXT["evaluation"])
    db.session.flush()
    assert (order.contact_name, order.note, order.split_reason) == (
        PERSONAL["contact_name"],
        PERSONAL["note"],
        PERSONAL["split_reason"],
    )
    assert (
        order.acceptance.note == OTHER_TEXT["acceptance"]
        and order.evaluation.comment == OTHER_TEXT["evaluation"]
    )

    secrets = [*PERSONAL.values(), BUYER_NAME, s.purchaser.username, *OTHER_TEXT.values()]
    for query in ("", f"unit={s.unit.id}"):
        outputs = public_outputs(client, order.number, query)
        for where in ("list", "detail", "csv", "xlsx cells", "ocds"):
            assert order.number in outputs[where], where  # the order is there …
            assert s.unit.name in outputs[where], where
        assert_absent(outputs, secrets)  # … its people are not

    # Logged in as the buyer, the public pages show no more than to anyone.
    own = app.test_client()
    login(own, s.purchaser.username)
    for url in ("/notices/", f"/notices/{order.number}"):
        page = own.get(url).get_data(as_text=True)
        assert order.number in page
        # The buyer's own name is in the page header when logged in, so it is not checked here.
        assert_absent({url: page}, [*PERSONAL.values(), *OTHER_TEXT.values()])


def test_refusal_and_return_notes_never_reach_the_public(client, db_session):
    """Orders that stay public after a refusal or a return: their people and notes stay private."""
    s = shop()
    backed_out = confirm(s, place(s, **PERSONAL))
    transition(
        backed_out, S.REJECTED, Actor.of_user(supplier_user(s, backed_out)), note="拒绝说明：联系李隐私"
    )
    returned = advance(s, confirm(s, place(s, 1, **PERSONAL)), S.SHIPPED, S.DELIVERED)
    transition(returned, S.RETURNED, Actor.of_user(s.purchaser), note="退货说明：请致电 13911112222")
    db.session.flush()
    outputs = public_outputs(client, returned.number)
    assert returned.number in outputs["list"] and returned.number in outputs["csv"]  # the return is public
    assert_absent(outputs, ["拒绝说明：联系李隐私", "退货说明", "13911112222", *PERSONAL.values()])


def test_no_personal_data_of_the_demo_people(client, db_session):
    """The demo's people (real-looking names) and the orders they placed through the checkout: they
    are the orders' contacts, with their phones and delivery addresses."""
    load_demo(password_hash=hash_password(DEMO_PASSWORD))
    orders = db.session.scalars(sa.select(Order).where(Order.confirmed_at.is_not(None))).all()
    assert len(orders) >= 40

    people = db.session.scalars(sa.select(User).where(User.role != Role.SUPPLIER)).all()
    secrets = [user.display_name for user in people]
    secrets += [order.contact_phone for order in orders] + [order.delivery_address for order in orders]
    secrets += [order.note for order in orders]
    secrets += [phone for phone in db.session.scalars(sa.select(Organization.contact_phone)) if phone]
    assert len(set(user.display_name for user in people)) >= 10
    outputs = public_outputs(client, orders[0].number)
    assert all(order.number in outputs["csv"] for order in orders)
    assert sum(order.number in outputs["list"] for order in orders) == 20  # the list's first page
    assert_absent(outputs, [secret for secret in secrets if secret])
