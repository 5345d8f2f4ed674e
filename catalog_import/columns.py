"""The columns of a catalog upload: fixed offer columns, then the category's attribute columns.

A header cell carries the Chinese label and the column code, ``＊内存容量（GB）｜memory_gb``
(``＊`` marks a required column, the unit is in brackets). Columns are found by their code, so a
supplier may reorder them, and labels may be reworded; a header without a code (``内存容量``) is
still recognised by its exact label when that is unambiguous. ``label [code]`` is accepted too.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from catalog_import.errors import ImportFileError
from catalog_import.specs import AttributeSpec

CATALOG_VERSION = "2022"
REQUIRED_MARK = "＊"
HEADER_SEPARATOR = "｜"
# Columns an error report adds in front of the supplier's own: ignored when the report comes back.
ERROR_COLUMN = "错误说明"
ROW_NUMBER_COLUMN = "原行号"
IGNORED_HEADERS = frozenset({ERROR_COLUMN, ROW_NUMBER_COLUMN})
# A row whose supplier SKU cell starts with this is the template's example row: never imported.
EXAMPLE_MARKER = "示例"


@dataclass(frozen=True)
class Column:
    """One column of the upload. ``kind`` says how the validator reads it: text, money, int,
    regions, flag (是/否), origin (国产/进口) or attribute (``attribute`` holds its registry entry).
    ``required`` is required on every row; ``required_for_new`` only on rows that propose a new
    canonical product (a row quoting an existing product inherits those values)."""

    code: str
    label: str
    kind: str
    required: bool = False
    required_for_new: bool = False
    unit: str | None = None
    max_length: int = 200
    min_value: int | None = None
    max_value: int | None = None
    default: str = ""
    choices: tuple[str, ...] = ()
    help: str = ""
    example: str = ""
    attribute: AttributeSpec | None = None

    @property
    def is_attribute(self) -> bool:
        return self.attribute is not None

    @property
    def numeric(self) -> bool:
        """Whether the column holds numbers (kept numeric in XLSX exports)."""
        return self.kind in ("money", "int") or (
            self.attribute is not None and self.attribute.type == "number"
        )


BOOL_CHOICES = ("是", "否")
ORIGIN_CHOICES = ("国产", "进口")
ORIGIN_VALUES = {"国产": "domestic", "进口": "imported", "domestic": "domestic", "imported": "imported"}

OFFER_COLUMNS: tuple[Column, ...] = (
    Column(
        "supplier_sku",
        "供应商货号",
        "text",
        required=True,
        max_length=64,
        help="本公司内部的商品编码，同一供应商内唯一；再次上传相同货号即更新该报价。同一文件中不能重复。",
        example="SKU-0001",
    ),
    Column(
        "brand",
        "品牌",
        "text",
        required=True,
        max_length=64,
        help="商品品牌，如 联想、华为、得力。与型号一起识别标准商品（不区分大小写、全半角和分隔符）。",
        example="联想",
    ),
    Column(
        "model",
        "型号",
        "text",
        required=True,
        max_length=128,
        help="生产厂商的正式型号，与铭牌、说明书一致；不要加品牌、配置或促销文字。",
        example="ThinkCentre M70t",
    ),
    Column(
        "manufacturer",
        "生产厂商",
        "text",
        required_for_new=True,
        max_length=200,
        help="生产厂商全称。引用已有标准商品时可留空；提议新商品时必填。",
        example="联想（北京）有限公司",
    ),
    Column(
        "name",
        "商品名称",
        "text",
        required=True,
        max_length=300,
        help="展示给采购人的名称，建议“品牌 + 系列 + 型号 + 主要配置”。",
        example="联想 ThinkCentre M70t 台式计算机",
    ),
    Column(
        "price",
        "单价",
        "money",
        required=True,
        unit="元",
        help="含税含运费的成交单价（元），大于 0，最多两位小数，不得高于市场参考价。",
        example="4999.00",
    ),
    Column(
        "market_price",
        "市场参考价",
        "money",
        required=True,
        unit="元",
        help="同型号同配置的市场参考价（元），如主流电商平台自营店价格；单价不得高于此价。",
        example="5299.00",
    ),
    Column(
        "market_price_source",
        "参考价来源",
        "text",
        max_length=200,
        help="市场参考价的出处，如电商平台名称或商品链接。",
        example="京东自营",
    ),
    Column(
        "stock",
        "库存",
        "int",
        required=True,
        min_value=0,
        max_value=2_147_483_647,
        help="可供数量，不小于 0 的整数。",
        example="100",
    ),
    Column(
        "regions",
        "配送地区",
        "regions",
        required=True,
        help="可配送的省级地区：名称（江苏省 或 江苏）或行政区划代码（320000），多个用“、”“,”或“;”分隔；"
        "全部大陆省份可填“全国”。",
        example="全国",
    ),
    Column(
        "warranty_months",
        "质保",
        "int",
        unit="月",
        min_value=0,
        max_value=120,
        default="12",
        help="质保期（月），0 到 120 的整数；留空按 12 个月。",
        example="36",
    ),
    Column(
        "lead_time_days",
        "供货周期",
        "int",
        unit="天",
        min_value=0,
        max_value=180,
        default="3",
        help="下单后到货所需天数，0 到 180 的整数；留空按 3 天。",
        example="3",
    ),
    Column(
        "energy_saving",
        "节能产品",
        "flag",
        choices=BOOL_CHOICES,
        help="是否列入节能产品政府采购品目清单并取得认证：是/否。引用已有标准商品时留空即沿用。",
        example="是",
    ),
    Column(
        "environmental",
        "环境标志产品",
        "flag",
        choices=BOOL_CHOICES,
        help="是否取得中国环境标志产品认证：是/否。引用已有标准商品时留空即沿用。",
        example="否",
    ),
    Column(
        "origin",
        "产地",
        "origin",
        required_for_new=True,
        choices=ORIGIN_CHOICES,
        help="国产 或 进口。提议新商品时必填；引用已有标准商品时留空即沿用。",
        example="国产",
    ),
)
OFFER_CODES = frozenset(c.code for c in OFFER_COLUMNS)


def attribute_column(spec: AttributeSpec) -> Column:
    kind_help = {
        "number": f"数字{f'，单位 {spec.unit}（可写 16、16{spec.unit} 等）' if spec.unit else ''}",
        "enum": "从下拉列表中选择：" + "、".join(spec.enum_values),
        "bool": "是 或 否",
        "text": f"文字，不超过 {spec.max_length} 个字符",
    }[spec.type]
    limits = []
    if spec.min_value is not None:
        limits.append(f"不小于 {spec.min_value}")
    if spec.max_value is not None:
        limits.append(f"不大于 {spec.max_value}")
    rules = f"；{'，'.join(limits)}" if limits else ""
    choices = spec.enum_values if spec.type == "enum" else BOOL_CHOICES if spec.type == "bool" else ()
    return Column(
        code=spec.code,
        label=spec.label,
        kind="attribute",
        required_for_new=spec.required,
        unit=spec.unit,
        max_length=spec.max_length,
        choices=choices,
        help=f"规格参数（{kind_help}{rules}）。"
        + ("提议新商品时必填；" if spec.required else "")
        + "引用已有标准商品时须与其规格一致，留空即沿用。",
        example=spec.example_value(),
        attribute=spec,
    )


@dataclass(frozen=True)
class CategorySpec:
    """What an upload of one category looks like: its code (with the catalogue version the code
    belongs to) and its attribute registry. The app builds it from its Attribute rows."""

    code: str
    catalog_version: str
    name: str
    attributes: tuple[AttributeSpec, ...]
    columns: tuple[Column, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        attributes = tuple(self.attributes)
        object.__setattr__(self, "attributes", attributes)
        codes = [a.code for a in attributes]
        clashes = sorted(set(codes) & OFFER_CODES)
        if clashes:
            raise ValueError(f"{self.code}: attribute codes clash with offer columns: {clashes}")
        if len(codes) != len(set(codes)):
            raise ValueError(f"{self.code}: duplicate attribute codes")
        object.__setattr__(self, "columns", OFFER_COLUMNS + tuple(attribute_column(a) for a in attributes))

    @property
    def title(self) -> str:
        return f"{self.code} {self.name}"

    def column(self, code: str) -> Column:
        for column in self.columns:
            if column.code == code:
                return column
        raise KeyError(code)


# ---------------------------------------------------------------------------------------------
# Header cells.


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def header_label(column: Column) -> str:
    mark = REQUIRED_MARK if column.required or column.required_for_new else ""
    unit = f"（{column.unit}）" if column.unit else ""
    return f"{mark}{column.label}{unit}"


def header_cell(column: Column) -> str:
    """``＊内存容量（GB）｜memory_gb``."""
    return f"{header_label(column)}{HEADER_SEPARATOR}{column.code}"


_CODE = r"[A-Za-z][A-Za-z0-9_]*"
_WITH_CODE = re.compile(rf"^(?P<label>.*?)\s*(?:\|\s*(?P<a>{_CODE})|\[\s*(?P<b>{_CODE})\s*\])\s*$")
_BARE_CODE = re.compile(rf"^{_CODE}$")


def _label_key(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    return re.sub(r"[\s*]+", "", text)


def parse_header_cell(text: str) -> tuple[str | None, str]:
    """(code or None, label) of a header cell. The code is lower-cased."""
    norm = unicodedata.normalize("NFKC", text).strip()
    match = _WITH_CODE.match(norm)
    if match:
        return (match.group("a") or match.group("b")).lower(), match.group("label").strip()
    if _BARE_CODE.match(norm):
        return norm.lower(), ""
    return None, norm


@dataclass(frozen=True)
class ColumnMap:
    """Where each known column is in the file. ``positions`` maps code → 0-based index;
    ``unlabelled`` are indexes of columns whose header cell is blank (data there is an error);
    ``ignored`` are the error-report columns. ``header`` is the file's header as read."""

    spec: CategorySpec
    header: tuple[str, ...]
    positions: dict[str, int]
    unlabelled: tuple[int, ...]
    ignored: tuple[int, ...]

    def location(self, index: int) -> str:
        label = self.header[index].strip() if index < len(self.header) else ""
        return f"第 {column_letter(index)} 列" + (f"（{label}）" if label else "")


