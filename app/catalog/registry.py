"""The attribute registries (属性注册表) of the standardized-goods categories the mall carries.

Reference data, not demo data: a real mall would start from the same definitions and let the
operator extend them. Every category is a leaf of the 2022 item catalogue
(``data/gp_catalog_2022.csv``); :func:`load_registries` checks code, name and leafness before it
writes anything.

Conventions:

- Shared attributes keep one code in every category (``memory_gb``, ``storage_gb``,
  ``screen_inch``, ``energy_class``, ``color``, ``material``, ``print_speed_ppm`` …), so a
  comparison or a facet means the same thing across categories. Their label or enum values may be
  narrowed per category (a server's ``cpu`` list differs from a laptop's).
- Brand, origin (国产/进口) and the policy flags (节能/环境标志) are ``Product`` columns, not specs.
- Units are the canonical keys of ``catalog_import.specs.UNIT_ALIASES``, so supplier uploads may
  write any accepted spelling (``16G``, ``16 GB`` …) and still land on the same unit.
- ``better`` says which way is better when comparing. For numbers and booleans it is the value
  (``True`` counts higher); for enums it is the position in ``enum_values``: ``lower`` means the
  earlier values are better (``energy_class`` 1级 first), ``higher`` the later ones
  (``security_level`` P-7 last).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.catalog.models import CATALOG_VERSION, Attribute, AttributeType, Better, Category
from app.extensions import db
from catalog_import.specs import AttributeSpec

NUMBER, ENUM, TEXT, BOOL = AttributeType.NUMBER, AttributeType.ENUM, AttributeType.TEXT, AttributeType.BOOL
HIGHER, LOWER = Better.HIGHER, Better.LOWER


@dataclass(frozen=True)
class AttributeDef:
    code: str
    label_zh: str
    label_en: str
    type: AttributeType
    unit: str | None = None
    required: bool = False
    facetable: bool = False
    comparable: bool = True
    better: Better | None = None
    enum_values: tuple[str, ...] = ()
    min_value: Decimal | None = None
    max_value: Decimal | None = None

    def but(self, **changes) -> AttributeDef:
        """The same shared attribute, narrowed for one category (label, enum values, range …)."""
        for key in ("min_value", "max_value"):
            if changes.get(key) is not None:
                changes[key] = Decimal(str(changes[key]))
        return replace(self, **changes)

    def spec(self) -> AttributeSpec:
        return AttributeSpec(
            code=self.code,
            label=self.label_zh,
            type=str(self.type),
            unit=self.unit,
            required=self.required,
            enum_values=self.enum_values,
            min_value=self.min_value,
            max_value=self.max_value,
        )


def attr(
    code: str,
    label_zh: str,
    label_en: str,
    type_: AttributeType,
    unit: str | None = None,
    *,
    required: bool = False,
    facetable: bool = False,
    comparable: bool = True,
    better: Better | None = None,
    values: tuple[str, ...] = (),
    min_value: float | int | None = None,
    max_value: float | int | None = None,
) -> AttributeDef:
    return AttributeDef(
        code=code,
        label_zh=label_zh,
        label_en=label_en,
        type=type_,
        unit=unit,
        required=required,
        facetable=facetable,
        comparable=comparable,
        better=better,
        enum_values=tuple(values),
        min_value=None if min_value is None else Decimal(str(min_value)),
        max_value=None if max_value is None else Decimal(str(max_value)),
    )


@dataclass(frozen=True)
class CategoryRegistry:
    code: str  # 2022 item code
    name: str  # its official name in the 2022 catalogue
    attributes: tuple[AttributeDef, ...]

    def specs(self) -> list[AttributeSpec]:
        return [a.spec() for a in self.attributes]

    def attribute(self, code: str) -> AttributeDef:
        for a in self.attributes:
            if a.code == code:
                return a
        raise KeyError(code)


# ---------------------------------------------------------------------------------------------
# Shared attributes: one code everywhere.

CPU = attr("cpu", "处理器", "Processor", ENUM, required=True, facetable=True)
CPU_COUNT = attr(
    "cpu_count",
    "处理器数量",
    "Processor sockets",
    NUMBER,
    "个",
    required=True,
    facetable=True,
    better=HIGHER,
    min_value=1,
    max_value=8,
)
MEMORY_GB = attr(
    "memory_gb",
    "内存容量",
    "Memory",
    NUMBER,
    "GB",
    required=True,
    facetable=True,
    better=HIGHER,
    min_value=1,
    max_value=4096,
)
STORAGE_GB = attr(
    "storage_gb",
    "存储容量",
    "Storage capacity",
    NUMBER,
    "GB",
    required=True,
    facetable=True,
    better=HIGHER,
    min_value=16,
    max_value=1_000_000,
)
STORAGE_TYPE = attr(
    "storage_type", "硬盘类型", "Storage type", ENUM, facetable=True, values=("SSD", "HDD", "SSD+HDD")
)
SCREEN_INCH = attr(
    "screen_inch", "屏幕尺寸", "Screen size", NUMBER, "英寸", facetable=True, min_value=7, max_value=120
)
OS = attr("os", "操作系统", "Operating system", ENUM, required=True, facetable=True)
WEIGHT_KG = attr("weight_kg", "重量", "Weight", NUMBER, "kg", better=LOWER, min_value=0.1, max_value=2000)
ENERGY_CLASS = attr(
    "energy_class",
    "能效等级",
    "Energy efficiency class",
    ENUM,
    facetable=True,
    better=LOWER,
    values=("1级", "2级", "3级"),
)
COLOR = attr("color", "颜色", "Colour", ENUM, facetable=True, comparable=False)
MATERIAL = attr("material", "材质", "Material", ENUM, required=True, facetable=True)
RESOLUTION = attr("resolution", "分辨率", "Resolution", ENUM, required=True, facetable=True, better=HIGHER)
FORM_FACTOR = attr("form_factor", "机箱类型", "Form factor", ENUM, facetable=True)
PRINT_SPEED = attr(
    "print_speed_ppm",
    "打印速度(A4)",
    "Print speed (A4)",
    NUMBER,
    "页/分钟",
    required=True,
    facetable=True,
    better=HIGHER,
    min_value=1,
    max_value=200,
)
DUPLEX = attr("duplex", "自动双面", "Automatic duplex", BOOL, required=True, facetable=True, better=HIGHER)
NETWORK = attr("network", "有线网络", "Wired network", BOOL, required=True, facetable=True, better=HIGHER)
WIFI = attr("wifi", "无线网络(Wi-Fi)", "Wi-Fi", BOOL, facetable=True, better=HIGHER)
MAX_DPI = attr(
    "max_resolution_dpi",
    "最高分辨率",
    "Maximum resolution",
    NUMBER,
    "dpi",
    better=HIGHER,
    min_value=150,
    max_value=9600,
)
MONTHLY_DUTY = attr(
    "monthly_duty_pages",
    "月最大打印负荷",
    "Maximum monthly duty cycle",
    NUMBER,
    "页",
    better=HIGHER,
    min_value=500,
    max_value=2_000_000,
)
PAPER_SIZE = attr(
    "paper_size", "最大幅面", "Maximum paper size", ENUM, required=True, facetable=True, values=("A4", "A3")
)
COLOR_MODE = attr(
    "color_mode", "色彩类型", "Colour mode", ENUM, required=True, facetable=True, values=("黑白", "彩色")
)
ADF = attr("adf", "自动输稿器", "Automatic document feeder", BOOL, facetable=True, better=HIGHER)
WIDTH_MM = attr(
    "width_mm", "宽度", "Width", NUMBER, "mm", required=True, facetable=True, min_value=100, max_value=6000
)
DEPTH_MM = attr("depth_mm", "深度", "Depth", NUMBER, "mm", required=True, min_value=100, max_value=3000)
HEIGHT_MM = attr("height_mm", "高度", "Height", NUMBER, "mm", required=True, min_value=100, max_value=3000)
# GB/T 39600-2021 classes of wood-based panels, best first.
EMISSION_CLASS = attr(
    "emission_class",
    "甲醛释放限量等级",
    "Formaldehyde emission class",
    ENUM,
    facetable=True,
    better=LOWER,
    values=("ENF级", "E0级", "E1级"),
)

# ---------------------------------------------------------------------------------------------
# Enumerations used by more than one category or by the demo generator.

DESKTOP_CPUS = (
    "龙芯3A6000",
    "龙芯3A5000",
    "飞腾D2000",
    "飞腾FT-2000/4",
    "兆芯KX-7000",
    "兆芯KX-U6780A",
    "海光3350",
    "海光3250",
    "麒麟9000C",
    "英特尔酷睿i3-13100",
    "英特尔酷睿i5-13500",
    "英特尔酷睿i5-14500",
    "英特尔酷睿i7-13700",
    "英特尔酷睿i7-14700",
    "AMD锐龙5 7600",
    "AMD锐龙7 7700",
)
LAPTOP_CPUS = (
    "飞腾FT-2000/4",
    "飞腾D2000",
    "兆芯KX-6640MA",
    "麒麟9000C",
    "英特尔酷睿i5-1335U",
    "英特尔酷睿i7-1355U",
    "英特尔酷睿i5-1340P",
    "英特尔酷睿i7-1360P",
    "英特尔酷睿i5-1345U",
    "英特尔酷睿i7-1365U",
    "英特尔酷睿i5-13420H",
    "英特尔酷睿i7-13700H",
    "英特尔酷睿Ultra 5 125H",
    "英特尔酷睿Ultra 7 155H",
    "AMD锐龙5 7530U",
    "AMD锐龙7 7840HS",
)
SERVER_CPUS = (
    "海光7380",
    "海光5380",
    "鲲鹏920 4826",
    "鲲鹏920 7260",
    "飞腾S2500",
    "英特尔至强E-2434",
    "英特尔至强银牌4410Y",
    "英特尔至强金牌5418Y",
    "英特尔至强金牌6430",
    "AMD EPYC 9354",
)
CLIENT_OS = ("统信UOS", "银河麒麟", "Windows 11 专业版")
SERVER_OS = (
    "银河麒麟高级服务器操作系统V10",
    "统信服务器操作系统V20",
    "openEuler 22.03 LTS",
    "Windows Server 2022 标准版",
    "无预装操作系统",
)
MONITOR_RESOLUTIONS = ("1920×1080", "2560×1440", "3840×2160")
PROJECTOR_RESOLUTIONS = (
    "1024×768(XGA)",
    "1280×800(WXGA)",
    "1920×1080(1080P)",
    "1920×1200(WUXGA)",
    "3840×2160(4K)",
)
FURNITURE_COLORS = ("胡桃木色", "浅橡木色", "白枫木色", "灰白色", "黑色", "灰色", "蓝色")
TONER_COLORS = ("黑色", "青色", "品红色", "黄色")

# ---------------------------------------------------------------------------------------------
# The categories.

REGISTRIES: tuple[CategoryRegistry, ...] = (
    CategoryRegistry(
        "A02010105",
        "台式计算机",
        (
            CPU.but(enum_values=DESKTOP_CPUS),
            MEMORY_GB,
            STORAGE_GB,
            STORAGE_TYPE,
            OS.but(enum_values=CLIENT_OS),
            FORM_FACTOR.but(enum_values=("小机箱", "立式", "一体机")),
            SCREEN_INCH.but(label_zh="显示器尺寸", label_en="Monitor size", min_value=18, max_value=34),
            ENERGY_CLASS,
        ),
    ),
    CategoryRegistry(
        "A02010108",
        "便携式计算机",
        (
            CPU.but(enum_values=LAPTOP_CPUS),
            MEMORY_GB,
            STORAGE_GB,
            SCREEN_INCH.but(required=True, min_value=10, max_value=18),
            OS.but(enum_values=CLIENT_OS),
            WEIGHT_KG.but(min_value=0.5, max_value=5),
            attr(
                "battery_wh",
                "电池容量",
                "Battery capacity",
                NUMBER,
                "Wh",
                better=HIGHER,
                min_value=20,
                max_value=120,
            ),
            ENERGY_CLASS,
        ),
    ),
    CategoryRegistry(
        "A02010104",
        "服务器",
        (
            CPU.but(enum_values=SERVER_CPUS),
            CPU_COUNT,
            MEMORY_GB,
            STORAGE_GB,
            FORM_FACTOR.but(enum_values=("1U机架式", "2U机架式", "4U机架式", "塔式"), required=True),
            OS.but(enum_values=SERVER_OS),
            attr("redundant_psu", "冗余电源", "Redundant power supply", BOOL, facetable=True, better=HIGHER),
        ),
    ),
    CategoryRegistry(
        "A02021104",
        "液晶显示器",
        (
            SCREEN_INCH.but(required=True, min_value=15, max_value=65),
            RESOLUTION.but(enum_values=MONITOR_RESOLUTIONS),
            attr("panel", "面板类型", "Panel type", ENUM, facetable=True, values=("IPS", "VA", "TN")),
            attr(
                "refresh_hz",
                "刷新率",
                "Refresh rate",
                NUMBER,
                "Hz",
                facetable=True,
                better=HIGHER,
                min_value=50,
                max_value=360,
            ),
            attr(
                "height_adjustable",
                "升降旋转支架",
                "Height-adjustable stand",
                BOOL,
                facetable=True,
                better=HIGHER,
            ),
            attr("interfaces", "视频接口", "Video inputs", TEXT, comparable=True),
            ENERGY_CLASS,
        ),
    ),
    CategoryRegistry(
        "A02021003",
        "A4黑白打印机",
        (
            PRINT_SPEED,
            DUPLEX,
            NETWORK,
            WIFI,
            MAX_DPI,
            MONTHLY_DUTY,
            ENERGY_CLASS,
        ),
    ),
    CategoryRegistry(
        "A02021004",
        "A4彩色打印机",
        (
            attr(
                "print_tech",
                "打印方式",
                "Print technology",
                ENUM,
                required=True,
                facetable=True,
                values=("激光", "喷墨(墨仓式)"),
            ),
            PRINT_SPEED,
            DUPLEX,
            NETWORK,
            WIFI,
            MAX_DPI,
            MONTHLY_DUTY,
            ENERGY_CLASS,
        ),
    ),
    CategoryRegistry(
        "A02020400",
        "多功能一体机",
        (
            attr(
                "functions",
                "功能",
                "Functions",
                ENUM,
                required=True,
                facetable=True,
                values=("打印/复印/扫描", "打印/复印/扫描/传真"),
            ),
            COLOR_MODE,
            PAPER_SIZE,
            PRINT_SPEED,
            DUPLEX,
            ADF,
            NETWORK,
            MONTHLY_DUTY,
            ENERGY_CLASS,
        ),
    ),
    CategoryRegistry(
        "A02020100",
        "复印机",
        (
            COLOR_MODE,
            PAPER_SIZE,
            PRINT_SPEED.but(label_zh="复印速度(A4)", label_en="Copy speed (A4)"),
            DUPLEX,
            ADF.but(label_zh="双面输稿器", label_en="Duplex document feeder"),
            MEMORY_GB.but(required=False, facetable=False, max_value=64),
            attr(
                "paper_capacity_sheets",
                "标准进纸容量",
                "Standard paper capacity",
                NUMBER,
                "张",
                better=HIGHER,
                min_value=100,
                max_value=10000,
            ),
            ENERGY_CLASS,
        ),
    ),
    CategoryRegistry(
        "A02021118",
        "扫描仪",
        (
            attr(
                "scanner_type",
                "扫描仪类型",
                "Scanner type",
                ENUM,
                required=True,
                facetable=True,
                values=("馈纸式", "平板式", "平板+馈纸式"),
            ),
            PAPER_SIZE,
            attr(
                "scan_speed_ppm",
                "扫描速度(A4)",
                "Scan speed (A4)",
                NUMBER,
                "页/分钟",
                required=True,
                facetable=True,
                better=HIGHER,
                min_value=1,
                max_value=300,
            ),
            DUPLEX.but(label_zh="双面扫描", label_en="Duplex scanning"),
            MAX_DPI.but(label_zh="光学分辨率", label_en="Optical resolution"),
            attr(
                "adf_capacity_sheets",
                "输稿器容量",
                "ADF capacity",
                NUMBER,
                "张",
                better=HIGHER,
                min_value=0,
                max_value=1000,
            ),
            attr(
                "daily_duty_pages",
                "日扫描量",
                "Daily duty cycle",
                NUMBER,
                "页",
                better=HIGHER,
                min_value=100,
                max_value=200000,
            ),
            NETWORK.but(required=False),
        ),
    ),
    CategoryRegistry(
        "A02021301",
        "碎纸机",
        (
            attr(
                "security_level",
                "保密等级",
                "Security level (DIN 66399)",
                ENUM,
                required=True,
                facetable=True,
                better=HIGHER,
                values=("P-1", "P-2", "P-3", "P-4", "P-5", "P-6", "P-7"),
            ),
            attr("shred_type", "碎纸方式", "Cut type", ENUM, facetable=True, values=("条状", "段状", "粒状")),
            attr(
                "sheets_per_pass",
                "单次碎纸量",
                "Sheets per pass",
                NUMBER,
                "张",
                required=True,
                facetable=True,
                better=HIGHER,
                min_value=1,
                max_value=100,
            ),
            attr(
                "bin_liters",
                "纸箱容积",
                "Bin volume",
                NUMBER,
                "升",
                required=True,
                better=HIGHER,
                min_value=1,
                max_value=300,
            ),
            attr(
                "continuous_minutes",
                "连续工作时间",
                "Continuous run time",
                NUMBER,
                "分钟",
                better=HIGHER,
                min_value=1,
                max_value=1440,
            ),
            attr(
                "shred_cards", "可碎卡片/光盘", "Shreds cards and discs", BOOL, facetable=True, better=HIGHER
            ),
        ),
    ),
    CategoryRegistry(
        "A05010201",
        "办公桌",
        (
            attr(
                "desk_type",
                "办公桌类型",
                "Desk type",
                ENUM,
                required=True,
                facetable=True,
                values=("职员桌", "主管桌", "屏风工位", "电动升降桌"),
            ),
            MATERIAL.but(enum_values=("钢木", "实木", "人造板(三聚氰胺饰面)", "人造板(实木贴皮)")),
            WIDTH_MM,
            DEPTH_MM,
            HEIGHT_MM.but(label_zh="高度(最高)", label_en="Height (max)"),
            COLOR.but(enum_values=FURNITURE_COLORS),
            EMISSION_CLASS,
        ),
    ),
    CategoryRegistry(
        "A05010301",
        "办公椅",
        (
            attr(
                "chair_type",
                "座椅类型",
                "Chair type",
                ENUM,
                required=True,
                facetable=True,
                values=("职员椅", "主管椅", "会议椅", "培训椅"),
            ),
            MATERIAL.but(enum_values=("网布", "真皮", "PU皮", "布艺", "实木")),
            attr(
                "armrest_adjustable", "扶手可调", "Adjustable armrests", BOOL, facetable=True, better=HIGHER
            ),
            attr("lumbar_support", "腰部支撑", "Lumbar support", BOOL, facetable=True, better=HIGHER),
            attr(
                "max_load_kg",
                "最大承重",
                "Maximum load",
                NUMBER,
                "kg",
                required=True,
                better=HIGHER,
                min_value=50,
                max_value=300,
            ),
            attr(
                "gas_lift_class",
                "气杆等级",
                "Gas lift class",
                ENUM,
                better=HIGHER,
                values=("无气杆", "2级", "3级", "4级"),
            ),
            COLOR.but(enum_values=FURNITURE_COLORS),
        ),
    ),
    CategoryRegistry(
        "A05010502",
        "文件柜",
        (
            attr(
                "cabinet_type",
                "柜型",
                "Cabinet type",
                ENUM,
                required=True,
                facetable=True,
                values=("对开门柜", "上玻下铁柜", "四抽屉柜", "更衣柜", "矮柜"),
            ),
            MATERIAL.but(enum_values=("钢制", "人造板", "实木")),
            WIDTH_MM,
            DEPTH_MM,
            HEIGHT_MM,
            attr(
                "steel_thickness_mm",
                "钢板厚度",
                "Steel sheet thickness",
                NUMBER,
                "mm",
                better=HIGHER,
                min_value=0.3,
                max_value=3,
            ),
            attr("lockable", "带锁", "Lockable", BOOL, better=HIGHER),
            COLOR.but(enum_values=FURNITURE_COLORS),
        ),
    ),
    CategoryRegistry(
        "A05040101",
        "复印纸",
        (
            PAPER_SIZE.but(label_zh="规格", label_en="Paper size"),
            attr(
                "grammage",
                "克重",
                "Grammage",
                NUMBER,
                "克",
                required=True,
                facetable=True,
                min_value=50,
                max_value=300,
            ),
            attr(
                "sheets_per_ream",
                "每包张数",
                "Sheets per ream",
                NUMBER,
                "张",
                required=True,
                min_value=100,
                max_value=1000,
            ),
            attr(
                "reams_per_box",
                "每箱包数",
                "Reams per box",
                NUMBER,
                required=True,
                facetable=True,
                min_value=1,
                max_value=20,
            ),
            attr("recycled", "再生纸", "Recycled paper", BOOL, facetable=True),
        ),
    ),
    CategoryRegistry(
        "A05040201",
        "鼓粉盒",
        (
            attr(
                "supply_type",
                "耗材类型",
                "Supply type",
                ENUM,
                required=True,
                facetable=True,
                values=("原装", "兼容", "再生"),
            ),
            attr(
                "cartridge_kind",
                "结构",
                "Construction",
                ENUM,
                facetable=True,
                values=("鼓粉一体", "粉盒", "硒鼓"),
            ),
            COLOR.but(enum_values=TONER_COLORS, required=True),
            attr(
                "yield_pages",
                "打印页数(5%覆盖率)",
                "Page yield (5% coverage)",
                NUMBER,
                "页",
                required=True,
                facetable=True,
                better=HIGHER,
                min_value=100,
                max_value=100000,
            ),
            attr(
                "compatible_printer", "适用机型", "Compatible printers", TEXT, required=True, comparable=False
            ),
        ),
    ),
    CategoryRegistry(
        "A02020200",
        "投影仪",
        (
            attr(
                "lumens",
                "亮度",
                "Brightness",
                NUMBER,
                "流明",
                required=True,
                facetable=True,
                better=HIGHER,
                min_value=100,
                max_value=50000,
            ),
            RESOLUTION.but(
                enum_values=PROJECTOR_RESOLUTIONS, label_zh="标准分辨率", label_en="Native resolution"
            ),
            attr(
                "light_source", "光源", "Light source", ENUM, facetable=True, values=("灯泡", "激光", "LED")
            ),
            attr(
                "throw_type",
                "投射类型",
                "Throw type",
                ENUM,
                facetable=True,
                values=("标准", "短焦", "超短焦"),
            ),
            WIFI,
            WEIGHT_KG.but(min_value=0.5, max_value=50),
            ENERGY_CLASS,
        ),
    ),
    CategoryRegistry(
        "A02061504",
        "不间断电源",
        (
            attr(
                "capacity_va",
                "额定容量",
                "Rated capacity",
                NUMBER,
                "VA",
                required=True,
                facetable=True,
                better=HIGHER,
                min_value=300,
                max_value=500000,
            ),
            attr(
                "power_w",
                "输出有功功率",
                "Output power",
                NUMBER,
                "W",
                better=HIGHER,
                min_value=100,
                max_value=500000,
            ),
            attr(
                "topology",
                "工作方式",
                "Topology",
                ENUM,
                required=True,
                facetable=True,
                values=("在线式", "在线互动式", "后备式"),
            ),
            attr(
                "backup_minutes",
                "满载后备时间",
                "Full-load backup time",
                NUMBER,
                "分钟",
                better=HIGHER,
                min_value=1,
                max_value=1440,
            ),
            attr(
                "battery",
                "电池配置",
                "Battery",
                ENUM,
                facetable=True,
                values=("内置电池(标准机)", "外接电池(长效机)"),
            ),
            attr("rack_mount", "机架式", "Rack-mountable", BOOL, facetable=True),
        ),
    ),
    CategoryRegistry(
        "A02010202",
        "交换设备",
        (
            attr(
                "ports",
                "下行端口数",
                "Downlink ports",
                NUMBER,
                "口",
                required=True,
                facetable=True,
                better=HIGHER,
                min_value=4,
                max_value=96,
            ),
            attr(
                "port_speed",
                "端口速率",
                "Port speed",
                ENUM,
                required=True,
                facetable=True,
                better=HIGHER,
                values=("百兆", "千兆", "2.5G", "万兆"),
            ),
            attr(
                "uplink",
                "上行端口",
                "Uplink ports",
                ENUM,
                better=HIGHER,
                values=("无", "2个千兆SFP", "4个千兆SFP", "4个万兆SFP+", "6个万兆SFP+"),
            ),
            attr(
                "layer",
                "交换层级",
                "Switching layer",
                ENUM,
                required=True,
                facetable=True,
                better=HIGHER,
                values=("二层", "三层"),
            ),
            attr("poe", "PoE供电", "PoE", BOOL, facetable=True, better=HIGHER),
            attr(
                "poe_budget_w",
                "PoE总功率",
                "PoE budget",
                NUMBER,
                "W",
                better=HIGHER,
                min_value=0,
                max_value=3000,
            ),
            attr("managed", "网管型", "Managed", BOOL, facetable=True, better=HIGHER),
        ),
    ),
)

REGISTRY_BY_CODE: dict[str, CategoryRegistry] = {r.code: r for r in REGISTRIES}


def _check_definitions() -> None:
    """Shared enum attributes get their values per category; catch one that was forgotten."""
    for registry in REGISTRIES:
        codes = [a.code for a in registry.attributes]
        if len(codes) != len(set(codes)):
            raise ValueError(f"{registry.code}: duplicate attribute codes")
        for a in registry.attributes:
            if (a.type is ENUM) != bool(a.enum_values):
                raise ValueError(f"{registry.code}.{a.code}: enum values on enum attributes only, and always")


_check_definitions()


def registry_specs(code: str) -> list[AttributeSpec]:
    """The registry of one category as validator input, without touching the database."""
    return REGISTRY_BY_CODE[code].specs()


class RegistryMismatch(RuntimeError):
    """The loaded catalogue does not hold a registry's category as the expected 2022 leaf."""


