"""Fixed tables behind the demo data: organizations, people, brands, series and model numbers.

Everything here is plain data (tuples, not dicts or sets, wherever the order matters) so the
generator draws the same products on every run. Brands, manufacturers and series are real ones
commonly seen in Chinese government e-malls; model numbers follow each brand's naming pattern
but the configurations are illustrative. Organizations, people and credit codes are fictional:
the city is the made-up 江宁市, so no real agency is implied.
"""

from __future__ import annotations

from dataclasses import dataclass

CITY = "江宁市"
CITY_REGION = "320000"  # province of the fictional city (GB/T 2260)
CITY_DIVISION = "320100"  # division code used inside the fictional credit codes
FISCAL_YEAR = 2026
PLAN_PREFIX = "JN"

ALL_PROVINCES = (
    "110000",
    "120000",
    "130000",
    "140000",
    "150000",
    "210000",
    "220000",
    "230000",
    "310000",
    "320000",
    "330000",
    "340000",
    "350000",
    "360000",
    "370000",
    "410000",
    "420000",
    "430000",
    "440000",
    "450000",
    "460000",
    "500000",
    "510000",
    "520000",
    "530000",
    "540000",
    "610000",
    "620000",
    "630000",
    "640000",
    "650000",
)
EAST_CHINA = ("320000", "310000", "330000", "340000")

# ---------------------------------------------------------------------------------------------
# Category keys used by the generator → 2022 item codes.

DESKTOP = "A02010105"
LAPTOP = "A02010108"
SERVER = "A02010104"
MONITOR = "A02021104"
MONO_PRINTER = "A02021003"
COLOR_PRINTER = "A02021004"
MFP = "A02020400"
COPIER = "A02020100"
SCANNER = "A02021118"
SHREDDER = "A02021301"
DESK = "A05010201"
CHAIR = "A05010301"
CABINET = "A05010502"
PAPER = "A05040101"
TONER = "A05040201"
PROJECTOR = "A02020200"
UPS = "A02061504"
SWITCH = "A02010202"

GROUPS: dict[str, tuple[str, ...]] = {
    "it": (DESKTOP, LAPTOP, SERVER, MONITOR, SWITCH, UPS, PROJECTOR),
    "print": (MONO_PRINTER, COLOR_PRINTER, MFP, COPIER, SCANNER, SHREDDER, TONER),
    "furniture": (DESK, CHAIR, CABINET),
    "supplies": (PAPER, TONER, SHREDDER),
}

# ---------------------------------------------------------------------------------------------
# Organizations and people.


@dataclass(frozen=True)
class UnitDef:
    code: str
    name: str
    short: str
    budget_function: str  # 政府收支分类科目 (功能分类) used in the budget line codes
    purchaser: str
    approver: str


PURCHASING_UNITS: tuple[UnitDef, ...] = (
    UnitDef("JN-U01", f"{CITY}教育局", "教育局", "2050101", "李明", "周建国"),
    UnitDef("JN-U02", f"{CITY}公安局", "公安局", "2040201", "王芳", "赵志强"),
    UnitDef("JN-U03", f"{CITY}卫生健康委员会", "卫健委", "2100101", "张伟", "孙丽华"),
    UnitDef("JN-U04", f"{CITY}自然资源和规划局", "自然资源和规划局", "2200101", "刘洋", "钱文斌"),
    UnitDef("JN-U05", f"{CITY}城东区卫生健康委员会", "城东区卫健委", "2100101", "陈静", "吴海燕"),
    UnitDef("JN-U06", f"{CITY}第一中学", "第一中学", "2050204", "杨帆", "郑国华"),
)


@dataclass(frozen=True)
class SupplierDef:
    code: str
    name: str
    region_code: str
    is_sme: bool
    groups: tuple[str, ...]
    regions: tuple[str, ...]
    contact: str
    sku_prefix: str
    pricing: float  # typical discount below the market price (0.03 = 3 %)


SUPPLIERS: tuple[SupplierDef, ...] = (
    SupplierDef(
        "JN-S01",
        f"{CITY[:2]}华信科技有限公司",
        "320000",
        True,
        ("it", "print"),
        EAST_CHINA,
        "赵磊",
        "HX",
        0.05,
    ),
    SupplierDef(
        "JN-S02",
        f"{CITY[:2]}数智信息技术有限公司",
        "320000",
        True,
        ("it",),
        ("320000", "310000"),
        "钱进",
        "SZ",
        0.04,
    ),
    SupplierDef(
        "JN-S03",
        f"{CITY[:2]}捷印办公设备有限公司",
        "320000",
        True,
        ("print", "supplies"),
        EAST_CHINA,
        "孙悦",
        "JY",
        0.06,
    ),
    SupplierDef(
        "JN-S04",
        f"{CITY}嘉禾办公家具有限公司",
        "320000",
        True,
        ("furniture",),
        ("320000",),
        "李娜",
        "JH",
        0.07,
    ),
    SupplierDef(
        "JN-S05",
        f"{CITY[:2]}文汇办公用品有限公司",
        "320000",
        True,
        ("supplies",),
        ("320000", "340000"),
        "周洁",
        "WH",
        0.05,
    ),
    SupplierDef(
        "JN-S06",
        "上海博远计算机系统有限公司",
        "310000",
        False,
        ("it", "print"),
        ALL_PROVINCES,
        "吴昊",
        "BY",
        0.03,
    ),
    SupplierDef(
        "JN-S07",
        "杭州云启网络科技有限公司",
        "330000",
        True,
        ("it",),
        ("330000", "320000", "310000"),
        "郑凯",
        "YQ",
        0.045,
    ),
    SupplierDef(
        "JN-S08",
        "北京中科致远信息技术有限公司",
        "110000",
        False,
        ("it", "print"),
        ALL_PROVINCES,
        "王刚",
        "ZY",
        0.025,
    ),
    SupplierDef(
        "JN-S09", "苏州恒拓电子科技有限公司", "320000", True, ("it", "print"), EAST_CHINA, "冯雪", "HT", 0.055
    ),
    SupplierDef(
        "JN-S10",
        "合肥安和办公设备有限公司",
        "340000",
        True,
        ("print", "supplies"),
        ("340000", "320000", "360000"),
        "陈晨",
        "AH",
        0.06,
    ),
    SupplierDef(
        "JN-S11",
        "浙江森雅家具制造有限公司",
        "330000",
        False,
        ("furniture",),
        (*EAST_CHINA, "350000"),
        "褚明",
        "SY",
        0.04,
    ),
    SupplierDef(
        "JN-S12",
        f"{CITY}宏图办公家具有限公司",
        "320000",
        True,
        ("furniture",),
        ("320000", "310000"),
        "卫东",
        "HTJ",
        0.08,
    ),
    SupplierDef(
        "JN-S13",
        "山东鲁信办公用品有限公司",
        "370000",
        True,
        ("supplies", "furniture"),
        ("370000", "320000", "410000", "130000"),
        "蒋涛",
        "LX",
        0.05,
    ),
    SupplierDef(
        "JN-S14",
        "南通锦程商贸有限公司",
        "320000",
        True,
        ("supplies", "furniture", "print"),
        ("320000", "310000"),
        "沈佳",
        "JC",
        0.065,
    ),
    SupplierDef(
        "JN-S15",
        "广州南粤数码科技有限公司",
        "440000",
        False,
        ("it", "print"),
        ("440000", "450000", "460000", "350000", "430000"),
        "韩冰",
        "NY",
        0.035,
    ),
    SupplierDef(
        "JN-S16",
        "武汉楚天信息产业有限公司",
        "420000",
        False,
        ("it",),
        ("420000", "430000", "360000", "410000", "340000", "320000"),
        "杨帅",
        "CT",
        0.04,
    ),
)


@dataclass(frozen=True)
class StaffOrgDef:
    code: str
    name: str
    kind: str  # OrgKind value
    username: str
    person: str
    phone: str


