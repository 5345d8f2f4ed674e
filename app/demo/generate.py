"""Generate the demo data set in memory: pure Python, no database, no clock.

One ``random.Random(seed)`` drives every choice, candidates are enumerated from tuples in a fixed
order, and every timestamp is derived from :data:`BASE_TIME`, so the same seed always yields the
same organizations, plans, products, offers and price histories. Specs are always the values
coerced by ``catalog_import.specs.validate_specs`` against the category's registry.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from app.auth.models import OrgKind, Role
from app.catalog.registry import REGISTRY_BY_CODE, registry_specs
from app.catalog.services import normalize_key
from app.core.money import CENT, to_money
from app.demo import data as d
from catalog_import.specs import validate_specs

DEFAULT_SEED = 20261101
BASE_TIME = datetime(2026, 11, 1, tzinfo=UTC)  # "now" of the demo data set
DEMO_PASSWORD = "Demo-2026-pass"  # noqa: S105 - the published password of the demo accounts

# ---------------------------------------------------------------------------------------------
# The data set.


@dataclass(frozen=True)
class OrgDraft:
    code: str
    name: str
    kind: OrgKind
    credit_code: str
    region_code: str
    is_sme: bool
    contact_phone: str


@dataclass(frozen=True)
class UserDraft:
    username: str
    display_name: str
    role: Role
    org_code: str


@dataclass(frozen=True)
class PlanDraft:
    plan_no: str
    unit_code: str
    name: str
    fiscal_year: int
    budget_line_code: str
    fund_source: str
    amount: Decimal
    category_codes: tuple[str, ...]
    approved_at: datetime


@dataclass(frozen=True)
class PriceDraft:
    price: Decimal
    market_price: Decimal
    changed_at: datetime


@dataclass(frozen=True)
class OfferDraft:
    supplier_code: str
    supplier_sku: str
    dedup_key: str
    price: Decimal
    market_price: Decimal
    market_price_source: str
    stock: int
    regions: tuple[str, ...]
    warranty_months: int
    lead_time_days: int
    status: str  # OfferStatus value
    created_at: datetime
    listed_at: datetime | None
    history: tuple[PriceDraft, ...]  # oldest first; the last one is the current price


@dataclass(frozen=True)
class ProductDraft:
    category_code: str
    brand: str
    model: str
    manufacturer: str
    name: str
    dedup_key: str
    specs: dict[str, Any]
    energy_saving: bool
    environmental: bool
    origin: str  # Origin value
    description: str
    market_price: Decimal
    created_at: datetime


@dataclass
class DemoData:
    organizations: list[OrgDraft] = field(default_factory=list)
    users: list[UserDraft] = field(default_factory=list)
    plans: list[PlanDraft] = field(default_factory=list)
    products: list[ProductDraft] = field(default_factory=list)
    offers: list[OfferDraft] = field(default_factory=list)

    def digest(self) -> str:
        """A stable fingerprint of the catalogue part (products with specs, offers with prices)."""
        h = hashlib.sha256()
        for p in self.products:
            h.update(repr((p.dedup_key, sorted(p.specs.items()), str(p.market_price))).encode())
        for o in self.offers:
            h.update(repr((o.supplier_code, o.supplier_sku, o.dedup_key, str(o.price), o.status)).encode())
        return h.hexdigest()


# ---------------------------------------------------------------------------------------------
# Credit codes (统一社会信用代码, GB 32100-2015) with valid check characters.

_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def _org_code_check(body: str) -> str:
    """Check character of an 8-character organization code (GB 11714)."""
    total = sum(int(ch, 36) * w for ch, w in zip(body, _ORG_WEIGHTS, strict=True))
    value = 11 - total % 11
    return "X" if value == 10 else "0" if value == 11 else str(value)


def credit_code(authority_and_type: str, division: str, body8: str) -> str:
    """Build an 18-character code: 2 (registration authority + type) + 6 (division) + 9 (org code)
    + 1 (check)."""
    first17 = authority_and_type + division + body8 + _org_code_check(body8)
    total = sum(_USCC_ALPHABET.index(ch) * w for ch, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return first17 + _USCC_ALPHABET[(31 - total % 31) % 31]


def credit_code_is_valid(code: str) -> bool:
    if len(code) != 18 or any(ch not in _USCC_ALPHABET for ch in code):
        return False
    total = sum(_USCC_ALPHABET.index(ch) * w for ch, w in zip(code[:17], _USCC_WEIGHTS, strict=True))
    return code[17] == _USCC_ALPHABET[(31 - total % 31) % 31] and code[16] == _org_code_check(code[8:16])


# ---------------------------------------------------------------------------------------------
# Organizations, users, plans.


def _organizations(rng: random.Random) -> list[OrgDraft]:
    orgs = []
    for i, unit in enumerate(d.PURCHASING_UNITS, start=1):
        body = f"{rng.randrange(10**7, 10**8)}"
        orgs.append(
            OrgDraft(
                unit.code,
                unit.name,
                OrgKind.PURCHASING_UNIT,
                credit_code("11", d.CITY_DIVISION, body),
                d.CITY_REGION,
                False,
                f"025-5555{1000 + i:04d}",
            )
        )
    for i, supplier in enumerate(d.SUPPLIERS, start=1):
        body = f"{rng.randrange(10**7, 10**8)}"
        division = supplier.region_code[:2] + "0100"
        orgs.append(
            OrgDraft(
                supplier.code,
                supplier.name,
                OrgKind.SUPPLIER,
                credit_code("91", division, body),
                supplier.region_code,
                supplier.is_sme,
                f"400-555-{2000 + i:04d}",
            )
        )
    for staff in d.STAFF_ORGS:
        body = f"{rng.randrange(10**7, 10**8)}"
        orgs.append(
            OrgDraft(
                staff.code,
                staff.name,
                OrgKind(staff.kind),
                credit_code("11", d.CITY_DIVISION, body),
                d.CITY_REGION,
                False,
                staff.phone,
            )
        )
    return orgs


def _users() -> list[UserDraft]:
    users = []
    for i, unit in enumerate(d.PURCHASING_UNITS, start=1):
        users.append(UserDraft(f"buyer{i}", unit.purchaser, Role.PURCHASER, unit.code))
        users.append(UserDraft(f"approver{i}", unit.approver, Role.APPROVER, unit.code))
    for i, supplier in enumerate(d.SUPPLIERS, start=1):
        users.append(UserDraft(f"supplier{i}", supplier.contact, Role.SUPPLIER, supplier.code))
    for staff in d.STAFF_ORGS:
        users.append(UserDraft(staff.username, staff.person, Role(staff.kind), staff.code))
    return users


def _plans(rng: random.Random) -> list[PlanDraft]:
    plans = []
    seq = 0
    for unit in d.PURCHASING_UNITS:
        count = rng.choice((2, 2, 3))
        themes = sorted(rng.sample(range(len(d.PLAN_THEMES)), count))
        for index in themes:
            theme = d.PLAN_THEMES[index]
            seq += 1
            amount = Decimal(rng.randrange(theme.min_amount, theme.max_amount + 1, 10_000)).quantize(CENT)
            plans.append(
                PlanDraft(
                    plan_no=f"{d.PLAN_PREFIX}-{d.FISCAL_YEAR}-CG-{seq:04d}",
                    unit_code=unit.code,
                    name=f"{unit.short}{d.FISCAL_YEAR}年度{theme.title}",
                    fiscal_year=d.FISCAL_YEAR,
                    budget_line_code=f"{unit.budget_function}-{d.FISCAL_YEAR}-{seq:03d}",
                    fund_source=rng.choice(d.FUND_SOURCES),
                    amount=amount,
                    category_codes=theme.categories,
                    approved_at=datetime(d.FISCAL_YEAR, 1, 10, 2, tzinfo=UTC)
                    + timedelta(days=rng.randrange(0, 75)),
                )
            )
    return plans


# ---------------------------------------------------------------------------------------------
# Product candidates per category.


@dataclass(frozen=True)
class Raw:
    """One candidate product before validation and pricing."""

    maker: str  # key of data.MAKERS
    model: str
    title: str  # the series/model part of the display name
    summary: str  # the parenthesised key specs in the display name ("" for none)
    specs: dict[str, Any]
    price: float  # reference market price before jitter and clamping
    origin: str = "domestic"


BRAND_OF_MAKER = {"华为网络": "华为", "华为数字能源": "华为"}


def brand_of(maker: str) -> str:
    return BRAND_OF_MAKER.get(maker, maker)


def _fmt(number: float) -> str:
    return f"{number:g}"


_CPU_PREFIXES = (
    ("英特尔酷睿Ultra ", "Ultra"),
    ("英特尔酷睿", ""),
    ("英特尔至强银牌", ""),
    ("英特尔至强金牌", ""),
    ("英特尔至强", ""),
    ("AMD锐龙", "R"),
    ("AMD ", ""),
    ("兆芯", ""),
    ("飞腾", ""),
    ("龙芯", ""),
    ("海光", "HG"),
    ("麒麟", ""),
    ("鲲鹏", ""),
)


def cpu_code(cpu: str) -> str:
    for prefix, replacement in _CPU_PREFIXES:
        if cpu.startswith(prefix):
            cpu = replacement + cpu[len(prefix) :]
            break
    return cpu.replace(" ", "-").replace("/", "-")


OS_CODES = {
    d.UOS: "UOS",
    d.KYLIN: "KY",
    d.WIN: "W11",
    d.KYLIN_S: "KY-V10",
    d.UOS_S: "UOS-V20",
    d.EULER: "openEuler",
    d.WIN_S: "WS2022",
    d.NO_OS: "无OS",
}
DESKTOP_STORAGE = (
    ("256G SSD", 256, "SSD", -150),
    ("512G SSD", 512, "SSD", 0),
    ("1T SSD", 1024, "SSD", 350),
    ("1T HDD", 1000, "HDD", -100),
    ("512G SSD+1T HDD", 1512, "SSD+HDD", 300),
)
MEMORY_DELTA = {8: -350, 16: 0, 32: 750}
MONITOR_DELTA = {0: 0, 21.5: 550, 23.8: 750, 27: 1150}


def _desktops() -> list[Raw]:
    out = []
    for line in d.DESKTOP_LINES:
        for ci, cpu in enumerate(line.cpus):
            for mem in line.memories:
                for label, gb, kind, storage_delta in DESKTOP_STORAGE:
                    for screen in line.screens:
                        for os_name in line.oses:
                            parts = [cpu_code(cpu), f"{mem}G", label, OS_CODES[os_name]]
                            summary = [
                                cpu,
                                f"{mem}GB",
                                label.replace("G ", "GB ").replace("T ", "TB "),
                                os_name,
                            ]
                            if screen:
                                parts.append(f"{_fmt(screen)}英寸")
                                screen_kind = "一体屏" if line.form == "一体机" else "显示器"
                                summary.append(f"{_fmt(screen)}英寸{screen_kind}")
                            screen_delta = MONITOR_DELTA[screen] - (750 if line.form == "一体机" else 0)
                            price = (
                                line.base
                                + ci * 700
                                + MEMORY_DELTA[mem]
                                + storage_delta
                                + screen_delta
                                + (300 if os_name == d.WIN else 0)
                            )
                            specs = {
                                "cpu": cpu,
                                "memory_gb": mem,
                                "storage_gb": gb,
                                "storage_type": kind,
                                "os": os_name,
                                "form_factor": line.form,
                                "screen_inch": screen or None,
                            }
                            out.append(
                                Raw(
                                    line.brand,
                                    f"{line.series}({'/'.join(parts)})",
                                    line.series,
                                    "/".join(summary),
                                    specs,
                                    price,
                                    line.origin,
                                )
                            )
    return out


def _laptops() -> list[Raw]:
    out = []
    for line in d.LAPTOP_LINES:
        for ci, cpu in enumerate(line.cpus):
            for mem in line.memories:
                for ssd in (256, 512, 1024):
                    for screen in line.screens:
                        for battery in line.battery:
                            for os_name in line.oses:
                                ssd_label = "1T" if ssd == 1024 else f"{ssd}G"
                                parts = [cpu_code(cpu), f"{mem}G", f"{ssd_label} SSD", OS_CODES[os_name]]
                                if len(line.screens) > 1:
                                    parts.append(f"{_fmt(screen)}英寸")
                                if len(line.battery) > 1:
                                    parts.append(f"{battery}Wh")
                                big = len(line.screens) > 1 and screen >= 15
                                weight = round(line.weight + (0.28 if big else 0), 2)
                                price = (
                                    line.base
                                    + ci * 900
                                    + {8: -400, 16: 0, 32: 1000}[mem]
                                    + {256: -250, 512: 0, 1024: 500}[ssd]
                                    + (200 if big else 0)
                                    + (250 if battery != line.battery[0] else 0)
                                )
                                specs = {
                                    "cpu": cpu,
                                    "memory_gb": mem,
                                    "storage_gb": ssd,
                                    "screen_inch": screen,
                                    "os": os_name,
                                    "weight_kg": weight,
                                    "battery_wh": battery,
                                }
                                summary = f"{cpu}/{mem}GB/{ssd_label}B SSD/{_fmt(screen)}英寸/{os_name}"
                                model = f"{line.series}({'/'.join(parts)})"
                                out.append(
                                    Raw(line.brand, model, line.series, summary, specs, price, line.origin)
                                )
    return out


SERVER_CPU_PRICE = {
    "海光7380": 12000,
    "海光5380": 7000,
    "鲲鹏920 4826": 9000,
    "鲲鹏920 7260": 15000,
    "飞腾S2500": 11000,
    "英特尔至强E-2434": 3000,
    "英特尔至强银牌4410Y": 6000,
    "英特尔至强金牌5418Y": 9000,
    "英特尔至强金牌6430": 14000,
    "AMD EPYC 9354": 16000,
}
SERVER_STORAGE = (
    ("2×480G SSD", 960, 1500),
    ("2×960G SSD", 1920, 3000),
    ("4×1.2T SAS", 4800, 4200),
    ("4×1.92T SSD", 7680, 9000),
    ("4×4T SATA", 16000, 6000),
)
SERVER_CHASSIS = {"1U机架式": 8000, "2U机架式": 10000, "4U机架式": 14000, "塔式": 5000}
SERVER_OS_PRICE = {d.KYLIN_S: 2000, d.UOS_S: 2000, d.EULER: 0, d.WIN_S: 5500, d.NO_OS: 0}


def _servers() -> list[Raw]:
    out = []
    for line in d.SERVER_LINES:
        tower = line.form == "塔式"
        memories = (16, 32, 64) if tower else (32, 64, 128, 256, 512)
        for cpu in line.cpus:
            for count in range(1, line.max_cpus + 1):
                for mem in memories:
                    for label, gb, storage_price in SERVER_STORAGE:
                        for os_name in line.oses:
                            code = f"{count}×{cpu_code(cpu)}/{mem}G/{label}/{OS_CODES[os_name]}"
                            price = (
                                SERVER_CHASSIS[line.form]
                                + count * SERVER_CPU_PRICE[cpu]
                                + mem * 30
                                + storage_price
                                + SERVER_OS_PRICE[os_name]
                            )
                            specs = {
                                "cpu": cpu,
                                "cpu_count": count,
                                "memory_gb": mem,
                                "storage_gb": gb,
                                "form_factor": line.form,
                                "os": os_name,
                                "redundant_psu": not tower,
                            }
                            disks = label.replace("G ", "GB ").replace("T ", "TB ")
                            summary = f"{count}×{cpu}/{mem}GB/{disks}/{os_name}"
                            out.append(
                                Raw(
                                    line.brand,
                                    f"{line.series}({code})",
                                    line.series,
                                    summary,
                                    specs,
                                    price,
                                    line.origin,
                                )
                            )
    return out


MONITOR_SIZE_CODES = {21.5: "22", 23.8: "24", 27: "27", 31.5: "32"}
MONITOR_SIZE_PRICE = {21.5: 600, 23.8: 780, 27: 1050, 31.5: 1600}
MONITOR_RES_PRICE = {"1920×1080": 0, "2560×1440": 500, "3840×2160": 1300}
MONITOR_INTERFACES = ("HDMI+VGA", "HDMI+DP", "HDMI+DP+VGA", "HDMI+DP+USB-C")


def _monitors() -> list[Raw]:
    out = []
    for line in d.MONITOR_LINES:
        for size in line.sizes:
            for si, suffix in enumerate(line.suffixes):
                model = line.pattern.format(size=MONITOR_SIZE_CODES[size], suffix=suffix)
                interfaces = MONITOR_INTERFACES[(si + len(line.pattern)) % len(MONITOR_INTERFACES)]
                usb_c = interfaces.endswith("USB-C")
                price = (
                    MONITOR_SIZE_PRICE[size]
                    + MONITOR_RES_PRICE[line.resolution]
                    + (200 if line.height_adjustable else 0)
                    + (150 if line.refresh_hz >= 100 else 0)
                    + (300 if usb_c else 0)
                ) * line.price_factor
                specs = {
                    "screen_inch": size,
                    "resolution": line.resolution,
                    "panel": line.panel,
                    "refresh_hz": line.refresh_hz,
                    "height_adjustable": line.height_adjustable,
                    "interfaces": interfaces,
                }
                summary = f"{_fmt(size)}英寸/{line.resolution}/{line.panel}/{line.refresh_hz}Hz"
                out.append(Raw(line.brand, model, model, summary, specs, price))
    return out


def _printer_features(line: d.PrinterLine, suffix: str) -> dict[str, bool]:
    s = suffix.upper()
    full = "X" in s or line.a3
    return {
        "duplex": "D" in s or "F" in s or full or line.inkjet,
        "network": any(ch in s for ch in "NWF") or full,
        "wifi": "W" in s or "X" in s,
        "fax": "F" in s or "X" in s,
        "adf": "F" in s or "X" in s or "A" in s or line.a3,
    }


def _printer_models(lines: tuple[d.PrinterLine, ...]):
    for line in lines:
        for number, ppm in line.numbers:
            for suffix in line.suffixes:
                yield line, number, ppm, suffix, line.pattern.format(n=number, suffix=suffix)


def _mono_printers() -> list[Raw]:
    out = []
    for line, _number, ppm, suffix, model in _printer_models(d.MONO_PRINTER_LINES):
        f = _printer_features(line, suffix)
        price = 500 + ppm * 45 + 250 * f["duplex"] + 250 * f["network"] + 150 * f["wifi"]
        price *= line.price_factor
        specs = {
            "print_speed_ppm": ppm,
            "duplex": f["duplex"],
            "network": f["network"],
            "wifi": f["wifi"],
            "max_resolution_dpi": line.dpi,
            "monthly_duty_pages": ppm * line.duty_per_ppm,
        }
        summary = "/".join(
            [
                f"{ppm}页/分钟",
                "自动双面" if f["duplex"] else "手动双面",
                "有线+无线网络" if f["wifi"] else "有线网络" if f["network"] else "USB",
            ]
        )
        out.append(Raw(line.brand, model, model, summary, specs, price, line.origin))
    return out


def _color_printers() -> list[Raw]:
    out = []
    for line, number, ppm, suffix, model in _printer_models(d.COLOR_PRINTER_LINES):
        f = _printer_features(line, suffix)
        if line.inkjet:
            f["network"] = f["wifi"] = not number.endswith("18")
            price = (900 + ppm * 55 + 300 * f["wifi"]) * line.price_factor
        else:
            price = 900 + ppm * 70 + 300 * f["duplex"] + 250 * f["network"] + 200 * f["wifi"]
            price *= line.price_factor
        specs = {
            "print_tech": "喷墨(墨仓式)" if line.inkjet else "激光",
            "print_speed_ppm": ppm,
            "duplex": f["duplex"],
            "network": f["network"],
            "wifi": f["wifi"],
            "max_resolution_dpi": line.dpi,
            "monthly_duty_pages": max(1000, ppm * line.duty_per_ppm),
        }
        summary = "/".join(
            [
                "墨仓式彩色喷墨" if line.inkjet else "彩色激光",
                f"{ppm}页/分钟",
                "自动双面" if f["duplex"] else "手动双面",
                "无线网络" if f["wifi"] else "有线网络",
            ]
        )
        out.append(Raw(line.brand, model, model, summary, specs, price, line.origin))
    return out


def _mfps() -> list[Raw]:
    out = []
    for line, number, ppm, suffix, model in _printer_models(d.MFP_LINES):
        f = _printer_features(line, suffix)
        a3 = line.a3 or (line.inkjet and number.startswith("15"))
        if line.inkjet:
            f.update(network=True, wifi=True, fax=number.endswith("58") or number.endswith("68"), adf=True)
        if line.a3:
            price = 6000 + ppm * 150 + 600 * f["fax"]
        else:
            price = (
                900
                + ppm * 55
                + 300 * f["duplex"]
                + 300 * f["network"]
                + 200 * f["wifi"]
                + 500 * f["fax"]
                + 400 * f["adf"]
                + (1500 + ppm * 30 if line.color else 0)
                + (2500 if a3 else 0)
            )
        price *= line.price_factor
        functions = "打印/复印/扫描/传真" if f["fax"] else "打印/复印/扫描"
        specs = {
            "functions": functions,
            "color_mode": "彩色" if line.color else "黑白",
            "paper_size": "A3" if a3 else "A4",
            "print_speed_ppm": ppm,
            "duplex": f["duplex"],
            "adf": f["adf"],
            "network": f["network"],
            "monthly_duty_pages": max(1000, ppm * line.duty_per_ppm),
        }
        summary = "/".join(
            [functions, "彩色" if line.color else "黑白", "A3" if a3 else "A4", f"{ppm}页/分钟"]
        )
        out.append(Raw(line.brand, model, model, summary, specs, price, line.origin))
    return out


def _copiers() -> list[Raw]:
    out = []
    for line in d.COPIER_LINES:
        for number, ppm, color in line.models:
            for config, dadf, capacity, memory in d.COPIER_CONFIGS:
                base = line.pattern.format(n=number)
                price = (
                    9000
                    + ppm * 420
                    + (6000 if color else 0)
                    + (3500 if dadf else 0)
                    + (2200 if capacity > 1100 else 0)
                ) * line.price_factor
                specs = {
                    "color_mode": "彩色" if color else "黑白",
                    "paper_size": "A3",
                    "print_speed_ppm": ppm,
                    "duplex": True,
                    "adf": dadf,
                    "memory_gb": memory,
                    "paper_capacity_sheets": capacity,
                }
                summary = f"A3{'彩色' if color else '黑白'}/{ppm}页/分钟/{config}"
                out.append(Raw(line.brand, f"{base}({config})", base, summary, specs, price, line.origin))
    return out


def _scanners() -> list[Raw]:
    out = []
    for line in d.SCANNER_LINES:
        for number, ppm in line.models:
            model = line.pattern.format(n=number)
            flatbed = line.scanner_type != "馈纸式"
            feeder = line.scanner_type != "平板式"
            network = line.networked or number.endswith("N") or number.endswith("W")
            price = (800 + ppm * 90 + (4000 if line.a3 else 0) + (600 if network else 0)) * line.price_factor
            specs = {
                "scanner_type": line.scanner_type,
                "paper_size": "A3" if line.a3 else "A4",
                "scan_speed_ppm": ppm,
                "duplex": feeder,
                "max_resolution_dpi": 1200 if flatbed else 600,
                "adf_capacity_sheets": (100 if ppm >= 60 else 50) if feeder else 0,
                "daily_duty_pages": ppm * 100 if ppm < 60 else ppm * 150,
                "network": network,
            }
            summary = f"{line.scanner_type}/{'A3' if line.a3 else 'A4'}/{ppm}页/分钟"
            out.append(Raw(line.brand, model, model, summary, specs, price, line.origin))
    return out


def _shredders() -> list[Raw]:
    out = []
    for line in d.SHREDDER_LINES:
        for i, (level, cut, sheets, bin_l, minutes, cards) in enumerate(d.SHREDDER_PROFILES):
            model = line.pattern.format(n=line.base_number + i * 3 + 1)
            price = (
                250 + sheets * 18 + bin_l * 12 + minutes * 12 + int(level[-1]) * 120 + (80 if cards else 0)
            ) * line.price_factor
            specs = {
                "security_level": level,
                "shred_type": cut,
                "sheets_per_pass": sheets,
                "bin_liters": bin_l,
                "continuous_minutes": minutes,
                "shred_cards": cards,
            }
            summary = f"{level}保密/{cut}/单次{sheets}张/{bin_l}升"
            out.append(Raw(line.brand, model, model, summary, specs, price, line.origin))
    return out


COLOR_CODES = {
    "胡桃木色": "W",
    "浅橡木色": "O",
    "白枫木色": "M",
    "灰白色": "H",
    "黑色": "B",
    "灰色": "G",
    "蓝色": "L",
}


def _desks() -> list[Raw]:
    out = []
    for line in d.DESK_LINES:
        for width, depth in d.DESK_SIZES[line.kind]:
            for color in line.colors:
                height = {"电动升降桌": 1250, "屏风工位": 1100}.get(line.kind, 750)
                model = f"{line.code}-{width // 100:02d}{depth // 100:02d}{COLOR_CODES[color]}"
                price = line.base * (0.6 * (width * depth) / (1400 * 700) + 0.4)
                specs = {
                    "desk_type": line.kind,
                    "material": line.material,
                    "width_mm": width,
                    "depth_mm": depth,
                    "height_mm": height,
                    "color": color,
                    "emission_class": line.emission,
                }
                summary = f"{width}×{depth}×{height}mm/{line.material}/{color}"
                out.append(
                    Raw(line.brand, model, f"{line.series} {line.kind}", summary, specs, price, line.origin)
                )
    return out


# (model code, label, adjustable armrests, lumbar support, gas lift, max load kg, price delta)
CHAIR_VARIANTS = (
    ("S", "标准款", False, False, "3级", 120, 0),
    ("E", "人体工学款", True, True, "4级", 150, 350),
)
FIXED_CHAIR = (("", "", False, False, "无气杆", 120, 0),)


def _chairs() -> list[Raw]:
    out = []
    for line in d.CHAIR_LINES:
        variants = CHAIR_VARIANTS if line.kind in ("职员椅", "主管椅") else FIXED_CHAIR
        for code, label, arm, lumbar, gas, load, delta in variants:
            for color in line.colors:
                model = f"{line.code}-{code}{COLOR_CODES[color]}"
                specs = {
                    "chair_type": line.kind,
                    "material": line.material,
                    "armrest_adjustable": arm,
                    "lumbar_support": lumbar,
                    "max_load_kg": load,
                    "gas_lift_class": gas,
                    "color": color,
                }
                title = f"{line.series}{label and ' ' + label} {line.kind}"
                summary = f"{line.material}/{color}" + ("/扶手可调/腰部支撑" if arm else "")
                out.append(Raw(line.brand, model, title, summary, specs, line.base + delta, line.origin))
    return out


def _cabinets() -> list[Raw]:
    out = []
    for line in d.CABINET_LINES:
        steel = line.material == "钢制"
        thicknesses = (0.6, 0.8) if steel else (None,)
        for width, depth, height in d.CABINET_SIZES[line.kind]:
            for thickness in thicknesses:
                for color in line.colors:
                    thick_code = f"-{int(thickness * 10):02d}" if thickness else ""
                    model = f"{line.code}-{height // 10}{thick_code}{COLOR_CODES[color]}"
                    price = line.base * (height / 1850) * (width / 900) * (1.18 if thickness == 0.8 else 1)
                    specs = {
                        "cabinet_type": line.kind,
                        "material": line.material,
                        "width_mm": width,
                        "depth_mm": depth,
                        "height_mm": height,
                        "steel_thickness_mm": thickness,
                        "lockable": True,
                        "color": color,
                    }
                    summary = f"{width}×{depth}×{height}mm/{line.material}"
                    if thickness:
                        summary += f"/{_fmt(thickness)}mm钢板"
                    out.append(
                        Raw(
                            line.brand,
                            model,
                            f"{line.series} {line.kind}",
                            summary,
                            specs,
                            price,
                            line.origin,
                        )
                    )
    return out


def _paper() -> list[Raw]:
    out = []
    for line in d.PAPER_LINES:
        for size, grammage, reams in d.PAPER_PACKS:
            area = 2 if size == "A3" else 1
            price = line.base_70 * area * (grammage / 70) * (reams / 5)
            specs = {
                "paper_size": size,
                "grammage": grammage,
                "sheets_per_ream": 500,
                "reams_per_box": reams,
                "recycled": line.recycled,
            }
            model = f"{line.series} {size} {grammage}g {reams}包/箱"
            summary = f"{size} {grammage}g 500张/包 {reams}包/箱"
            out.append(Raw(line.brand, model, line.series, summary, specs, price, line.origin))
    return out


COLOR_LETTERS = {"黑色": "BK", "青色": "C", "品红色": "M", "黄色": "Y"}


def _toner() -> list[Raw]:
    out = []
    for cart in d.CARTRIDGES:
        for color in cart.colors:
            letter = f" {COLOR_LETTERS[color]}" if len(cart.colors) > 1 else ""
            color_factor = 0.92 if color != "黑色" else 1.0
            base_specs = {"cartridge_kind": cart.kind, "color": color, "compatible_printer": cart.printers}
            if cart.original_brand in d.ORIGINAL_CARTRIDGE_BRANDS:
                specs = {**base_specs, "supply_type": "原装", "yield_pages": cart.yield_pages}
                out.append(
                    Raw(
                        cart.original_brand,
                        f"{cart.code}{letter}",
                        f"{cart.code}{letter}",
                        f"原装{color}/{cart.yield_pages}页",
                        specs,
                        cart.original_price * color_factor,
                    )
                )
            for brand, prefix in d.COMPATIBLE_BRANDS:
                recycled = brand == "天威" and cart.original_brand == "惠普" and color == "黑色"
                # Black toner also comes as a high-yield (高容) version; drums and colours do not.
                single = len(cart.colors) > 1 or cart.kind == "硒鼓"
                variants = ((False, 1.0),) if single else ((False, 1.0), (True, 1.8))
                for high, factor in variants:
                    model = f"{prefix}{cart.code}{letter}{' 高容版' if high else ''}"
                    supply = "再生" if recycled else "兼容"
                    pages = int(round(cart.yield_pages * factor, -2))
                    specs = {**base_specs, "supply_type": supply, "yield_pages": pages}
                    share = (0.32 if supply == "兼容" else 0.45) * (1.4 if high else 1)
                    price = cart.original_price * color_factor * share
                    summary = f"{supply}{color}/{pages}页/适用{cart.code}"
                    out.append(Raw(brand, model, model, summary, specs, price))
    return out


PROJECTOR_RES_PRICE = {d.XGA: 0, d.WXGA: 500, d.FHD: 1500, d.WUXGA: 4000, d.UHD: 4500}


def _projectors() -> list[Raw]:
    out = []
    for line in d.PROJECTOR_LINES:
        for number, resolution, lumens in line.models:
            for label, mount in d.PROJECTOR_VARIANTS:
                base = line.pattern.format(n=number)
                price = (
                    1200
                    + lumens * 0.75
                    + PROJECTOR_RES_PRICE[resolution]
                    + (4500 if line.light == "激光" else 0)
                    + (2500 if line.throw == "超短焦" else 0)
                    + (600 if mount else 0)
                ) * line.price_factor
                specs = {
                    "lumens": lumens,
                    "resolution": resolution,
                    "light_source": line.light,
                    "throw_type": line.throw,
                    "wifi": line.wifi,
                    "weight_kg": line.weight,
                }
                summary = f"{lumens}流明/{resolution}/{line.light}光源" + ("/含吊架及安装" if mount else "")
                out.append(Raw(line.brand, f"{base}{label}", base, summary, specs, price, line.origin))
    return out


def _ups() -> list[Raw]:
    out = []
    for line in d.UPS_LINES:
        for n in line.capacities:
            va = (n - 1100) * 1000 if 1100 < n < 1200 else n * 1000 if n < 300 else n  # 科华 YTR1103 = 3 kVA
            model = line.pattern.format(n=n)
            rate = {"后备式": 0.55, "在线互动式": 0.6}.get(line.topology, 0.9 if va <= 3000 else 0.75)
            options = (30, 60, 120) if line.long_backup else (5 if line.topology == "在线式" else 8,)
            for minutes in options:
                battery_price = minutes * va / 1000 * 12 if line.long_backup else 0
                price = (va * rate + battery_price + (600 if line.rack else 0)) * line.price_factor
                specs = {
                    "capacity_va": va,
                    "power_w": int(va * line.power_factor),
                    "topology": line.topology,
                    "backup_minutes": minutes,
                    "battery": "外接电池(长效机)" if line.long_backup else "内置电池(标准机)",
                    "rack_mount": line.rack,
                }
                full = f"{model}（延时{minutes}分钟）" if line.long_backup else model
                summary = f"{_fmt(va / 1000)}kVA/{line.topology}/满载{minutes}分钟"
                out.append(Raw(line.brand, full, full, summary, specs, price, line.origin))
    return out


UPLINK_CODES = {"无": "", "2个千兆SFP": "2S", "4个千兆SFP": "4S", "4个万兆SFP+": "4X", "6个万兆SFP+": "6X"}
POE_BUDGET = {8: 124, 16: 247, 24: 370, 48: 740}


def _switches() -> list[Raw]:
    out = []
    for line in d.SWITCH_LINES:
        for ports in line.ports:
            for uplink in line.uplinks:
                for poe in line.poe:
                    model = line.pattern.format(
                        ports=ports, poe="P" if poe else "T", uplink=UPLINK_CODES[uplink]
                    )
                    price = (
                        line.base * (ports / 24) ** 0.8
                        + (ports * 28 if poe else 0)
                        + (900 if "万兆" in uplink and line.speed != "万兆" else 0)
                    )
                    specs = {
                        "ports": ports,
                        "port_speed": line.speed,
                        "uplink": uplink,
                        "layer": line.layer,
                        "poe": poe,
                        "poe_budget_w": POE_BUDGET[ports] if poe else None,
                        "managed": line.managed,
                    }
                    summary = "/".join(
                        [f"{ports}口{line.speed}", line.layer, f"上行{uplink}", *(["PoE"] if poe else [])]
                    )
                    out.append(Raw(line.brand, model, model, summary, specs, price, line.origin))
    return out


@dataclass(frozen=True)
class CategoryPlan:
    generator: Callable[[], list[Raw]]
    target: int
    price_range: tuple[int, int]
    warranty_months: int
    lead_days: tuple[int, int]
    stock: tuple[int, int]
    furniture: bool = False


CATEGORY_PLANS: dict[str, CategoryPlan] = {
    d.DESKTOP: CategoryPlan(_desktops, 480, (3500, 9000), 36, (2, 5), (0, 200)),
    d.LAPTOP: CategoryPlan(_laptops, 400, (4500, 12000), 36, (2, 5), (0, 150)),
    d.SERVER: CategoryPlan(_servers, 160, (15000, 90000), 36, (7, 15), (0, 20)),
    d.MONITOR: CategoryPlan(_monitors, 120, (700, 4000), 36, (1, 4), (0, 300)),
    d.MONO_PRINTER: CategoryPlan(_mono_printers, 110, (900, 3500), 12, (1, 4), (0, 120)),
    d.COLOR_PRINTER: CategoryPlan(_color_printers, 70, (1500, 6000), 12, (1, 4), (0, 80)),
    d.MFP: CategoryPlan(_mfps, 120, (1500, 12000), 12, (1, 5), (0, 80)),
    d.COPIER: CategoryPlan(_copiers, 60, (15000, 60000), 12, (3, 7), (0, 15)),
    d.SCANNER: CategoryPlan(_scanners, 40, (1500, 15000), 12, (2, 5), (0, 40)),
    d.SHREDDER: CategoryPlan(_shredders, 70, (300, 4000), 12, (1, 4), (0, 60)),
    d.DESK: CategoryPlan(_desks, 60, (800, 4500), 60, (7, 20), (0, 80), furniture=True),
    d.CHAIR: CategoryPlan(_chairs, 35, (400, 2500), 36, (5, 15), (0, 200), furniture=True),
    d.CABINET: CategoryPlan(_cabinets, 50, (600, 2500), 60, (7, 20), (0, 80), furniture=True),
    d.PAPER: CategoryPlan(_paper, 60, (120, 260), 0, (1, 3), (50, 2000)),
    d.TONER: CategoryPlan(_toner, 120, (60, 1500), 0, (1, 3), (10, 500)),
    d.PROJECTOR: CategoryPlan(_projectors, 70, (2500, 20000), 24, (2, 6), (0, 40)),
    d.UPS: CategoryPlan(_ups, 70, (400, 40000), 36, (2, 7), (0, 40)),
    d.SWITCH: CategoryPlan(_switches, 90, (300, 60000), 36, (2, 7), (0, 60)),
}


# ---------------------------------------------------------------------------------------------
# Prices.


def market_round(value: float) -> Decimal:
    """A shop-window price: 4299.00, 1289.00, 129.90."""
    if value >= 2000:
        return Decimal(round(value / 100) * 100 - 1).quantize(CENT)
    if value >= 200:
        return Decimal(round(value / 10) * 10 - 1).quantize(CENT)
    return (Decimal(round(value)) - Decimal("0.10")).quantize(CENT)


def offer_round(value: Decimal) -> Decimal:
    step = Decimal(1) if value >= 200 else Decimal("0.1")
    return ((value / step).to_integral_value(rounding=ROUND_FLOOR) * step).quantize(CENT)


ENERGY_CATEGORIES_SHARE = 0.85


def _flags(rng: random.Random, category: str, specs: dict[str, Any], plan: CategoryPlan) -> tuple[bool, bool]:
    energy_class = specs.get("energy_class")
    if energy_class is not None:
        energy_saving = energy_class != "3级" and rng.random() < ENERGY_CATEGORIES_SHARE
    elif plan.furniture or category in (d.PAPER, d.TONER, d.SHREDDER):
        energy_saving = False
    else:
        energy_saving = rng.random() < 0.5
    if specs.get("recycled") or specs.get("supply_type") == "再生":
        environmental = True
    elif plan.furniture:
        environmental = specs.get("emission_class", "E0级") != "E1级" and rng.random() < 0.8
    else:
        environmental = rng.random() < 0.5
    return energy_saving, environmental


def _describe(category: str, specs: dict[str, Any], origin: str) -> str:
    registry = REGISTRY_BY_CODE[category]
    parts = []
    for a in registry.attributes:
        if a.code not in specs:
            continue
        value = specs[a.code]
        text = ("是" if value else "否") if isinstance(value, bool) else f"{value}{a.unit or ''}"
        parts.append(f"{a.label_zh}：{text}")
    parts.append("产地：" + ("国产" if origin == "domestic" else "进口"))
    return "；".join(parts)


def _products(rng: random.Random) -> list[tuple[ProductDraft, CategoryPlan]]:
    products: list[tuple[ProductDraft, CategoryPlan]] = []
    seen: set[str] = set()
    for category, plan in CATEGORY_PLANS.items():
        registry = REGISTRY_BY_CODE[category]
        specs_registry = registry_specs(category)
        has_energy_class = any(a.code == "energy_class" for a in registry.attributes)
        candidates = plan.generator()
        rng.shuffle(candidates)
        chosen = 0
        for raw in candidates:
            if chosen == plan.target:
                break
            brand = brand_of(raw.maker)
            key = normalize_key(brand, raw.model)
            if key in seen:
                continue
            raw_specs = {k: v for k, v in raw.specs.items() if v is not None}
            if has_energy_class:
                raw_specs["energy_class"] = rng.choices(("1级", "2级", "3级"), weights=(5, 4, 1))[0]
            result = validate_specs(specs_registry, raw_specs)
            if not result.ok:
                raise ValueError(f"demo product {brand} {raw.model} has invalid specs: {result.errors}")
            seen.add(key)
            chosen += 1
            lo, hi = plan.price_range
            reference = min(max(raw.price * rng.uniform(0.96, 1.04), lo), hi)
            energy_saving, environmental = _flags(rng, category, result.values, plan)
            title = f"{brand} {raw.title} {registry.name}"
            name = f"{title} ({raw.summary})" if raw.summary else title
            created_at = BASE_TIME - timedelta(days=rng.randint(101, 400), hours=rng.randint(0, 23))
            products.append(
                (
                    ProductDraft(
                        category_code=category,
                        brand=brand,
                        model=raw.model,
                        manufacturer=d.MAKERS[raw.maker],
                        name=name,
                        dedup_key=key,
                        specs=result.values,
                        energy_saving=energy_saving,
                        environmental=environmental,
                        origin=raw.origin,
                        description=_describe(category, result.values, raw.origin),
                        market_price=market_round(reference),
                        created_at=created_at,
                    ),
                    plan,
                )
            )
        if chosen < plan.target:
            raise ValueError(f"only {chosen} distinct demo products for {category}, wanted {plan.target}")
    return products


def _sku(supplier: d.SupplierDef, dedup_key: str, taken: set[str]) -> str:
    digest = hashlib.sha256(dedup_key.encode()).hexdigest().upper()
    for start in range(0, 56, 8):
        sku = f"{supplier.sku_prefix}-{digest[start : start + 10]}"
        if sku not in taken:
            taken.add(sku)
            return sku
    raise ValueError(f"cannot find a free SKU for {dedup_key}")  # pragma: no cover - 2^-160 odds


OFFER_COUNTS = (2, 3, 4, 5)
OFFER_COUNT_WEIGHTS = (25, 35, 25, 15)


def _offers(rng: random.Random, products: list[tuple[ProductDraft, CategoryPlan]]) -> list[OfferDraft]:
    eligible: dict[str, list[d.SupplierDef]] = {}
    for supplier in d.SUPPLIERS:
        for group in supplier.groups:
            for category in d.GROUPS[group]:
                bucket = eligible.setdefault(category, [])
                if supplier not in bucket:
                    bucket.append(supplier)
    skus: dict[str, set[str]] = {s.code: set() for s in d.SUPPLIERS}
    offers = []
    for product, plan in products:
        pool = eligible[product.category_code]
        count = min(len(pool), rng.choices(OFFER_COUNTS, weights=OFFER_COUNT_WEIGHTS)[0])
        source = rng.choice(d.MARKET_SOURCES)
        for position, supplier in enumerate(rng.sample(pool, count)):
            discount = min(max(supplier.pricing + rng.uniform(-0.02, 0.04), 0.005), 0.15)
            price = offer_round(product.market_price * Decimal(str(round(1 - discount, 4))))
            price = min(max(price, CENT), product.market_price)
            created_at = product.created_at + timedelta(days=rng.randint(0, 10), hours=rng.randint(1, 9))
            roll = rng.random()
            if position == 0 or roll >= 0.03:  # every product keeps at least one listed offer
                status = "listed"
            else:
                status = "pending_review" if roll < 0.015 else "draft"
            history = _history(rng, price, product.market_price, created_at)
            stock = 0 if rng.random() < 0.05 else rng.randint(max(plan.stock[0], 1), plan.stock[1])
            regions = supplier.regions
            if len(regions) > 6 and rng.random() < 0.3:
                regions = tuple(r for r in regions if r[:2] in ("31", "32", "33", "34", "11", "37", "44"))
            offers.append(
                OfferDraft(
                    supplier_code=supplier.code,
                    supplier_sku=_sku(supplier, product.dedup_key, skus[supplier.code]),
                    dedup_key=product.dedup_key,
                    price=price,
                    market_price=product.market_price,
                    market_price_source=source,
                    stock=stock,
                    regions=regions,
                    warranty_months=plan.warranty_months
                    + (12 if plan.warranty_months and rng.random() < 0.15 else 0),
                    lead_time_days=rng.randint(*plan.lead_days),
                    status=status,
                    created_at=created_at,
                    listed_at=created_at + timedelta(days=1, hours=rng.randint(0, 6))
                    if status == "listed"
                    else None,
                    history=history,
                )
            )
    return offers


def _history(
    rng: random.Random, price: Decimal, market: Decimal, created_at: datetime
) -> tuple[PriceDraft, ...]:
    """The initial price at creation, and for about a third of the offers 1–3 later changes within
    the 90 days before BASE_TIME, the last of which is the current price."""
    if rng.random() >= 0.35:
        return (PriceDraft(price, market, created_at),)
    changes = rng.randint(1, 3)
    days = sorted(rng.sample(range(1, 90), changes), reverse=True)
    times = [BASE_TIME - timedelta(days=day, hours=rng.randint(0, 12)) for day in days]
    earlier = []
    for _ in range(changes):
        old = offer_round(price * Decimal(str(round(rng.uniform(0.97, 1.10), 4))))
        old_market = market if old <= market else to_money(old * Decimal("1.03"))
        earlier.append((old, old_market))
    rows = [PriceDraft(earlier[0][0], earlier[0][1], created_at)]
    rows += [PriceDraft(p, m, t) for (p, m), t in zip(earlier[1:], times[:-1], strict=True)]
    rows.append(PriceDraft(price, market, times[-1]))
    return tuple(rows)


def generate(seed: int = DEFAULT_SEED) -> DemoData:
    rng = random.Random(seed)
    data = DemoData()
    data.organizations = _organizations(rng)
    data.users = _users()
    data.plans = _plans(rng)
    products = _products(rng)
    data.products = [p for p, _ in products]
    data.offers = _offers(rng, products)
    return data
