"""A small catalogue whose every count is known, for the search contract."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from search.model import OfferDoc, ProductDoc

BASE = datetime(2026, 11, 1, tzinfo=UTC)
DESKTOP, LAPTOP, PAPER, MONITOR = "A02010105", "A02010108", "A05040101", "A02021104"
PATHS = {
    DESKTOP: ("A02000000", "A02010000", "A02010100", DESKTOP),
    LAPTOP: ("A02000000", "A02010000", "A02010100", LAPTOP),
    MONITOR: ("A02000000", "A02020000", "A02021100", MONITOR),
    PAPER: ("A05000000", "A05040000", "A05040100", PAPER),
}
NAMES = {DESKTOP: "台式计算机", LAPTOP: "便携式计算机", PAPER: "复印纸", MONITOR: "液晶显示器"}
BJ, JS, SH = "110000", "320000", "310000"


def offer(offer_id, supplier_id, price, regions=(BJ,), stock=5, sme=False):
    return OfferDoc(
        offer_id=offer_id,
        supplier_id=supplier_id,
        price=Decimal(price),
        regions=tuple(regions),
        stock=stock,
        supplier_sme=sme,
    )


def product(
    pid,
    category,
    brand,
    model,
    specs,
    offers,
    *,
    rating=4.0,
    days=0,
    energy=False,
    env=False,
    active=True,
    version=1,
    extra_text="",
):
    name = f"{brand} {model} {NAMES[category]}"
    text = " ".join(
        [name, NAMES[category], extra_text, *(str(v) for v in specs.values() if not isinstance(v, bool))]
    )
    return ProductDoc(
        product_id=pid,
        version=version,
        active=active,
        category_code=category,
        category_path=PATHS[category],
        brand=brand,
        model=model,
        name=name,
        text=text,
        specs=specs,
        energy_saving=energy,
        environmental=env,
        origin="domestic",
        rating=rating,
        listed_at=BASE - timedelta(days=days),
        offers=tuple(offers),
    )


def contract_docs() -> list[ProductDoc]:
    return [
        # Product 1: one cheap offer in Beijing out of stock, one dear offer in Jiangsu in stock.
        product(
            1,
            DESKTOP,
            "联想",
            "开天M740J",
            {"memory_gb": 16, "cpu": "兆芯KX-7000", "os": "统信UOS"},
            [offer(101, 1, "3999.00", [BJ], stock=0), offer(102, 2, "5999.00", [JS], stock=8, sme=True)],
            rating=4.5,
            days=10,
            energy=True,
        ),
        product(
            2,
            DESKTOP,
            "联想",
            "ThinkCentre M750t",
            {"memory_gb": 8, "cpu": "i5-13500", "os": "Windows 11 专业版"},
            [
                offer(201, 1, "4599.00", [BJ, JS]),
                offer(202, 3, "4499.00", [SH], sme=True),
                offer(203, 4, "4499.00", [BJ]),
            ],
            rating=4.0,
            days=5,
        ),
        product(
            3,
            DESKTOP,
            "惠普",
            "EliteDesk 800 G9",
            {"memory_gb": 32, "cpu": "i7-13700", "os": "Windows 11 专业版"},
            [offer(301, 2, "7999.00", [JS])],
            rating=3.5,
            days=1,
            env=True,
        ),
        product(
            4,
            LAPTOP,
            "华为",
            "MateBook 14",
            {"memory_gb": 16, "screen_inch": 14.2, "cpu": "i7-1360P"},
            [offer(401, 1, "6999.00", [BJ]), offer(402, 2, "6899.00", [BJ, JS])],
            rating=4.8,
            days=3,
            energy=True,
        ),
        product(
            5,
            LAPTOP,
            "联想",
            "ThinkPad X1 Carbon",
            {"memory_gb": 32, "screen_inch": 15.6, "cpu": "i7-1360P"},
            [offer(501, 3, "11999.00", [SH])],
            rating=4.9,
            days=20,
        ),
        product(
            6,
            MONITOR,
            "AOC",
            "24B2XH",
            {"screen_inch": 23.8},
            [offer(601, 4, "699.00", [BJ])],
            rating=3.0,
            days=2,
            extra_text="会议笔记板 配套",
        ),
        product(
            7,
            PAPER,
            "得力",
            "A4 70g 8包",
            {"paper_size": "A4", "grammage": 70},
            [offer(701, 5, "189.00", [BJ, JS, SH], sme=True), offer(702, 4, "199.00", [BJ])],
            rating=4.1,
            days=7,
            env=True,
        ),
        product(
            8,
            PAPER,
            "晨光",
            "A3 80g 5包",
            {"paper_size": "A3", "grammage": 80},
            [offer(801, 5, "239.00", [JS], sme=True)],
            rating=3.9,
            days=30,
        ),
        # Not searchable: delisted (inactive) and a product without listed offers.
        product(
            9, DESKTOP, "戴尔", "OptiPlex 7010", {"memory_gb": 16}, [offer(901, 2, "4999.00")], active=False
        ),
        product(10, DESKTOP, "长城", "世恒TN", {"memory_gb": 8}, []),
    ]


SEARCHABLE = {1, 2, 3, 4, 5, 6, 7, 8}