STAFF_ORGS: tuple[StaffOrgDef, ...] = (
    StaffOrgDef(
        "JN-OP", f"{CITY}政府采购中心（电子卖场运营）", "operator", "operator", "许文静", "025-55550100"
    ),
    StaffOrgDef("JN-CZJG", f"{CITY}财政局政府采购监管处", "regulator", "regulator", "何振华", "025-55550200"),
    StaffOrgDef("JN-GKZF", f"{CITY}财政国库支付中心", "finance", "finance", "吕红梅", "025-55550300"),
)


@dataclass(frozen=True)
class PlanTheme:
    key: str
    title: str
    categories: tuple[str, ...]
    min_amount: int
    max_amount: int


PLAN_THEMES: tuple[PlanTheme, ...] = (
    PlanTheme("it", "信息化设备购置", (DESKTOP, LAPTOP, SERVER, MONITOR, SWITCH, UPS), 500_000, 3_000_000),
    PlanTheme(
        "office",
        "办公设备购置",
        (MONO_PRINTER, COLOR_PRINTER, MFP, COPIER, SCANNER, SHREDDER, PROJECTOR),
        200_000,
        1_200_000,
    ),
    PlanTheme("furniture", "办公家具购置", (DESK, CHAIR, CABINET), 200_000, 1_500_000),
    PlanTheme("supplies", "办公耗材采购", (PAPER, TONER), 200_000, 600_000),
)

FUND_SOURCES = ("一般公共预算", "一般公共预算", "一般公共预算", "政府性基金预算")

# ---------------------------------------------------------------------------------------------
# Manufacturers (brand → legal manufacturer / brand owner in China, and where the goods come from).

MAKERS: dict[str, str] = {
    "联想": "联想(北京)有限公司",
    "华为": "华为终端有限公司",
    "华为数字能源": "华为数字能源技术有限公司",
    "华为网络": "华为技术有限公司",
    "惠普": "惠普贸易(上海)有限公司",
    "戴尔": "戴尔(中国)有限公司",
    "清华同方": "同方股份有限公司",
    "长城": "中国长城科技集团股份有限公司",
    "浪潮": "浪潮电子信息产业股份有限公司",
    "中科曙光": "曙光信息产业股份有限公司",
    "新华三": "新华三技术有限公司",
    "宏碁": "宏碁电脑(上海)有限公司",
    "华硕": "华硕电脑(上海)有限公司",
    "奔图": "珠海奔图电子有限公司",
    "佳能": "佳能(中国)有限公司",
    "爱普生": "爱普生(中国)有限公司",
    "兄弟": "兄弟(中国)商业有限公司",
    "理光": "理光(中国)投资有限公司",
    "京瓷": "京瓷办公信息系统(中国)有限公司",
    "柯尼卡美能达": "柯尼卡美能达办公系统(中国)有限公司",
    "富士胶片": "富士胶片商业创新(中国)有限公司",
    "夏普": "夏普商贸(中国)有限公司",
    "紫光": "紫光股份有限公司",
    "汉王": "汉王科技股份有限公司",
    "富士通": "富士通(中国)信息系统有限公司",
    "中晶": "中晶(上海)科技有限公司",
    "得力": "得力集团有限公司",
    "科密": "广州市科密办公设备有限公司",
    "齐心": "齐心集团股份有限公司",
    "三木": "三木控股集团有限公司",
    "震旦": "震旦(中国)有限公司",
    "圣奥": "圣奥科技股份有限公司",
    "永艺": "永艺家具股份有限公司",
    "美时": "美时家具(中国)有限公司",
    "晨光": "上海晨光文具股份有限公司",
    "亚太森博": "亚太森博(山东)浆纸有限公司",
    "金光": "金光纸业(中国)投资有限公司",
    "Double A": "Double A (1991) Public Company Limited",
    "格之格": "珠海格之格数码科技有限公司",
    "天威": "珠海天威飞马打印耗材有限公司",
    "AOC": "冠捷显示科技(中国)有限公司",
    "飞利浦": "冠捷显示科技(中国)有限公司",
    "三星": "三星(中国)投资有限公司",
    "优派": "优派(中国)显示科技有限公司",
    "锐捷": "锐捷网络股份有限公司",
    "中兴": "中兴通讯股份有限公司",
    "山特": "山特电子(深圳)有限公司",
    "科华": "科华数据股份有限公司",
    "明基": "明基智能科技(上海)有限公司",
    "索尼": "索尼(中国)有限公司",
    "极米": "极米科技股份有限公司",
}

# ---------------------------------------------------------------------------------------------
# Computers.


@dataclass(frozen=True)
class ComputerLine:
    brand: str
    series: str
    cpus: tuple[str, ...]
    oses: tuple[str, ...]
    base: int  # CNY for the first CPU, 16 GB, 512 GB SSD, no monitor
    form: str = "立式"  # desktops
    screens: tuple[float, ...] = ()  # laptops: screen sizes; desktops: monitor options
    weight: float = 0.0  # laptops (kg at the smallest screen)
    battery: tuple[int, ...] = ()  # laptops (Wh options)
    memories: tuple[int, ...] = (8, 16, 32)
    origin: str = "domestic"


KX7000, KXU6780 = "兆芯KX-7000", "兆芯KX-U6780A"
D2000, FT2000 = "飞腾D2000", "飞腾FT-2000/4"
LS6000, LS5000 = "龙芯3A6000", "龙芯3A5000"
HG3350, HG3250 = "海光3350", "海光3250"
KIRIN = "麒麟9000C"
I3, I5, I5N, I7, I7N = (
    "英特尔酷睿i3-13100",
    "英特尔酷睿i5-13500",
    "英特尔酷睿i5-14500",
    "英特尔酷睿i7-13700",
    "英特尔酷睿i7-14700",
)
R5, R7 = "AMD锐龙5 7600", "AMD锐龙7 7700"
UOS, KYLIN, WIN = "统信UOS", "银河麒麟", "Windows 11 专业版"
XC = (UOS, KYLIN)  # 信创 operating systems

DESKTOP_LINES: tuple[ComputerLine, ...] = (
    ComputerLine("联想", "开天M740J", (KX7000,), XC, 4300, "小机箱", (0, 21.5, 23.8)),
    ComputerLine("联想", "开天M90F", (D2000,), XC, 4700, "小机箱", (0, 23.8)),
    ComputerLine("联想", "开天M80H", (HG3350,), (*XC, WIN), 5100, "立式", (0, 23.8, 27)),
    ComputerLine("联想", "开天A740J", (KX7000,), XC, 5600, "一体机", (23.8, 27)),
    ComputerLine("联想", "ThinkCentre M760t", (I5, I7, I5N, I7N), (WIN, UOS), 5000, "立式", (0, 23.8, 27)),
    ComputerLine("联想", "启天M455", (I3, I5), (WIN, UOS), 3900, "小机箱", (0, 21.5, 23.8)),
    ComputerLine("华为", "擎云W515x", (KIRIN,), (UOS,), 5600, "小机箱", (0, 23.8)),
    ComputerLine("清华同方", "超翔Z830", (KX7000, KXU6780), XC, 4000, "立式", (0, 21.5, 23.8)),
    ComputerLine("清华同方", "超翔F830", (D2000, FT2000), XC, 4300, "立式", (0, 23.8)),
    ComputerLine("清华同方", "超翔L860", (LS6000, LS5000), XC, 4100, "立式", (0, 23.8)),
    ComputerLine("长城", "世恒DF7", (D2000,), XC, 4400, "小机箱", (0, 21.5, 23.8)),
    ComputerLine("长城", "世恒TL5", (LS6000,), XC, 4200, "立式", (0, 23.8)),
    ComputerLine("浪潮", "CE520F", (D2000,), XC, 4300, "立式", (0, 23.8)),
    ComputerLine("中科曙光", "TC3350", (HG3350, HG3250), (*XC, WIN), 5000, "立式", (0, 23.8, 27)),
    ComputerLine("惠普", "EliteDesk 800 G9", (I5, I7), (WIN,), 6000, "小机箱", (0, 23.8, 27)),
    ComputerLine("惠普", "ProDesk 400 G9", (I3, I5), (WIN, UOS), 4200, "小机箱", (0, 21.5, 23.8)),
    ComputerLine("戴尔", "OptiPlex 7010", (I5, I7), (WIN,), 5500, "小机箱", (0, 23.8, 27)),
    ComputerLine("戴尔", "成就3910", (I3, I5), (WIN, UOS), 3800, "小机箱", (0, 21.5, 23.8)),
    ComputerLine("宏碁", "商祺SQX4270", (I3, I5), (WIN,), 3700, "立式", (0, 21.5, 23.8)),
    ComputerLine("华硕", "ExpertCenter D700", (I5, R5, R7), (WIN,), 4300, "立式", (0, 23.8, 27)),
)

