"""A real HTTP server for browser tests: the app on a fresh SQLite file, in a background thread.

Browser tests cannot use the rollback-per-test session (the browser talks to another thread over
HTTP), so the data here is committed for real into a database that lives only for the test run.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from flask import Flask
from flask_migrate import upgrade
from werkzeug.serving import BaseWSGIServer, make_server

from app import create_app
from app.auth.models import OrgKind, Role
from app.catalog.models import Attribute, Category
from app.catalog.registry import REGISTRY_BY_CODE, _row_values
from app.extensions import db
from tests import factories
from tests.conftest import make_test_config

PASSWORD = factories.PASSWORD


@dataclass
class Seeded:
    purchaser_username: str = "buyer01"
    purchaser_name: str = "王采购"
    unit_name: str = "市财政局办公室"
    supplier_username: str = "vendor01"
    supplier_name: str = "北京华信科技有限公司"
    operator_username: str = "operator01"
    approver_username: str = "approver01"
    other_supplier_username: str = "vendor02"
    plan_name: str = "2026年办公设备购置"
    # A leaf with an attribute registry and no goods yet: catalog uploads start from it.
    upload_category_code: str = "A02021104"
    leaf_names: list[str] = field(default_factory=list)


def _category(
    code: str, name: str, level: int, parent: Category | None = None, leaf: bool = True
) -> Category:
    record = Category(code=code, name=name, level=level, parent=parent, is_leaf=leaf, kind="goods")
    db.session.add(record)
    db.session.flush()
    return record


def seed(seeded: Seeded) -> None:
    """A purchasing unit with a purchaser, two suppliers, and listed goods in two branches."""
    unit = factories.org(OrgKind.PURCHASING_UNIT, code="UNIT0001", name=seeded.unit_name)
    factories.user(
        unit, Role.PURCHASER, username=seeded.purchaser_username, display_name=seeded.purchaser_name
    )
    factories.user(unit, Role.APPROVER, username=seeded.approver_username, display_name="陈审批")
    supplier_a = factories.org(OrgKind.SUPPLIER, code="SUP0001", name=seeded.supplier_name, is_sme=True)
    supplier_b = factories.org(OrgKind.SUPPLIER, code="SUP0002", name="中科办公设备有限公司")
    factories.user(supplier_a, Role.SUPPLIER, username=seeded.supplier_username, display_name="李供应")
    factories.user(supplier_b, Role.SUPPLIER, username=seeded.other_supplier_username, display_name="周供应")

    equipment = _category("A02000000", "设备", 1, leaf=False)
    it = _category("A02010000", "信息化设备", 2, equipment, leaf=False)
    computers = _category("A02010100", "计算机", 3, it, leaf=False)
    desktops = _category("A02010105", "台式计算机", 4, computers)
    laptops = _category("A02010108", "便携式计算机", 4, computers)
    office = _category("A02020000", "办公设备", 2, equipment, leaf=False)
    printers = _category("A02020400", "打印设备", 3, office, leaf=False)
    laser = _category("A02020401", "A4黑白打印机", 4, printers)
    furniture = _category("A05000000", "家具和用具", 1, leaf=False)
    furniture2 = _category("A05010000", "家具", 2, furniture, leaf=False)
    desks = _category("A05010200", "台、桌类", 3, furniture2)
    seeded.leaf_names = [desktops.name, laptops.name, laser.name, desks.name]
    io_devices = _category("A02021100", "输入输出设备", 3, office, leaf=False)
    monitors = _category(seeded.upload_category_code, "液晶显示器", 4, io_devices)
    registry = REGISTRY_BY_CODE[monitors.code]
    for index, definition in enumerate(registry.attributes, start=1):
        monitors.attributes.append(Attribute(code=definition.code, **_row_values(definition, index * 10)))
    operator = factories.org(OrgKind.OPERATOR, code="OPS0001", name="市政府采购中心")
    factories.user(operator, Role.OPERATOR, username=seeded.operator_username, display_name="赵运营")

    factories.plan(
        unit,
        plan_no="PLAN-2026-00001",
        name=seeded.plan_name,
        amount=Decimal("200000.00"),
        categories=[desktops, laptops, laser, desks],
    )

    goods = [
        (desktops, "联想", "启天 M455", Decimal("4899.00")),
        (desktops, "华为", "擎云 B730E", Decimal("5299.00")),
        (laptops, "联想", "昭阳 K4e", Decimal("5999.00")),
        (laser, "奔图", "P3305DN", Decimal("1499.00")),
        (desks, "震旦", "ADT-1608", Decimal("1280.00")),
    ]
    for category, brand, model, price in goods:
        name = f"{brand} {model} {category.name}"
        product = factories.product(
            category, brand=brand, model=model, name=name, energy_saving=category is not desks
        )
        market = price + Decimal("300.00")
        factories.offer(product, supplier_a, price=price, market_price=market, stock=100)
        factories.offer(product, supplier_b, price=price + Decimal("120.00"), market_price=market, stock=100)


class LiveServer:
    def __init__(self, app: Flask, server: BaseWSGIServer, seeded: Seeded):
        self.app = app
        self.server = server
        self.seeded = seeded
        self.url = f"http://127.0.0.1:{server.server_port}"
        self._thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)

    def start(self) -> LiveServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self._thread.join(timeout=10)
        self.server.server_close()
        with self.app.app_context():
            db.engine.dispose()


def start_live_server(workdir: Path) -> LiveServer:
    config = make_test_config(
        f"sqlite:///{workdir / 'browser.sqlite3'}",
        LOGIN_RATE_LIMIT="1000 per minute",  # every test logs in; the limit has its own tests
        SEARCH_INDEX_DIR=str(workdir / "search"),
        UPLOAD_DIR=str(workdir / "uploads"),
        CATALOG_IMPORT_IN_THREAD=True,  # as the development server runs it: the page polls the job
    )
    app = create_app(config)
    seeded = Seeded()
    with app.app_context():
        upgrade()
        seed(seeded)
        db.session.commit()
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    return LiveServer(app, server, seeded).start()