@dataclass
class RegistryLoadResult:
    categories: dict[str, Category]
    created: int
    updated: int


_FIELDS = (
    "label_zh",
    "label_en",
    "type",
    "unit",
    "required",
    "facetable",
    "comparable",
    "better",
    "min_value",
    "max_value",
    "position",
)


def _row_values(definition: AttributeDef, position: int) -> dict:
    return {
        "label_zh": definition.label_zh,
        "label_en": definition.label_en,
        "type": definition.type,
        "unit": definition.unit,
        "required": definition.required,
        "facetable": definition.facetable,
        "comparable": definition.comparable,
        "better": definition.better,
        "enum_values": list(definition.enum_values) or None,
        "min_value": definition.min_value,
        "max_value": definition.max_value,
        "position": position,
    }


def load_registries(version: str = CATALOG_VERSION) -> RegistryLoadResult:
    """Upsert the Attribute rows of every registry, keyed by (category, code); idempotent.

    The categories must already be loaded (``load_categories``). Attributes an operator added
    that are not in these definitions are left alone. Flushes, never commits."""
    codes = sorted(REGISTRY_BY_CODE)
    categories = {
        c.code: c
        for c in db.session.scalars(
            select(Category)
            .where(Category.catalog_version == version, Category.code.in_(codes))
            .options(selectinload(Category.attributes))
        )
    }
    problems = []
    for code in codes:
        expected = REGISTRY_BY_CODE[code]
        category = categories.get(code)
        if category is None:
            problems.append(f"{code} {expected.name}: 品目不存在")
        elif category.name != expected.name or not category.is_leaf:
            problems.append(
                f"{code}: 期望末级品目「{expected.name}」，实际「{category.name}」(末级={category.is_leaf})"
            )
    if problems:
        raise RegistryMismatch(f"{version} 品目目录与属性注册表不一致: " + "; ".join(problems))

    created = updated = 0
    for code in codes:
        category = categories[code]
        existing = {a.code: a for a in category.attributes}
        for index, definition in enumerate(REGISTRY_BY_CODE[code].attributes, start=1):
            values = _row_values(definition, position=index * 10)
            row = existing.get(definition.code)
            if row is None:
                category.attributes.append(Attribute(code=definition.code, **values))
                created += 1
                continue
            changed = False
            for key, value in values.items():
                current = getattr(row, key)
                if key in ("min_value", "max_value"):
                    same = (current is None and value is None) or (
                        current is not None and value is not None and Decimal(current) == value
                    )
                else:
                    same = current == value
                if not same:
                    setattr(row, key, value)
                    changed = True
            updated += changed
    db.session.flush()
    return RegistryLoadResult(categories=categories, created=created, updated=updated)