KX6640 = "兆芯KX-6640MA"
I5U, I7U, I5P, I7P = "英特尔酷睿i5-1335U", "英特尔酷睿i7-1355U", "英特尔酷睿i5-1340P", "英特尔酷睿i7-1360P"
I5V, I7V, I5H, I7H = "英特尔酷睿i5-1345U", "英特尔酷睿i7-1365U", "英特尔酷睿i5-13420H", "英特尔酷睿i7-13700H"
U5, U7 = "英特尔酷睿Ultra 5 125H", "英特尔酷睿Ultra 7 155H"
R5U, R7H = "AMD锐龙5 7530U", "AMD锐龙7 7840HS"

LAPTOP_LINES: tuple[ComputerLine, ...] = (
    ComputerLine(
        "联想", "昭阳K4e", (I5P, I7P), (WIN, UOS), 5200, screens=(14, 15.6), weight=1.5, battery=(45, 60)
    ),
    ComputerLine(
        "联想", "ThinkPad E14", (I5P, I7P, U5), (WIN,), 5600, screens=(14,), weight=1.41, battery=(47, 57)
    ),
    ComputerLine(
        "联想",
        "ThinkPad X1 Carbon",
        (U5, U7),
        (WIN,),
        10000,
        screens=(14,),
        weight=1.09,
        battery=(57,),
        memories=(16, 32),
    ),
    ComputerLine("联想", "开天N7", (KX6640,), XC, 5600, screens=(14,), weight=1.6, battery=(50,)),
    ComputerLine(
        "华为",
        "擎云L420",
        (KIRIN,),
        (UOS,),
        6800,
        screens=(14.2,),
        weight=1.44,
        battery=(56,),
        memories=(8, 16),
    ),
    ComputerLine(
        "华为",
        "MateBook 14",
        (U5, U7),
        (WIN,),
        6200,
        screens=(14.2,),
        weight=1.31,
        battery=(70,),
        memories=(16, 32),
    ),
    ComputerLine(
        "华为", "MateBook D 16", (I5H, I7H), (WIN,), 5200, screens=(16,), weight=1.72, battery=(70,)
    ),
    ComputerLine(
        "清华同方",
        "超锐F8500",
        (FT2000,),
        XC,
        6200,
        screens=(14,),
        weight=1.7,
        battery=(48,),
        memories=(8, 16),
    ),
    ComputerLine(
        "长城", "UF712", (D2000,), XC, 6500, screens=(14,), weight=1.65, battery=(52,), memories=(8, 16)
    ),
    ComputerLine(
        "惠普", "战99", (I5P, I7P, U5), (WIN,), 5600, screens=(14, 15.6), weight=1.55, battery=(51,)
    ),
    ComputerLine(
        "惠普",
        "EliteBook 840 G10",
        (I5V, I7V),
        (WIN,),
        8600,
        screens=(14,),
        weight=1.36,
        battery=(51, 76),
        memories=(16, 32),
    ),
    ComputerLine(
        "戴尔", "Latitude 5440", (I5V, I7V), (WIN,), 7000, screens=(14,), weight=1.49, battery=(42, 54)
    ),
    ComputerLine(
        "戴尔", "成就3430", (I5U, I7U), (WIN, UOS), 4700, screens=(14,), weight=1.47, battery=(41, 54)
    ),
    ComputerLine(
        "宏碁", "TravelMate P2", (I5U, I7U, R5U), (WIN,), 4800, screens=(14, 15.6), weight=1.56, battery=(50,)
    ),
    ComputerLine(
        "华硕", "ExpertBook B5", (I5P, I7P, R7H), (WIN,), 6300, screens=(14,), weight=1.28, battery=(66,)
    ),
)


@dataclass(frozen=True)
class ServerLine:
    brand: str
    series: str
    cpus: tuple[str, ...]
    form: str
    oses: tuple[str, ...]
    max_cpus: int = 2
    origin: str = "domestic"


KYLIN_S, UOS_S, EULER, WIN_S, NO_OS = (
    "银河麒麟高级服务器操作系统V10",
    "统信服务器操作系统V20",
    "openEuler 22.03 LTS",
    "Windows Server 2022 标准版",
    "无预装操作系统",
)
XC_S = (KYLIN_S, UOS_S, EULER, NO_OS)
ANY_S = (KYLIN_S, UOS_S, WIN_S, NO_OS)
SILVER, GOLD5, GOLD6, E2434, EPYC = (
    "英特尔至强银牌4410Y",
    "英特尔至强金牌5418Y",
    "英特尔至强金牌6430",
    "英特尔至强E-2434",
    "AMD EPYC 9354",
)

SERVER_LINES: tuple[ServerLine, ...] = (
    ServerLine("浪潮", "NF5280M7", (SILVER, GOLD5, GOLD6), "2U机架式", ANY_S),
    ServerLine("浪潮", "NF5180M7", (SILVER, GOLD5), "1U机架式", ANY_S),
    ServerLine("中科曙光", "H620-G30", ("海光7380", "海光5380"), "2U机架式", XC_S),
    ServerLine("中科曙光", "H320-G30", ("海光5380",), "1U机架式", XC_S),
    ServerLine("华为网络", "TaiShan 200 2280", ("鲲鹏920 4826", "鲲鹏920 7260"), "2U机架式", XC_S),
    ServerLine("新华三", "UniServer R4900 G6", (SILVER, GOLD5, GOLD6), "2U机架式", ANY_S),
    ServerLine("新华三", "UniServer R4700 G6", (SILVER, GOLD5), "1U机架式", ANY_S),
    ServerLine("联想", "ThinkSystem SR650 V3", (SILVER, GOLD6), "2U机架式", ANY_S),
    ServerLine("联想", "ThinkSystem ST250 V3", (E2434,), "塔式", (WIN_S, UOS_S, NO_OS), max_cpus=1),
    ServerLine("戴尔", "PowerEdge R760", (SILVER, GOLD6, EPYC), "2U机架式", (WIN_S, NO_OS)),
    ServerLine("戴尔", "PowerEdge T360", (E2434,), "塔式", (WIN_S, NO_OS), max_cpus=1),
    ServerLine("长城", "擎天EF860", ("飞腾S2500",), "2U机架式", XC_S),
)

# ---------------------------------------------------------------------------------------------
# Displays.


@dataclass(frozen=True)
class MonitorLine:
    brand: str
    series: str  # display series
    pattern: str  # model pattern with {size} and {suffix}
    resolution: str
    panel: str
    refresh_hz: int
    height_adjustable: bool
    sizes: tuple[float, ...]
    suffixes: tuple[str, ...]
    price_factor: float = 1.0


