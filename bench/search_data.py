"""Synthetic catalogue for the search benchmark (a helper of ``bench/search.py``, not a benchmark).

N offers over about N/3.5 products (2–5 offers each) in 18 categories of the 2022 catalogue, with
real brands and series per category drawn with a Zipf-like skew, Chinese product names (brand,
series, model, category, key specs), typed specs, per-category price ranges, 31 provinces, about
200 suppliers (≈60 % SME) and some offers out of stock. Deterministic for a given seed; products are
yielded one at a time so a million offers never sit in memory at once.
"""

from __future__ import annotations

import bisect
import itertools
import random
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

if __name__ == "__main__":  # `make bench` runs every bench/*.py; this file is only a helper
    sys.exit(0)

from search.model import OfferDoc, ProductDoc

SEED = 20261101
BASE = datetime(2026, 11, 1, tzinfo=UTC)
SUPPLIERS = 200
SME_SHARE = 0.6

PROVINCES = (
    "110000", "120000", "130000", "140000", "150000", "210000", "220000", "230000", "310000", "320000",
    "330000", "340000", "350000", "360000", "370000", "410000", "420000", "430000", "440000", "450000",
    "460000", "500000", "510000", "520000", "530000", "540000", "610000", "620000", "630000", "640000",
    "650000",
)  # fmt: skip
# Suppliers cluster where the economy is: the east and the big provinces weigh more.
PROVINCE_WEIGHTS = (
    6, 3, 4, 2, 1, 2, 1, 1, 6, 9, 8, 4, 4, 2, 6, 4, 4, 3, 9, 2, 1, 3, 5, 1, 2, 1, 3, 1, 1, 1, 1,
)  # fmt: skip


@dataclass(frozen=True)
class Spec:
    """A typed attribute: its values (cheapest first, so later values raise the price) and how a
    value shows in the product name (``{}`` is the value; booleans show ``label`` when true)."""

    code: str
    values: tuple
    label: str = ""
    weights: tuple[float, ...] | None = None
    in_name: bool = True

    @property
    def is_bool(self) -> bool:
        return isinstance(self.values[0], bool)

    @property
    def is_number(self) -> bool:
        return not self.is_bool and isinstance(self.values[0], int | float)


@dataclass(frozen=True)
class Category:
    code: str
    name: str
    path: tuple[str, ...]  # root first, the category last
    parent_name: str
    weight: float  # share of products
    price: tuple[int, int]  # typical CNY range, cheapest configuration to dearest
    brands: tuple[tuple[str, tuple[str, ...]], ...]  # brand → series; the most listed brand first
    specs: tuple[Spec, ...]
    facets: tuple[str, str]  # the two attribute facets a search page shows for this category
    words: tuple[str, ...] = ()  # words sellers put in names (商用, 激光…)
    energy_share: float = 0.0
    environmental_share: float = 0.05


BOOL = (False, True)
MEMORY = Spec("memory_gb", (8, 16, 32), "{}GB", (3, 5, 2))
CLIENT_OS = Spec("os", ("统信UOS", "银河麒麟", "Windows 11 专业版"), "{}", (4, 2, 3))
DESKTOP_CPUS = (
    "龙芯3A6000", "飞腾D2000", "兆芯KX-7000", "海光3350", "麒麟9000C", "英特尔酷睿i3-13100",
    "英特尔酷睿i5-13500", "英特尔酷睿i5-14500", "英特尔酷睿i7-13700", "AMD锐龙5 7600",
)  # fmt: skip
LAPTOP_CPUS = (
    "飞腾FT-2000/4", "兆芯KX-6640MA", "麒麟9000C", "英特尔酷睿i5-1335U", "英特尔酷睿i5-1340P",
    "英特尔酷睿i7-1360P", "英特尔酷睿i7-13700H", "英特尔酷睿Ultra 5 125H", "英特尔酷睿Ultra 7 155H",
    "AMD锐龙7 7840HS",
)  # fmt: skip
SERVER_CPUS = (
    "海光5380", "海光7380", "鲲鹏920 4826", "飞腾S2500", "英特尔至强银牌4410Y", "英特尔至强金牌5418Y",
    "英特尔至强金牌6430", "AMD EPYC 9354",
)  # fmt: skip
COLORS = ("胡桃木色", "浅橡木色", "白枫木色", "灰白色", "黑色", "灰色", "蓝色")