def _label_index(spec: CategorySpec) -> dict[str, str | None]:
    index: dict[str, str | None] = {}
    for column in spec.columns:
        unit = f"({column.unit})" if column.unit else ""
        for variant in {column.label, column.label + unit}:
            key = _label_key(variant)
            index[key] = None if key in index and index[key] != column.code else column.code
    return index


def bind_header(header: Sequence[str], spec: CategorySpec) -> ColumnMap:
    """Map the file's header to the category's columns, or raise :class:`ImportFileError` naming
    every unknown, duplicate and missing column."""
    known = {c.code: c for c in spec.columns}
    labels = _label_index(spec)
    positions: dict[str, int] = {}
    unlabelled: list[int] = []
    ignored: list[int] = []
    problems: list[str] = []
    recognised = 0
    for index, raw in enumerate(header):
        text = (raw or "").strip()
        where = f"表头第 {column_letter(index)} 列「{text[:40]}」"
        if not text:
            unlabelled.append(index)
            continue
        if _label_key(text) in IGNORED_HEADERS:
            ignored.append(index)
            continue
        code, _label = parse_header_cell(text)
        if code is None:
            code = labels.get(_label_key(text))
            if code is None:
                problems.append(
                    f"{where}无法识别：表头应为模板中的“中文名｜代码”格式（如「{header_cell(spec.columns[0])}」），"
                    "请从模板复制表头"
                )
                continue
        column = known.get(code)
        if column is None:
            problems.append(
                f"{where}：品目「{spec.title}」没有代码为 {code} 的列；请删除该列，或下载本品目的最新模板"
            )
            continue
        recognised += 1
        if code in positions:
            first = column_letter(positions[code])
            problems.append(
                f"「{column.label}」列（{code}）出现了两次："
                f"第 {first} 列和第 {column_letter(index)} 列，请删除其中一列"
            )
            continue
        positions[code] = index
    if recognised == 0:
        raise ImportFileError(
            f"未找到表头：第一行应为模板的表头（如「{header_cell(spec.columns[0])}」），"
            "请使用下载的模板，不要删除或改动表头行",
            code="missing_header",
            row=1,
        )
    for column in spec.columns:
        if column.required and column.code not in positions:
            problems.append(f"缺少必填列「{column.label}」（代码 {column.code}），请使用本品目的最新模板")
    if problems:
        raise ImportFileError("表头有误：" + "；".join(problems), code="bad_header", problems=problems, row=1)
    return ColumnMap(
        spec=spec,
        header=tuple(header),
        positions=positions,
        unlabelled=tuple(unlabelled),
        ignored=tuple(ignored),
    )