MONITOR_LINES: tuple[MonitorLine, ...] = (
    MonitorLine(
        "AOC",
        "商用",
        "{size}B2{suffix}",
        "1920×1080",
        "IPS",
        75,
        False,
        (21.5, 23.8, 27),
        ("H", "XH", "HM"),
        0.95,
    ),
    MonitorLine(
        "AOC", "商用升降", "{size}P2{suffix}", "1920×1080", "IPS", 75, True, (23.8, 27), ("H", "Q", "C"), 0.95
    ),
    MonitorLine(
        "AOC", "2K商用", "Q{size}P2{suffix}", "2560×1440", "IPS", 75, True, (23.8, 27), ("", "C", "U"), 0.95
    ),
    MonitorLine("AOC", "4K", "U{size}P2{suffix}", "3840×2160", "IPS", 60, True, (27, 31.5), ("", "CA"), 0.95),
    MonitorLine(
        "AOC", "高刷", "{size}G2{suffix}", "1920×1080", "IPS", 144, False, (23.8, 27), ("", "SP"), 0.95
    ),
    MonitorLine(
        "飞利浦",
        "E系列",
        "{size}1E1{suffix}",
        "1920×1080",
        "IPS",
        75,
        False,
        (21.5, 23.8, 27),
        ("", "H", "S"),
        1.0,
    ),
    MonitorLine(
        "飞利浦", "B系列", "{size}2B1{suffix}", "1920×1080", "IPS", 75, True, (23.8, 27), ("", "H", "TC"), 1.0
    ),
    MonitorLine(
        "飞利浦", "S系列", "{size}5S1{suffix}", "2560×1440", "IPS", 75, True, (23.8, 27), ("", "AE", "U"), 1.0
    ),
    MonitorLine(
        "飞利浦", "4K", "{size}8E1{suffix}", "3840×2160", "IPS", 60, False, (27, 31.5), ("", "Q"), 1.0
    ),
    MonitorLine(
        "三星",
        "S3系列",
        "S{size}C31{suffix}",
        "1920×1080",
        "VA",
        75,
        False,
        (21.5, 23.8, 27),
        ("0", "2", "4"),
        1.08,
    ),
    MonitorLine(
        "三星", "S4系列", "S{size}C43{suffix}", "1920×1080", "IPS", 100, True, (23.8, 27), ("0", "2"), 1.08
    ),
    MonitorLine(
        "三星",
        "S6系列",
        "S{size}C60{suffix}",
        "2560×1440",
        "IPS",
        100,
        True,
        (27, 31.5),
        ("0", "2", "4"),
        1.08,
    ),
    MonitorLine(
        "优派",
        "VA系列",
        "VA{size}62-{suffix}",
        "1920×1080",
        "VA",
        75,
        False,
        (21.5, 23.8, 27),
        ("H", "HD", "MH"),
        0.95,
    ),
    MonitorLine(
        "优派", "VG系列", "VG{size}55-{suffix}", "1920×1080", "IPS", 75, True, (23.8, 27), ("H", "HC"), 0.95
    ),
    MonitorLine(
        "优派",
        "VX系列",
        "VX{size}80-{suffix}",
        "2560×1440",
        "IPS",
        165,
        False,
        (27, 31.5),
        ("2K", "2K-PRO"),
        0.95,
    ),
    MonitorLine(
        "联想",
        "ThinkVision",
        "ThinkVision T{size}i-3{suffix}",
        "1920×1080",
        "IPS",
        75,
        True,
        (23.8, 27),
        ("0", "0A"),
        1.05,
    ),
    MonitorLine(
        "联想",
        "ThinkVision 2K",
        "ThinkVision T{size}q-3{suffix}",
        "2560×1440",
        "IPS",
        75,
        True,
        (23.8, 27),
        ("0", "0A"),
        1.05,
    ),
    MonitorLine(
        "联想",
        "ThinkVision E",
        "ThinkVision E{size}-2{suffix}",
        "1920×1080",
        "IPS",
        75,
        False,
        (21.5, 23.8, 27),
        ("8", "8A"),
        1.05,
    ),
    MonitorLine(
        "戴尔",
        "P系列",
        "P{size}23{suffix}",
        "1920×1080",
        "IPS",
        60,
        True,
        (21.5, 23.8, 27),
        ("H", "D", "DE"),
        1.18,
    ),
    MonitorLine(
        "戴尔", "U系列", "U{size}24{suffix}", "2560×1440", "IPS", 120, True, (23.8, 27), ("D", "DE"), 1.25
    ),
    MonitorLine(
        "戴尔", "4K", "U{size}23Q{suffix}", "3840×2160", "IPS", 60, True, (27, 31.5), ("", "E"), 1.25
    ),
    MonitorLine(
        "惠普", "P系列", "P{size}h G{suffix}", "1920×1080", "IPS", 75, True, (21.5, 23.8, 27), ("5", "4"), 1.1
    ),
    MonitorLine(
        "惠普", "E系列", "E{size}q G{suffix}", "2560×1440", "IPS", 75, True, (23.8, 27), ("5", "4"), 1.1
    ),
)

# ---------------------------------------------------------------------------------------------
# Printers, multifunction devices, copiers, scanners.


@dataclass(frozen=True)
class PrinterLine:
    brand: str
    pattern: str  # model pattern with {n} and {suffix}
    numbers: tuple[tuple[str, int], ...]  # (model number, pages per minute)
    suffixes: tuple[str, ...]  # letters: D duplex, N network, W Wi-Fi, F fax, A document feeder
    dpi: int
    duty_per_ppm: int  # monthly duty ≈ ppm × this
    color: bool = False
    inkjet: bool = False
    a3: bool = False
    origin: str = "domestic"
    price_factor: float = 1.0


MONO_PRINTER_LINES: tuple[PrinterLine, ...] = (
    PrinterLine(
        "奔图",
        "P{n}{suffix}",
        (
            ("2500", 22),
            ("3010", 30),
            ("3022", 30),
            ("3060", 30),
            ("3305", 33),
            ("3308", 33),
            ("3370", 33),
            ("5000", 40),
        ),
        ("D", "DN", "DW"),
        1200,
        1800,
    ),
    PrinterLine(
        "联想",
        "LJ{n}{suffix}",
        (("2405", 24), ("2605", 26), ("3303", 33), ("3803", 38), ("4003", 40)),
        ("D", "DN", "DW"),
        1200,
        1600,
    ),
    PrinterLine(
        "惠普",
        "LaserJet Pro {n}{suffix}",
        (("M203", 28), ("M305", 35), ("M405", 38), ("M406", 38), ("4003", 40), ("4004", 40)),
        ("d", "dn", "dw"),
        1200,
        2000,
        price_factor=1.15,
    ),
    PrinterLine(
        "佳能",
        "LBP{n}{suffix}",
        (("223", 33), ("226", 38), ("228", 38), ("236", 38), ("246", 40), ("325", 43)),
        ("d", "dn", "dw"),
        600,
        2000,
        price_factor=1.1,
    ),
    PrinterLine(
        "兄弟",
        "HL-{n}{suffix}",
        (("B2050", 34), ("L2310", 30), ("L2350", 30), ("L5100", 40), ("L5200", 40), ("L6200", 46)),
        ("D", "DN", "DW"),
        1200,
        1500,
    ),
    PrinterLine(
        "京瓷",
        "ECOSYS P{n}{suffix}",
        (("2040", 40), ("2235", 35), ("3045", 45), ("3145", 45), ("4140", 40)),
        ("d", "dn", "dw"),
        1200,
        2500,
        price_factor=1.15,
    ),
    PrinterLine(
        "理光",
        "P {n}{suffix}",
        (("311", 32), ("320", 34), ("501", 45), ("502", 45)),
        ("", "N", "DN"),
        1200,
        2200,
        price_factor=1.1,
    ),
    PrinterLine(
        "富士胶片",
        "ApeosPort Print {n}{suffix}",
        (("3410", 34), ("4020", 40), ("4830", 48)),
        ("D", "SD", "DW"),
        1200,
        2200,
        price_factor=1.15,
    ),
)