CATEGORIES: tuple[Category, ...] = (
    Category(
        "A02010105", "台式计算机", ("A02000000", "A02010000", "A02010100", "A02010105"), "计算机", 12,
        (3000, 12000),
        (
            ("联想", ("开天M740J", "ThinkCentre M760t", "启天M455", "扬天M4000q")),
            ("华为", ("擎云W515x", "擎云B730")),
            ("清华同方", ("超翔Z830", "超翔F830", "超翔L860")),
            ("长城", ("世恒DF7", "世恒TL5")),
            ("惠普", ("EliteDesk 800 G9", "ProDesk 400 G9")),
            ("戴尔", ("OptiPlex 7010", "成就3910")),
            ("浪潮", ("CE520F",)),
            ("中科曙光", ("TC3350",)),
            ("宏碁", ("商祺SQX4270",)),
            ("华硕", ("ExpertCenter D700",)),
        ),
        (
            Spec("cpu", DESKTOP_CPUS),
            MEMORY,
            Spec("storage_gb", (256, 512, 1024, 2048), "{}GB SSD", (2, 5, 3, 1)),
            CLIENT_OS,
            Spec("form_factor", ("小机箱", "立式", "一体机"), "{}", (4, 4, 1)),
            Spec("screen_inch", (21.5, 23.8, 27.0), "{}英寸显示器", (3, 5, 2)),
            Spec("energy_class", ("2级", "1级"), "能效{}", in_name=False),
        ),
        ("memory_gb", "os"),
        ("商用", "办公"),
        energy_share=0.4,
    ),
    Category(
        "A02010108", "便携式计算机", ("A02000000", "A02010000", "A02010100", "A02010108"), "计算机", 10,
        (3500, 16000),
        (
            ("联想", ("昭阳K4e", "ThinkPad E14", "ThinkPad X1 Carbon", "开天N7")),
            ("华为", ("擎云L420", "MateBook 14", "MateBook D 16")),
            ("惠普", ("战99", "EliteBook 840 G10")),
            ("戴尔", ("Latitude 5440", "成就3430")),
            ("清华同方", ("超锐F8500",)),
            ("长城", ("UF712",)),
            ("宏碁", ("TravelMate P2",)),
            ("华硕", ("ExpertBook B5",)),
        ),
        (
            Spec("cpu", LAPTOP_CPUS),
            MEMORY,
            Spec("storage_gb", (256, 512, 1024), "{}GB SSD", (2, 5, 2)),
            Spec("screen_inch", (13.3, 14.0, 14.2, 15.6, 16.0), "{}英寸", (1, 5, 2, 3, 2)),
            CLIENT_OS,
            Spec("weight_kg", (1.7, 1.5, 1.3, 1.1), in_name=False),
        ),
        ("memory_gb", "screen_inch"),
        ("轻薄", "商务"),
        energy_share=0.4,
    ),
    Category(
        "A02010104", "服务器", ("A02000000", "A02010000", "A02010100", "A02010104"), "计算机", 3,
        (15000, 150000),
        (
            ("浪潮", ("NF5280M7", "NF5180M7", "NF8480M7")),
            ("新华三", ("UniServer R4900 G6", "UniServer R4700 G6")),
            ("华为", ("TaiShan 200 2280", "FusionServer 2288H V7")),
            ("中科曙光", ("H620-G30", "H320-G30")),
            ("联想", ("ThinkSystem SR650 V3", "ThinkSystem ST250 V3")),
            ("戴尔", ("PowerEdge R760", "PowerEdge T360")),
            ("长城", ("擎天EF860",)),
        ),
        (
            Spec("cpu", SERVER_CPUS),
            Spec("cpu_count", (1, 2, 4), "{}路", (3, 6, 1)),
            Spec("memory_gb", (32, 64, 128, 256, 512), "{}GB", (2, 4, 4, 2, 1)),
            Spec("storage_gb", (960, 1920, 3840, 7680, 16000), "{}GB", (2, 4, 3, 2, 1)),
            Spec("form_factor", ("塔式", "1U机架式", "2U机架式", "4U机架式"), "{}", (2, 3, 6, 1)),
            Spec("os", ("无预装操作系统", "openEuler 22.03 LTS", "统信服务器V20", "银河麒麟服务器V10")),
        ),
        ("memory_gb", "form_factor"),
        ("机架式",),
        energy_share=0.2,
    ),
    Category(
        "A02021104", "液晶显示器", ("A02000000", "A02020000", "A02021100", "A02021104"), "输入输出设备", 8,
        (600, 4000),
        (
            ("AOC", ("24B2XH", "27B2H", "Q27P2C", "U27N3C")),
            ("飞利浦", ("241E1", "271S8", "243S1")),
            ("戴尔", ("P2423D", "U2724D", "SE2425H")),
            ("联想", ("ThinkVision T24i", "ThinkVision P27h", "启天T24A")),
            ("三星", ("S24C310", "S27C430")),
            ("优派", ("VA2432", "VX2780")),
            ("华为", ("MateView SE", "擎云B3-243")),
            ("惠普", ("P24 G5", "E27 G5")),
            ("明基", ("GW2490", "BL2790")),
        ),
        (
            Spec("screen_inch", (21.5, 23.8, 27.0, 31.5, 34.0), "{}英寸", (2, 6, 4, 1, 1)),
            Spec("resolution", ("1920×1080", "2560×1440", "3840×2160"), "{}", (6, 3, 1)),
            Spec("panel", ("TN", "VA", "IPS"), "{}", (1, 2, 5)),
            Spec("refresh_hz", (60, 75, 100, 144), "{}Hz", (4, 3, 3, 1)),
            Spec("height_adjustable", BOOL, "升降旋转"),
        ),
        ("screen_inch", "resolution"),
        ("护眼", "窄边框"),
        energy_share=0.3,
    ),
    Category(
        "A02021003", "A4黑白打印机", ("A02000000", "A02020000", "A02021000", "A02021003"), "打印机", 6,
        (800, 5000),
        (
            ("奔图", ("P3305DN", "M6700DW", "BP5100DN")),
            ("惠普", ("LaserJet Pro 4004dn", "LaserJet M208dw")),
            ("兄弟", ("HL-L5100DN", "HL-2595DW")),
            ("联想", ("LJ2405D", "GM336DN")),
            ("佳能", ("LBP6230dn", "LBP223dw")),
            ("得力", ("P2000DNW",)),
            ("京瓷", ("ECOSYS P2040dn",)),
            ("理光", ("P 311",)),
        ),
        (
            Spec("print_speed_ppm", (22, 28, 33, 35, 40, 45), "{}页/分钟", (2, 3, 4, 3, 2, 1)),
            Spec("duplex", BOOL, "自动双面"),
            Spec("network", BOOL, "网络"),
            Spec("wifi", BOOL, "无线"),
            Spec("paper_size", ("A4",), "{}", in_name=False),
            Spec("max_resolution_dpi", (600, 1200), in_name=False),
        ),
        ("print_speed_ppm", "duplex"),
        ("激光", "黑白"),
        energy_share=0.4,
    ),
    Category(
        "A02021004", "A4彩色打印机", ("A02000000", "A02020000", "A02021000", "A02021004"), "打印机", 3,
        (1500, 9000),
        (
            ("惠普", ("Color LaserJet Pro 4203dw", "Smart Tank 519")),
            ("佳能", ("LBP664Cx", "G3800")),
            ("爱普生", ("L4268", "WF-C5390a")),
            ("奔图", ("CP2250DN",)),
            ("兄弟", ("HL-L3228CDW",)),
            ("京瓷", ("ECOSYS P5021cdn",)),
            ("联想", ("CS2410DN",)),
        ),
        (
            Spec("print_tech", ("喷墨(墨仓式)", "激光"), "{}", (2, 3)),
            Spec("print_speed_ppm", (15, 20, 24, 28, 33), "{}页/分钟", (2, 3, 3, 2, 1)),
            Spec("duplex", BOOL, "自动双面"),
            Spec("network", BOOL, "网络"),
            Spec("wifi", BOOL, "无线"),
        ),
        ("print_tech", "duplex"),
        ("彩色",),
        energy_share=0.3,
    ),
    Category(
        "A02020400", "多功能一体机", ("A02000000", "A02020000", "A02020400"), "办公设备", 6, (1500, 30000),
        (
            ("惠普", ("LaserJet Pro MFP 4104fdw", "LaserJet MFP M437nda")),
            ("佳能", ("imageCLASS MF275dw", "iR 2206AD")),
            ("兄弟", ("MFC-L2880DW", "DCP-L2548DW")),
            ("奔图", ("M7160DW", "M9106DN")),
            ("理光", ("M 2701", "IM 2702")),
            ("京瓷", ("ECOSYS M2540dn", "TASKalfa 2020")),
            ("柯尼卡美能达", ("bizhub 226i", "bizhub 300i")),
            ("富士胶片", ("Apeos C2450 S", "Apeos 2150 NDA")),
            ("夏普", ("BP-M2322R", "BP-C2022R")),
            ("联想", ("M7628DNA", "GM337DNA")),
        ),
        (
            Spec("functions", ("打印/复印/扫描", "打印/复印/扫描/传真"), "{}", (3, 1)),
            Spec("color_mode", ("黑白", "彩色"), "{}", (3, 1)),
            Spec("paper_size", ("A4", "A3"), "{}", (3, 1)),
            Spec("print_speed_ppm", (20, 25, 30, 35, 45), "{}页/分钟", (2, 3, 3, 2, 1)),
            Spec("duplex", BOOL, "自动双面"),
            Spec("adf", BOOL, "输稿器"),
        ),
        ("color_mode", "paper_size"),
        ("激光", "复印扫描"),
        energy_share=0.4,
    ),
    Category(
        "A02020100", "复印机", ("A02000000", "A02020000", "A02020100"), "办公设备", 2, (8000, 60000),
        (
            ("理光", ("IM 2702", "IM C3010", "IM 4000")),
            ("柯尼卡美能达", ("bizhub 367", "bizhub C360i")),
            ("京瓷", ("TASKalfa 3554ci", "TASKalfa 2554ci")),
            ("夏普", ("BP-M3558R", "BP-C3122R")),
            ("佳能", ("iR-ADV DX 4835", "iR C3326")),
            ("富士胶片", ("Apeos C3060", "Apeos 3560")),
            ("东芝", ("e-STUDIO 2829A",)),
        ),
        (
            Spec("color_mode", ("黑白", "彩色"), "{}", (3, 2)),
            Spec("paper_size", ("A4", "A3"), "{}", (1, 6)),
            Spec("print_speed_ppm", (25, 30, 35, 45, 55), "{}页/分钟", (2, 3, 3, 2, 1)),
            Spec("duplex", BOOL, "双面"),
            Spec("adf", BOOL, "双面输稿器"),
        ),
        ("color_mode", "print_speed_ppm"),
        ("数码", "复合机"),
        energy_share=0.4,
    ),
    Category(
        "A02021118", "扫描仪", ("A02000000", "A02020000", "A02021100", "A02021118"), "输入输出设备", 3,
        (1000, 20000),
        (
            ("富士通", ("fi-8170", "fi-7160", "fi-7700")),
            ("爱普生", ("DS-570WII", "DS-1660W")),
            ("佳能", ("DR-C240", "DR-M260")),
            ("汉王", ("HW-8650", "HW-9490F")),
            ("中晶", ("FileScan 3220", "FileScan 8600")),
            ("紫光", ("Q3050", "G600")),
            ("惠普", ("ScanJet Pro 3600 f1",)),
            ("兄弟", ("ADS-2700W",)),
        ),
        (
            Spec("scanner_type", ("平板式", "馈纸式", "平板+馈纸式"), "{}", (2, 5, 2)),
            Spec("paper_size", ("A4", "A3"), "{}", (5, 1)),
            Spec("scan_speed_ppm", (20, 30, 40, 60, 80), "{}页/分钟", (2, 3, 3, 2, 1)),
            Spec("duplex", BOOL, "双面扫描"),
        ),
        ("scanner_type", "scan_speed_ppm"),
        ("高速", "文档"),
    ),
    Category(
        "A02021301", "碎纸机", ("A02000000", "A02020000", "A02021300", "A02021301"), "销毁设备", 3,
        (300, 5000),
        (
            ("得力", ("9904", "9927", "14401")),
            ("科密", ("C-828", "C-858")),
            ("齐心", ("S2120", "HC2620")),
            ("三木", ("SDS-3216",)),
            ("震旦", ("AS-1600CD",)),
            ("晨光", ("AEQ96705",)),
        ),
        (
            Spec("security_level", ("P-3", "P-4", "P-5"), "{}级保密", (2, 5, 2)),
            Spec("sheets", (8, 10, 12, 20), "单次{}张", (2, 4, 3, 1)),
            Spec("bin_liters", (15, 23, 30, 40), "{}L", (3, 4, 3, 1)),
        ),
        ("security_level", "bin_liters"),
        ("办公", "静音"),
        energy_share=0.2,
    ),
    Category(
        "A05010201", "办公桌", ("A05000000", "A05010000", "A05010200", "A05010201"), "台、桌类", 5,
        (800, 6000),
        (
            ("圣奥", ("风尚", "智领", "简约")),
            ("震旦", ("AD", "HPL")),
            ("美时", ("领航", "简致")),
            ("迪欧", ("雅典",)),
            ("得力", ("91230", "91330")),
            ("黎明", ("LM-BG",)),
            ("华盛", ("HS-D",)),
        ),
        (
            Spec("material", ("人造板", "钢木", "实木"), "{}", (6, 2, 2)),
            Spec("width_mm", (1200, 1400, 1600, 1800), "{}mm", (3, 4, 3, 1)),
            Spec("color", COLORS),
        ),
        ("material", "width_mm"),
        ("职员", "主管"),
        environmental_share=0.3,
    ),
    Category(
        "A05010301", "办公椅", ("A05000000", "A05010000", "A05010300", "A05010301"), "椅凳类", 8,
        (300, 5000),
        (
            ("永艺", ("沃克", "撑腰椅", "XY")),
            ("西昊", ("M57", "M18", "V1")),
            ("黑白调", ("P5", "E3")),
            ("圣奥", ("Lite", "Ergo")),
            ("震旦", ("CHS",)),
            ("得力", ("4904", "91066")),
            ("美时", ("Enjoy",)),
        ),
        (
            Spec("chair_type", ("培训椅", "会议椅", "职员椅", "主管椅"), "{}", (1, 2, 5, 2)),
            Spec("material", ("布艺", "网布", "PU皮", "真皮"), "{}", (2, 5, 2, 1)),
            Spec("lumbar_support", BOOL, "人体工学腰托"),
            Spec("color", COLORS[4:]),
        ),
        ("chair_type", "material"),
        ("转椅", "电脑椅"),
        environmental_share=0.3,
    ),
    Category(
        "A05010502", "文件柜", ("A05000000", "A05010000", "A05010500", "A05010502"), "柜类", 5,
        (500, 4000),
        (
            ("得力", ("9351", "9352")),
            ("震旦", ("ASF", "AC")),
            ("圣奥", ("钢柜",)),
            ("齐心", ("A1", "B2")),
            ("黎明", ("LM-WJG",)),
            ("华盛", ("HS-G",)),
        ),
        (
            Spec("cabinet_type", ("矮柜", "四抽屉柜", "更衣柜", "对开门柜", "上玻下铁柜"), "{}"),
            Spec("material", ("钢制", "人造板", "实木"), "{}", (6, 3, 1)),
            Spec("height_mm", (900, 1850, 2000), "高{}mm", (2, 5, 2)),
            Spec("lockable", BOOL, "带锁"),
            Spec("color", COLORS),
        ),
        ("cabinet_type", "material"),
        ("资料柜", "铁皮柜"),
        environmental_share=0.3,
    ),
    Category(
        "A05040101", "复印纸", ("A05000000", "A05040000", "A05040100", "A05040101"), "纸制文具", 10,
        (20, 300),
        (
            ("得力", ("莱茵河", "佳宣", "珊瑚海")),
            ("晨光", ("蓝晨光", "绿晨光")),
            ("亚太森博", ("百旺", "PaperOne")),
            ("金光", ("金旗舰", "金至尊")),
            ("Double A", ("Double A",)),
            ("齐心", ("佳印",)),
        ),
        (
            Spec("paper_size", ("B5", "A4", "A3"), "{}", (1, 6, 2)),
            Spec("grammage", (70, 75, 80), "{}g", (4, 2, 3)),
            Spec("reams_per_box", (1, 5, 8, 10), "{}包/箱", (2, 4, 3, 1)),
            Spec("recycled", BOOL, "再生"),
        ),
        ("paper_size", "grammage"),
        ("打印纸", "白色"),
        environmental_share=0.4,
    ),
    Category(
        "A05040201", "鼓粉盒", ("A05000000", "A05040000", "A05040200", "A05040201"), "硒鼓、粉盒", 8,
        (50, 1500),
        (
            ("惠普", ("CF226A", "W1500A", "CF410A")),
            ("奔图", ("PD-213", "TO-405")),
            ("格之格", ("NT-PH226", "NT-C0388")),
            ("天威", ("TW-CF226A", "TW-TN2425")),
            ("得力", ("DLH-226A",)),
            ("兄弟", ("TN-2425", "DR-2450")),
            ("佳能", ("CRG-057", "CRG-054")),
        ),
        (
            Spec("supply_type", ("再生", "兼容", "原装"), "{}", (1, 4, 3)),
            Spec("cartridge_kind", ("粉盒", "鼓粉一体", "硒鼓"), "{}"),
            Spec("color", ("黑色", "青色", "品红色", "黄色"), "{}", (6, 1, 1, 1)),
            Spec("yield_pages", (1500, 3000, 9000), "{}页", (3, 4, 2)),
        ),
        ("supply_type", "color"),
        ("硒鼓", "墨粉"),
        environmental_share=0.2,
    ),
    Category(
        "A02020200", "投影仪", ("A02000000", "A02020000", "A02020200"), "办公设备", 3, (2000, 30000),
        (
            ("爱普生", ("CB-FH52", "CB-X50", "CB-L210W")),
            ("明基", ("E580", "MW560")),
            ("索尼", ("VPL-EX570", "VPL-P520HZ")),
            ("极米", ("RS Pro 3", "Z2")),
            ("松下", ("PT-X3260",)),
            ("NEC", ("NP-CD1100X",)),
            ("理光", ("PJ WXC1110",)),
        ),
        (
            Spec("lumens", (3300, 3600, 4000, 5000, 6000), "{}流明", (2, 3, 3, 2, 1)),
            Spec(
                "resolution",
                ("1024×768(XGA)", "1280×800(WXGA)", "1920×1080(1080P)", "1920×1200(WUXGA)", "3840×2160(4K)"),
                "{}",
                (2, 3, 4, 2, 1),
            ),
            Spec("light_source", ("灯泡", "LED", "激光"), "{}光源", (4, 1, 3)),
            Spec("throw_type", ("标准", "短焦", "超短焦"), "{}", (6, 2, 1)),
        ),
        ("lumens", "light_source"),
        ("会议", "高亮"),
        energy_share=0.2,
    ),
    Category(
        "A02061504", "不间断电源", ("A02000000", "A02060000", "A02061500", "A02061504"), "电源设备", 3,
        (800, 30000),
        (
            ("山特", ("C1K", "C3KS", "C10KS", "TG-BOX 850")),
            ("华为", ("UPS2000-A-1KTTS", "UPS2000-G-3KRTL")),
            ("科华", ("YTR1101", "YTR3106")),
            ("维谛", ("UHA1R-0030",)),
            ("施耐德", ("SPM3K", "BK650-CH")),
            ("雷迪司", ("H1K", "G3K")),
        ),
        (
            Spec("capacity_va", (1000, 2000, 3000, 6000, 10000), "{}VA", (4, 3, 4, 2, 1)),
            Spec("topology", ("后备式", "在线互动式", "在线式"), "{}", (1, 1, 4)),
            Spec("backup_minutes", (10, 30, 60, 120), "后备{}分钟", (4, 3, 2, 1)),
            Spec("rack_mount", BOOL, "机架式"),
        ),
        ("capacity_va", "topology"),
        ("ups电源", "稳压"),
        energy_share=0.2,
    ),
    Category(
        "A02010202", "交换设备", ("A02000000", "A02010000", "A02010200", "A02010202"), "网络设备", 3,
        (300, 60000),
        (
            ("华为", ("S1730S-S24T4S-A", "S5735-L24T4X", "CloudEngine S5755")),
            ("新华三", ("S5130S-28S-EI", "S5560X-30C-EI")),
            ("锐捷", ("RG-S2910-24GT4XS", "RG-S5750")),
            ("中兴", ("ZXR10 5960",)),
            ("TP-LINK", ("TL-SG1024DT", "TL-SH1226")),
            ("迈普", ("S3230",)),
        ),
        (
            Spec("ports", (8, 16, 24, 48), "{}口", (2, 2, 5, 2)),
            Spec("port_speed", ("百兆", "千兆", "2.5G", "万兆"), "{}", (1, 6, 1, 1)),
            Spec("layer", ("二层", "三层"), "{}", (3, 2)),
            Spec("poe", BOOL, "PoE"),
        ),
        ("ports", "layer"),
        ("交换机", "企业级"),
        energy_share=0.2,
    ),
)  # fmt: skip
CATEGORY_BY_CODE = {c.code: c for c in CATEGORIES}