COLOR_PRINTER_LINES: tuple[PrinterLine, ...] = (
    PrinterLine(
        "奔图",
        "CP{n}{suffix}",
        (("1100", 18), ("2250", 24), ("2510", 25), ("5055", 30)),
        ("D", "DN", "DW"),
        1200,
        1500,
        color=True,
    ),
    PrinterLine(
        "惠普",
        "Color LaserJet Pro {n}{suffix}",
        (("M255", 21), ("M454", 27), ("3203", 25), ("4203", 33)),
        ("dn", "dw", "n"),
        600,
        1500,
        color=True,
        price_factor=1.15,
    ),
    PrinterLine(
        "佳能",
        "LBP{n}C{suffix}",
        (("613", 18), ("623", 21), ("633", 21), ("664", 27), ("673", 33)),
        ("dn", "dw", "x"),
        1200,
        1500,
        color=True,
        price_factor=1.1,
    ),
    PrinterLine(
        "兄弟",
        "HL-L{n}C{suffix}",
        (("3228", 24), ("3288", 24), ("8260", 31), ("8360", 31)),
        ("DN", "DW", "DWT"),
        600,
        1500,
        color=True,
    ),
    PrinterLine(
        "联想",
        "CS{n}{suffix}",
        (("2010", 18), ("3320", 24), ("3510", 30)),
        ("DN", "DW"),
        600,
        1400,
        color=True,
    ),
    PrinterLine(
        "爱普生",
        "L{n}",
        (("1118", 33), ("1218", 33), ("1258", 33), ("1259", 33), ("8058", 16), ("8158", 16)),
        ("",),
        5760,
        300,
        color=True,
        inkjet=True,
    ),
    PrinterLine(
        "惠普",
        "Smart Tank {n}",
        (("519", 11), ("581", 12), ("755", 15), ("7305", 15), ("7605", 15)),
        ("",),
        4800,
        300,
        color=True,
        inkjet=True,
    ),
    PrinterLine(
        "佳能",
        "G{n}",
        (("3800", 11), ("3820", 11), ("4800", 11), ("5080", 13), ("6080", 13), ("7080", 13)),
        ("",),
        4800,
        300,
        color=True,
        inkjet=True,
    ),
)

MFP_LINES: tuple[PrinterLine, ...] = (
    PrinterLine(
        "奔图",
        "M{n}{suffix}",
        (("6505", 22), ("6705", 22), ("7105", 33), ("7160", 33), ("7205", 33), ("7300", 33), ("8100", 40)),
        ("DN", "DW", "FDN", "FDW"),
        1200,
        1500,
    ),
    PrinterLine(
        "联想",
        "M{n}{suffix}",
        (("7400", 26), ("7605", 33), ("7628", 33), ("8950", 40)),
        ("DN", "DW", "FDW"),
        1200,
        1400,
    ),
    PrinterLine(
        "惠普",
        "LaserJet Pro MFP {n}{suffix}",
        (("M227", 28), ("M329", 38), ("M429", 38), ("4103", 40)),
        ("dn", "dw", "fdn", "fdw"),
        1200,
        1800,
        price_factor=1.15,
    ),
    PrinterLine(
        "惠普",
        "Color LaserJet Pro MFP {n}{suffix}",
        (("M282", 21), ("M479", 27), ("4303", 33)),
        ("dw", "fdn", "fdw"),
        600,
        1500,
        color=True,
        price_factor=1.15,
    ),
    PrinterLine(
        "佳能",
        "MF{n}{suffix}",
        (("266", 28), ("269", 28), ("445", 38), ("449", 38), ("543", 43)),
        ("dn", "dw", "x"),
        600,
        1600,
        price_factor=1.1,
    ),
    PrinterLine(
        "佳能",
        "MF{n}C{suffix}",
        (("643", 21), ("645", 21), ("655", 21), ("746", 27)),
        ("dw", "x"),
        1200,
        1500,
        color=True,
        price_factor=1.1,
    ),
    PrinterLine(
        "兄弟",
        "MFC-L{n}{suffix}",
        (("2710", 30), ("2730", 30), ("2750", 34), ("5710", 40), ("6710", 46)),
        ("DN", "DW"),
        1200,
        1500,
    ),
    PrinterLine(
        "兄弟", "DCP-L{n}{suffix}", (("2530", 30), ("2550", 34), ("5510", 40)), ("DN", "DW"), 1200, 1400
    ),
    PrinterLine(
        "京瓷",
        "ECOSYS M{n}{suffix}",
        (("2040", 40), ("2135", 35), ("2540", 40), ("3145", 45), ("5526", 26)),
        ("dn", "dnf", "dnw"),
        1200,
        2200,
        price_factor=1.1,
    ),
    PrinterLine(
        "爱普生",
        "L{n}",
        (("6558", 32), ("6578", 32), ("15158", 32), ("15168", 25), ("6198", 33)),
        ("",),
        4800,
        300,
        color=True,
        inkjet=True,
    ),
    PrinterLine(
        "理光", "M {n}{suffix}", (("320", 32), ("340", 34)), ("F", "FB"), 1200, 2000, price_factor=1.15
    ),
    PrinterLine(
        "夏普",
        "BP-M{n}{suffix}",
        (("2322", 23), ("2522", 25), ("3150", 31)),
        ("R", "D", "X"),
        600,
        2500,
        a3=True,
    ),
    PrinterLine(
        "柯尼卡美能达",
        "bizhub {n}{suffix}",
        (("226", 22), ("246", 24), ("306", 30)),
        ("i", "e"),
        600,
        2500,
        a3=True,
    ),
)


@dataclass(frozen=True)
class CopierLine:
    brand: str
    pattern: str  # {n}
    models: tuple[tuple[str, int, bool], ...]  # (number, ppm, colour)
    origin: str = "domestic"
    price_factor: float = 1.0


COPIER_LINES: tuple[CopierLine, ...] = (
    CopierLine(
        "理光",
        "IM {n}",
        (
            ("2702", 27, False),
            ("3000", 30, False),
            ("4000", 40, False),
            ("5000", 50, False),
            ("C2010", 20, True),
            ("C3000", 30, True),
            ("C4500", 45, True),
        ),
    ),
    CopierLine(
        "京瓷",
        "TASKalfa {n}",
        (
            ("2020", 20, False),
            ("3511i", 35, False),
            ("4012i", 40, False),
            ("2554ci", 25, True),
            ("3554ci", 35, True),
        ),
        price_factor=0.95,
    ),
    CopierLine(
        "柯尼卡美能达",
        "bizhub {n}",
        (
            ("287", 28, False),
            ("367", 36, False),
            ("450i", 45, False),
            ("C287i", 28, True),
            ("C360i", 36, True),
            ("C450i", 45, True),
        ),
    ),
    CopierLine(
        "富士胶片",
        "Apeos {n}",
        (
            ("2560", 25, False),
            ("3060", 30, False),
            ("4570", 45, False),
            ("C2560", 25, True),
            ("C3060", 30, True),
            ("C5570", 55, True),
        ),
        price_factor=1.05,
    ),
    CopierLine(
        "夏普",
        "BP-{n}",
        (("M2828R", 28, False), ("M3558R", 35, False), ("C2622R", 26, True), ("C3122R", 31, True)),
        price_factor=0.92,
    ),
    CopierLine(
        "佳能",
        "imageRUNNER ADVANCE DX {n}",
        (("4825", 25, False), ("4835", 35, False), ("C3826", 26, True), ("C5840", 40, True)),
        price_factor=1.08,
    ),
)
COPIER_CONFIGS = (
    ("标准配置", False, 1100, 2),
    ("含双面输稿器", True, 1100, 4),
    ("含双面输稿器+四纸盒", True, 2300, 4),
)


@dataclass(frozen=True)
class ScannerLine:
    brand: str
    pattern: str
    models: tuple[tuple[str, int], ...]  # (number, ppm)
    scanner_type: str
    a3: bool = False
    networked: bool = False
    origin: str = "domestic"
    price_factor: float = 1.0


SCANNER_LINES: tuple[ScannerLine, ...] = (
    ScannerLine("紫光", "Q{n}", (("2260", 60), ("1860", 40), ("2460", 70), ("3160", 80)), "馈纸式"),
    ScannerLine("紫光", "M{n}", (("3000", 30), ("4000", 40)), "平板+馈纸式"),
    ScannerLine(
        "汉王", "HW-{n}", (("8580", 80), ("7360", 60), ("6240", 40), ("5120", 30)), "馈纸式", price_factor=0.9
    ),
    ScannerLine("汉王", "HW-{n}A3", (("9200", 60), ("9600", 80)), "馈纸式", a3=True, price_factor=0.9),
    ScannerLine(
        "富士通",
        "fi-{n}",
        (("7160", 60), ("7260", 60), ("8170", 70), ("8190", 90), ("8290", 90), ("7460", 60), ("7480", 80)),
        "馈纸式",
        origin="imported",
        price_factor=1.2,
    ),
    ScannerLine("富士通", "SP-{n}", (("1425", 25), ("1130N", 30)), "馈纸式", origin="imported"),
    ScannerLine(
        "中晶", "FileScan {n}", (("1680", 60), ("1820", 80), ("2600", 50)), "馈纸式", price_factor=0.85
    ),
    ScannerLine(
        "中晶", "ScanMaker {n}", (("i800", 10), ("9800XL", 15)), "平板式", a3=True, price_factor=0.85
    ),
    ScannerLine(
        "爱普生",
        "DS-{n}",
        (("530II", 35), ("770II", 45), ("870", 65), ("970", 85), ("1630", 25)),
        "馈纸式",
        price_factor=1.05,
    ),
    ScannerLine("爱普生", "DS-{n}", (("32000", 90), ("30000", 70)), "馈纸式", a3=True, price_factor=1.05),
    ScannerLine(
        "佳能",
        "DR-{n}",
        (("C230", 30), ("M260", 60), ("G2110", 110), ("S250N", 50)),
        "馈纸式",
        price_factor=1.1,
    ),
    ScannerLine("兄弟", "ADS-{n}", (("2200", 35), ("3300W", 40), ("4300N", 40)), "馈纸式", networked=True),
)

# ---------------------------------------------------------------------------------------------
# Office equipment, furniture, supplies.


@dataclass(frozen=True)
class ShredderLine:
    brand: str
    pattern: str  # {n}
    base_number: int
    origin: str = "domestic"
    price_factor: float = 1.0


SHREDDER_LINES: tuple[ShredderLine, ...] = (
    ShredderLine("得力", "{n}", 9900, price_factor=0.9),
    ShredderLine("得力", "GS{n}", 100),
    ShredderLine("科密", "C-{n}", 600),
    ShredderLine("科密", "CM-{n}", 3800, price_factor=1.1),
    ShredderLine("齐心", "S{n}", 2100),
    ShredderLine("三木", "SSD{n}", 9300),
    ShredderLine("三木", "SD{n}", 9500, price_factor=1.05),
)
# (security level, cut, sheets per pass, bin litres, minutes, cards)
SHREDDER_PROFILES = (
    ("P-2", "条状", 12, 18, 5, False),
    ("P-3", "段状", 8, 15, 5, False),
    ("P-3", "段状", 12, 23, 10, True),
    ("P-4", "段状", 10, 25, 20, True),
    ("P-4", "段状", 15, 30, 30, True),
    ("P-4", "段状", 20, 35, 40, True),
    ("P-5", "粒状", 6, 20, 20, True),
    ("P-5", "粒状", 10, 28, 40, True),
    ("P-5", "粒状", 12, 36, 60, True),
    ("P-6", "粒状", 5, 30, 30, False),
    ("P-7", "粒状", 3, 40, 60, False),
    ("P-4", "段状", 30, 60, 60, True),
)


@dataclass(frozen=True)
class FurnitureLine:
    brand: str
    series: str
    code: str
    kind: str  # desk_type / chair_type / cabinet_type
    material: str
    colors: tuple[str, ...]
    base: int
    emission: str = "E0级"
    origin: str = "domestic"


DESK_LINES: tuple[FurnitureLine, ...] = (
    FurnitureLine(
        "震旦", "AE系列", "AE-DK", "职员桌", "人造板(三聚氰胺饰面)", ("浅橡木色", "白枫木色"), 1100, "E0级"
    ),
    FurnitureLine("震旦", "卓越系列", "ZY-MD", "主管桌", "人造板(实木贴皮)", ("胡桃木色",), 2600, "ENF级"),
    FurnitureLine("震旦", "Flex屏风", "FX-WS", "屏风工位", "钢木", ("灰白色", "浅橡木色"), 1500, "E0级"),
    FurnitureLine(
        "圣奥", "简约系列", "SA-D", "职员桌", "人造板(三聚氰胺饰面)", ("胡桃木色", "灰白色"), 950, "E1级"
    ),
    FurnitureLine("圣奥", "智升系列", "SA-EL", "电动升降桌", "钢木", ("白枫木色", "黑色"), 2300, "E0级"),
    FurnitureLine("圣奥", "尚品系列", "SP-MD", "主管桌", "实木", ("胡桃木色",), 3600, "ENF级"),
    FurnitureLine("美时", "Motion系列", "MT-EL", "电动升降桌", "钢木", ("灰白色", "黑色"), 2700, "ENF级"),
    FurnitureLine("美时", "Office系列", "MO-D", "职员桌", "钢木", ("浅橡木色", "白枫木色"), 1250, "E0级"),
    FurnitureLine("永艺", "升降桌", "YY-LT", "电动升降桌", "钢木", ("白枫木色", "胡桃木色"), 1900, "E0级"),
    FurnitureLine(
        "得力", "职员桌", "DL-ZY", "职员桌", "人造板(三聚氰胺饰面)", ("胡桃木色", "浅橡木色"), 850, "E1级"
    ),
    FurnitureLine("得力", "屏风工位", "DL-PF", "屏风工位", "钢木", ("灰白色",), 1050, "E1级"),
)
DESK_SIZES = {
    "职员桌": ((1200, 600), (1400, 700), (1600, 700), (1600, 800)),
    "主管桌": ((1600, 800), (1800, 900), (2000, 900), (2200, 1000)),
    "屏风工位": ((1200, 600), (1400, 700), (1500, 700)),
    "电动升降桌": ((1200, 600), (1400, 700), (1600, 800)),
}

CHAIR_LINES: tuple[FurnitureLine, ...] = (
    FurnitureLine("永艺", "沃克", "YY-WK", "职员椅", "网布", ("黑色", "灰色"), 650),
    FurnitureLine("永艺", "撑腰椅", "YY-CY", "主管椅", "网布", ("黑色", "灰色", "蓝色"), 1300),
    FurnitureLine("永艺", "会议椅", "YY-HY", "会议椅", "网布", ("黑色",), 420),
    FurnitureLine("震旦", "AE职员椅", "AE-CH", "职员椅", "网布", ("黑色", "蓝色"), 780),
    FurnitureLine("震旦", "行政椅", "ZD-EX", "主管椅", "真皮", ("黑色",), 2100),
    FurnitureLine("圣奥", "悦坐", "SA-YZ", "职员椅", "布艺", ("灰色", "蓝色"), 560),
    FurnitureLine("圣奥", "智坐", "SA-ZZ", "主管椅", "PU皮", ("黑色",), 1200),
    FurnitureLine("圣奥", "培训椅", "SA-PX", "培训椅", "布艺", ("蓝色", "黑色"), 410),
    FurnitureLine("美时", "Aeron风格", "MS-AR", "主管椅", "网布", ("黑色", "灰色"), 1900),
    FurnitureLine("美时", "会议椅", "MS-HY", "会议椅", "PU皮", ("黑色",), 680),
    FurnitureLine("得力", "职员椅", "DL-YZ", "职员椅", "网布", ("黑色", "灰色"), 430),
    FurnitureLine("得力", "实木会议椅", "DL-SM", "会议椅", "实木", ("胡桃木色",), 520),
)