def _zipf(count: int, exponent: float = 1.1) -> list[float]:
    return [1 / (rank**exponent) for rank in range(1, count + 1)]


@dataclass(frozen=True)
class Supplier:
    supplier_id: int
    sme: bool
    rating: float
    regions: tuple[str, ...]  # where it delivers, home province first


def suppliers(seed: int = SEED) -> list[Supplier]:
    rng = random.Random(seed * 7 + 1)
    result = []
    for supplier_id in range(1, SUPPLIERS + 1):
        home = rng.choices(PROVINCES, PROVINCE_WEIGHTS)[0]
        others = {rng.choices(PROVINCES, PROVINCE_WEIGHTS)[0] for _ in range(rng.randint(0, 9))}
        others.discard(home)
        result.append(
            Supplier(
                supplier_id=supplier_id,
                sme=rng.random() < SME_SHARE,
                rating=round(rng.uniform(3.5, 5.0), 1),
                regions=(home, *sorted(others)),
            )
        )
    return result


class _Picker:
    """Weighted choice through precomputed cumulative weights (random.choices redoes the sums and
    costs several times more: a million offers make that count)."""

    def __init__(self, items, weights=None):
        self.items = tuple(items)
        self.cumulative = list(itertools.accumulate(weights or [1.0] * len(self.items)))
        self.total = self.cumulative[-1]

    def pick(self, rng: random.Random):
        return self.items[bisect.bisect_right(self.cumulative, rng.random() * self.total)]