CABINET_LINES: tuple[FurnitureLine, ...] = (
    FurnitureLine("得力", "钢制文件柜", "DL-GC", "对开门柜", "钢制", ("灰白色",), 620),
    FurnitureLine("得力", "钢制上玻下铁", "DL-BT", "上玻下铁柜", "钢制", ("灰白色", "蓝色"), 690),
    FurnitureLine("震旦", "钢柜系列", "ZD-SC", "对开门柜", "钢制", ("灰白色", "灰色"), 900),
    FurnitureLine("震旦", "抽屉柜", "ZD-DR", "四抽屉柜", "钢制", ("灰白色",), 1100),
    FurnitureLine(
        "圣奥", "木质文件柜", "SA-WC", "对开门柜", "人造板", ("胡桃木色", "浅橡木色"), 1200, "E0级"
    ),
    FurnitureLine("圣奥", "更衣柜", "SA-GY", "更衣柜", "钢制", ("灰白色",), 980),
    FurnitureLine("齐心", "钢制矮柜", "QX-AG", "矮柜", "钢制", ("灰白色", "黑色"), 600),
    FurnitureLine("美时", "实木书柜", "MS-SM", "对开门柜", "实木", ("胡桃木色",), 2000, "ENF级"),
)
CABINET_SIZES = {
    "对开门柜": ((900, 400, 1850), (900, 450, 2000), (850, 390, 1800)),
    "上玻下铁柜": ((900, 400, 1850), (850, 390, 1800)),
    "四抽屉柜": ((500, 620, 1320), (450, 620, 1320)),
    "更衣柜": ((900, 500, 1850), (1200, 500, 1850)),
    "矮柜": ((900, 400, 1000), (800, 400, 900), (1200, 400, 750)),
}


@dataclass(frozen=True)
class PaperLine:
    brand: str
    series: str
    base_70: int  # CNY for a box of 5 reams A4 70 g
    recycled: bool = False
    origin: str = "domestic"


PAPER_LINES: tuple[PaperLine, ...] = (
    PaperLine("得力", "莱茵河", 128),
    PaperLine("得力", "佳宣", 122),
    PaperLine("得力", "珊瑚海", 118),
    PaperLine("得力", "再生复印纸", 118, recycled=True),
    PaperLine("晨光", "绿晨光", 126),
    PaperLine("晨光", "蓝晨光", 132),
    PaperLine("晨光", "紫晨光", 138),
    PaperLine("亚太森博", "百旺", 135),
    PaperLine("亚太森博", "旗舰百旺", 142),
    PaperLine("亚太森博", "欣乐", 125),
    PaperLine("金光", "金旗舰", 145),
    PaperLine("金光", "金光王", 136),
    PaperLine("金光", "再生复印纸", 120, recycled=True),
    PaperLine("Double A", "Double A", 160, origin="imported"),
)
# (size, grammage, reams per box): a box of A4 70 g × 5 reams is the reference.
PAPER_PACKS = (
    ("A4", 70, 5),
    ("A4", 80, 5),
    ("A4", 70, 8),
    ("A4", 80, 4),
    ("A3", 70, 5),
    ("A3", 80, 4),
    ("A4", 70, 4),
)


@dataclass(frozen=True)
class CartridgeDef:
    code: str  # original cartridge code
    original_brand: str  # 惠普 / 奔图 / 佳能 / 兄弟 / 联想
    printers: str  # compatible printer models (text)
    yield_pages: int
    colors: tuple[str, ...]
    kind: str  # 鼓粉一体 / 粉盒 / 硒鼓
    original_price: int  # CNY, original, black


K = ("黑色",)
CMYK = ("黑色", "青色", "品红色", "黄色")
CARTRIDGES: tuple[CartridgeDef, ...] = (
    CartridgeDef("CF276A", "惠普", "惠普 LaserJet Pro M404/M405/MFP M428/M429", 3000, K, "鼓粉一体", 699),
    CartridgeDef("CF276X", "惠普", "惠普 LaserJet Pro M404/M405/MFP M428/M429", 10000, K, "鼓粉一体", 1099),
    CartridgeDef("CF230A", "惠普", "惠普 LaserJet Pro M203/MFP M227", 1600, K, "粉盒", 459),
    CartridgeDef("W1470A", "惠普", "惠普 LaserJet Enterprise M610/M611/M612", 10500, K, "鼓粉一体", 1199),
    CartridgeDef("W1510A", "惠普", "惠普 LaserJet Pro 4003/4004/MFP 4103", 3050, K, "鼓粉一体", 639),
    CartridgeDef("W2110A", "惠普", "惠普 Color LaserJet Pro M255/MFP M282/M283", 1350, CMYK, "鼓粉一体", 599),
    CartridgeDef("W2040A", "惠普", "惠普 Color LaserJet Pro M454/MFP M479", 2400, CMYK, "鼓粉一体", 879),
    CartridgeDef("TL-410", "奔图", "奔图 P3010/P3300/M6700/M7100 系列", 1500, K, "粉盒", 229),
    CartridgeDef("TL-410X", "奔图", "奔图 P3010/P3300/M6700/M7100 系列", 6000, K, "粉盒", 499),
    CartridgeDef("TO-405", "奔图", "奔图 P3305/P3308/M7105/M7160 系列", 6000, K, "粉盒", 459),
    CartridgeDef("DL-410", "奔图", "奔图 P3010/P3300/M6700/M7100 系列", 12000, K, "硒鼓", 329),
    CartridgeDef("CTL-1100", "奔图", "奔图 CP1100/CM1100 系列", 1000, CMYK, "粉盒", 329),
    CartridgeDef("CRG-057", "佳能", "佳能 LBP223/226/228, MF445/449", 3100, K, "鼓粉一体", 699),
    CartridgeDef("CRG-069", "佳能", "佳能 LBP673/MF752/MF756", 2100, CMYK, "鼓粉一体", 749),
    CartridgeDef("CRG-054", "佳能", "佳能 LBP621/623, MF641/643/645", 1500, CMYK, "鼓粉一体", 549),
    CartridgeDef("TN-2425", "兄弟", "兄弟 HL-L2350/2375, DCP-L2550, MFC-L2710/2750", 3000, K, "粉盒", 429),
    CartridgeDef("DR-2450", "兄弟", "兄弟 HL-L2350/2375, DCP-L2550, MFC-L2710/2750", 12000, K, "硒鼓", 499),
    CartridgeDef("TN-3435", "兄弟", "兄弟 HL-L5100/5200/6200, MFC-L5710/6710", 3000, K, "粉盒", 539),
    CartridgeDef("LT2451", "联想", "联想 LJ2405/LJ2605/M7400 Pro/M7605", 1500, K, "粉盒", 199),
    CartridgeDef("LD2451", "联想", "联想 LJ2405/LJ2605/M7400 Pro/M7605", 12000, K, "硒鼓", 279),
    CartridgeDef("TK-1178", "京瓷", "京瓷 ECOSYS M2540dn/M2040dn", 7200, K, "粉盒", 629),
    CartridgeDef("TK-3178", "京瓷", "京瓷 ECOSYS P3045/P3145/P3050", 15500, K, "粉盒", 899),
)
ORIGINAL_CARTRIDGE_BRANDS = ("惠普", "奔图")  # the original-supply brands the demo mall lists
COMPATIBLE_BRANDS = (("格之格", "NT-"), ("天威", "TW-"))


@dataclass(frozen=True)
class ProjectorLine:
    brand: str
    pattern: str  # {n}
    models: tuple[tuple[str, str, int], ...]  # (number, resolution, lumens)
    light: str
    throw: str
    weight: float
    wifi: bool
    origin: str = "domestic"
    price_factor: float = 1.0


XGA, WXGA, FHD, WUXGA, UHD = (
    "1024×768(XGA)",
    "1280×800(WXGA)",
    "1920×1080(1080P)",
    "1920×1200(WUXGA)",
    "3840×2160(4K)",
)
PROJECTOR_LINES: tuple[ProjectorLine, ...] = (
    ProjectorLine(
        "爱普生",
        "CB-{n}",
        (
            ("X06", XGA, 3600),
            ("X49", XGA, 3600),
            ("W06", WXGA, 3700),
            ("W52", WXGA, 4000),
            ("FH06", FHD, 3500),
            ("FH52", FHD, 4000),
            ("2265U", WUXGA, 5500),
            ("2255U", WUXGA, 5000),
        ),
        "灯泡",
        "标准",
        2.7,
        True,
    ),
    ProjectorLine(
        "爱普生",
        "CB-{n}",
        (("L530U", WUXGA, 5200), ("L630U", WUXGA, 6200), ("L730U", WUXGA, 7000), ("L260F", FHD, 4600)),
        "激光",
        "标准",
        8.5,
        True,
        price_factor=1.1,
    ),
    ProjectorLine(
        "爱普生",
        "CB-{n}",
        (("735Fi", FHD, 3600), ("710Ui", WUXGA, 4000), ("X40ST", XGA, 3300)),
        "激光",
        "超短焦",
        8.0,
        True,
    ),
    ProjectorLine(
        "明基",
        "{n}",
        (
            ("MX560", XGA, 4000),
            ("MX611", XGA, 4000),
            ("MW560", WXGA, 4000),
            ("MW632ST", WXGA, 3200),
            ("MH560", FHD, 3800),
            ("MH733", FHD, 4000),
            ("E580", FHD, 3600),
            ("TH690ST", FHD, 2300),
        ),
        "灯泡",
        "标准",
        2.4,
        False,
        price_factor=0.9,
    ),
    ProjectorLine(
        "明基",
        "{n}",
        (("LU785", WUXGA, 6000), ("LU710", WUXGA, 4000), ("LH730", FHD, 4000), ("LW730", WXGA, 4200)),
        "激光",
        "标准",
        6.5,
        False,
    ),
    ProjectorLine(
        "索尼",
        "VPL-{n}",
        (
            ("EX570", XGA, 4200),
            ("EW575", WXGA, 4300),
            ("EX455", XGA, 3600),
            ("PHZ61", WUXGA, 6400),
            ("PHZ51", WUXGA, 5300),
            ("FHZ85", WUXGA, 8000),
            ("CXF200", XGA, 4100),
        ),
        "灯泡",
        "标准",
        3.0,
        False,
        origin="imported",
        price_factor=1.15,
    ),
    ProjectorLine(
        "极米",
        "{n}",
        (
            ("RS 10", UHD, 3000),
            ("RS 10 Ultra", UHD, 3500),
            ("H6", UHD, 2400),
            ("Z7X", FHD, 1000),
            ("Mogo 3 Pro", FHD, 450),
        ),
        "LED",
        "标准",
        3.2,
        True,
        price_factor=1.0,
    ),
    ProjectorLine("极米", "{n}", (("A3", FHD, 3000), ("A3 Pro", UHD, 3200)), "激光", "超短焦", 7.0, True),
)
PROJECTOR_VARIANTS = (("", False), ("（含吊架）", True))


@dataclass(frozen=True)
class UpsLine:
    brand: str
    pattern: str  # {n}
    topology: str
    capacities: tuple[int, ...]  # VA
    power_factor: float
    rack: bool
    long_backup: bool
    origin: str = "domestic"
    price_factor: float = 1.0


UPS_LINES: tuple[UpsLine, ...] = (
    UpsLine("山特", "TG{n}", "后备式", (500, 1000), 0.6, False, False),
    UpsLine("山特", "MT{n}-Pro", "在线互动式", (1000, 1500, 2000), 0.6, False, False),
    UpsLine("山特", "C{n}KS", "在线式", (1, 2, 3, 6, 10), 0.9, False, True),
    UpsLine("山特", "C{n}K", "在线式", (1, 2, 3, 6, 10), 0.9, False, False),
    UpsLine("山特", "C{n}KRS", "在线式", (1, 2, 3, 6), 0.9, True, True),
    UpsLine("科华", "YTR{n}", "在线式", (1101, 1102, 1103, 1106, 1110), 0.9, False, False, price_factor=0.95),
    UpsLine(
        "科华", "YTR{n}-J", "在线式", (1101, 1102, 1103, 1106, 1110), 0.9, False, True, price_factor=0.95
    ),
    UpsLine("科华", "KR{n}", "在线式", (1, 2, 3, 6), 0.9, True, True, price_factor=0.95),
    UpsLine("华为数字能源", "UPS2000-A-{n}KTTS", "在线式", (1, 2, 3), 0.8, False, False, price_factor=1.05),
    UpsLine(
        "华为数字能源", "UPS2000-G-{n}KRTL", "在线式", (1, 2, 3, 6, 10), 0.9, True, True, price_factor=1.05
    ),
)


@dataclass(frozen=True)
class SwitchLine:
    brand: str
    pattern: str  # {ports} {poe} {uplink}
    layer: str
    speed: str
    ports: tuple[int, ...]
    uplinks: tuple[str, ...]
    poe: tuple[bool, ...]
    managed: bool
    base: int
    origin: str = "domestic"


SWITCH_LINES: tuple[SwitchLine, ...] = (
    SwitchLine(
        "华为网络",
        "S1730S-L{ports}{poe}{uplink}-A1",
        "二层",
        "千兆",
        (8, 16, 24, 48),
        ("无", "4个千兆SFP"),
        (False, True),
        True,
        700,
    ),
    SwitchLine(
        "华为网络",
        "S5735-L{ports}{poe}{uplink}-A1",
        "二层",
        "千兆",
        (8, 24, 48),
        ("4个千兆SFP", "4个万兆SFP+"),
        (False, True),
        True,
        1900,
    ),
    SwitchLine(
        "华为网络",
        "S5735-S{ports}{poe}{uplink}-A1",
        "三层",
        "千兆",
        (24, 48),
        ("4个万兆SFP+",),
        (False, True),
        True,
        4200,
    ),
    SwitchLine(
        "华为网络",
        "S6730-H{ports}{poe}{uplink}",
        "三层",
        "万兆",
        (24, 48),
        ("6个万兆SFP+",),
        (False,),
        True,
        26000,
    ),
    SwitchLine(
        "新华三",
        "S1850V2-{ports}{poe}{uplink}",
        "二层",
        "千兆",
        (8, 16, 24, 48),
        ("无", "4个千兆SFP"),
        (False, True),
        True,
        650,
    ),
    SwitchLine(
        "新华三",
        "S5130S-{ports}{poe}{uplink}-EI",
        "二层",
        "千兆",
        (24, 48),
        ("4个千兆SFP", "4个万兆SFP+"),
        (False, True),
        True,
        2100,
    ),
    SwitchLine(
        "新华三",
        "S5560X-{ports}{poe}{uplink}-EI",
        "三层",
        "千兆",
        (24, 48),
        ("4个万兆SFP+",),
        (False, True),
        True,
        6800,
    ),
    SwitchLine(
        "锐捷",
        "RG-S2910-{ports}G{poe}{uplink}-E",
        "二层",
        "千兆",
        (24, 48),
        ("4个千兆SFP", "4个万兆SFP+"),
        (False, True),
        True,
        1700,
    ),
    SwitchLine(
        "锐捷",
        "RG-ES2{ports}{poe}{uplink}",
        "二层",
        "千兆",
        (8, 16, 24),
        ("无", "2个千兆SFP"),
        (False, True),
        False,
        450,
    ),
    SwitchLine(
        "锐捷",
        "RG-S5760C-{ports}G{poe}{uplink}-L",
        "三层",
        "千兆",
        (24, 48),
        ("4个万兆SFP+",),
        (False, True),
        True,
        5600,
    ),
    SwitchLine(
        "中兴",
        "ZXR10 5960-{ports}{poe}{uplink}-H",
        "三层",
        "千兆",
        (24, 48),
        ("4个万兆SFP+",),
        (False, True),
        True,
        5200,
    ),
    SwitchLine(
        "中兴",
        "ZXR10 2900E-{ports}{poe}{uplink}",
        "二层",
        "千兆",
        (8, 24, 48),
        ("无", "4个千兆SFP"),
        (False, True),
        True,
        900,
    ),
)

# ---------------------------------------------------------------------------------------------
# Offers.

MARKET_SOURCES = ("京东自营 2026-10", "京东自营 2026-10", "天猫官方旗舰店 2026-10", "苏宁易购自营 2026-10")