def _below(rng: random.Random, n: int) -> int:
    """0 <= i < n, cheaper than randrange (the tiny bias does not matter here)."""
    return int(rng.random() * n)


@dataclass(frozen=True)
class _SpecChoice:
    """One value of a spec with everything a product takes from it, computed once."""

    code: str
    value: object
    name_part: str  # what the product name shows ('' for nothing)
    text_part: str  # what the searchable text adds ('' for nothing)
    tier: float  # 0 for the cheapest value … 1 for the dearest


def _spec_pickers(category: Category) -> list[_Picker]:
    pickers = []
    for spec in category.specs:
        choices = []
        for index, value in enumerate(spec.values):
            shown = f"{value:g}" if isinstance(value, float) else str(value)
            if not spec.in_name or not spec.label:
                name_part = ""
            elif spec.is_bool:
                name_part = spec.label if value else ""
            else:
                name_part = spec.label.format(shown)
            choices.append(
                _SpecChoice(
                    code=spec.code,
                    value=value,
                    name_part=name_part,
                    text_part="" if spec.is_bool else str(value),
                    tier=index / max(1, len(spec.values) - 1) / len(category.specs),
                )
            )
        pickers.append(_Picker(choices, spec.weights))
    return pickers


def products(offers: int, seed: int = SEED) -> Iterator[ProductDoc]:
    """Products with exactly ``offers`` offers in all (2–5 each, the last one possibly fewer)."""
    rng = random.Random(seed)
    rand = rng.random
    vendors = suppliers(seed)
    vendor_picker = _Picker(vendors, _zipf(len(vendors), 0.8))
    category_picker = _Picker(CATEGORIES, [c.weight for c in CATEGORIES])
    brand_pickers = {c.code: _Picker(c.brands, _zipf(len(c.brands))) for c in CATEGORIES}
    spec_pickers = {c.code: _spec_pickers(c) for c in CATEGORIES}
    letters = "ABCDEFGHJKLMNPRSTUVWXYZ"
    two_years = 2 * 365 * 86400
    offer_id = 0
    product_id = 0
    while offer_id < offers:
        product_id += 1
        category = category_picker.pick(rng)
        brand, series = brand_pickers[category.code].pick(rng)
        series = series[int(rand() * len(series))]
        model = f"{series} {letters[int(rand() * len(letters))]}{10 + int(rand() * 990)}"
        chosen = [picker.pick(rng) for picker in spec_pickers[category.code]]
        name_parts = [brand, model, category.name]
        if rand() < 0.5:
            name_parts.append(category.words[int(rand() * len(category.words))])
        name_parts.extend(c.name_part for c in chosen if c.name_part)
        name = " ".join(name_parts)
        text = " ".join([name, category.parent_name, *(c.text_part for c in chosen if c.text_part)])
        # The spec mix sets where in the category's price range a product sits, plus some noise.
        low, high = category.price
        base = low * (high / low) ** (0.7 * sum(c.tier for c in chosen) + 0.3 * rand())
        offer_docs = []
        for vendor in _distinct(vendor_picker, rng, min(2 + int(rand() * 4), offers - offer_id)):
            offer_id += 1
            price = base * (0.94 + 0.14 * rand())
            price = round(price) - 0.1 if price > 100 and rand() < 0.3 else round(price, 2)
            offer_docs.append(
                OfferDoc(
                    offer_id=offer_id,
                    supplier_id=vendor.supplier_id,
                    price=Decimal(f"{price:.2f}"),
                    regions=_some(rng, vendor.regions, 1 + int(rand() * 6)),
                    stock=0 if rand() < 0.12 else 1 + int(rand() * 500),
                    supplier_sme=vendor.sme,
                    supplier_rating=vendor.rating,
                )
            )
        yield ProductDoc(
            product_id=product_id,
            version=1,
            active=True,
            category_code=category.code,
            category_path=category.path,
            brand=brand,
            model=model,
            name=name,
            text=text,
            specs={c.code: c.value for c in chosen},
            energy_saving=rand() < category.energy_share,
            environmental=rand() < category.environmental_share,
            origin="domestic",
            rating=round(rng.triangular(3.0, 5.0, 4.3), 1),
            listed_at=BASE - timedelta(seconds=int(rand() * two_years)),
            offers=tuple(offer_docs),
        )


def _some(rng: random.Random, items: tuple[str, ...], count: int) -> tuple[str, ...]:
    """Up to ``count`` distinct items, the first always included (a supplier delivers at home)."""
    if count >= len(items):
        return items
    chosen = {items[0]: None}
    while len(chosen) < count:
        chosen[items[_below(rng, len(items))]] = None
    return tuple(chosen)


def _distinct(picker: _Picker, rng: random.Random, count: int) -> list:
    chosen: dict[int, object] = {}
    while len(chosen) < count:
        item = picker.pick(rng)
        chosen[id(item)] = item
    return list(chosen.values())
