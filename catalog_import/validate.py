"""Validate an upload row by row, streaming, with memory that does not grow with the rows' content.

For every data row :func:`validate` yields a :class:`RowResult`: either the clean offer and
product data, or the row's errors. Each error names the row (as the supplier sees it in the
spreadsheet, header = row 1), the column by its Chinese label, and the fix::

    第 12 行「内存容量」：应为数字（单位：GB），例如 16，收到「十六」

The checks: required values; typed coercion of every attribute through the category's registry
(``16GB``, ``16 G`` and ``16`` are all 16 for ``memory_gb``); money as Decimal with at most two
decimals, above zero and not above the market reference price (``价格高于市场参考价``); stock and
other integers; delivery regions; 是/否 flags; 国产/进口; duplicate supplier SKUs within the file
(naming both rows); and the product: brand + model → dedup key → an existing canonical product
(whose specs the row must not contradict) or a proposal for a new one (refused when it looks like
an existing product renamed: same brand, same specs, a model that differs only by a prefix or a
suffix).

Rows are read in batches so the product lookup makes one query per batch. What is kept across rows
is only what the cross-row checks need, in compact arrays: a 64-bit hash of every SKU with its
first row, and for each proposed new product the hashes of its values.
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from typing import Any

from catalog_import.columns import (
    EXAMPLE_MARKER,
    ORIGIN_VALUES,
    CategorySpec,
    Column,
    ColumnMap,
    bind_header,
    column_letter,
)
from catalog_import.errors import ImportFileError
from catalog_import.normalize import CONTROL_CHARS, clean_text, key_part, model_variant
from catalog_import.products import MatchedProduct, ProductLookup, SkuLookup
from catalog_import.reader import Table
from catalog_import.regions import RegionError, parse_regions
from catalog_import.specs import (
    FALSE_WORDS,
    REQUIRED_DETAIL,
    TRUE_WORDS,
    AttributeSpec,
    SpecValidator,
    format_spec_value,
)

CENT = Decimal("0.01")
MAX_MONEY = Decimal("999999999999.99")  # Numeric(14, 2)
ORIGIN_LABELS = {"domestic": "国产", "imported": "进口"}


@dataclass(frozen=True, slots=True)
class RowError:
    """One problem of one row. ``column`` is the column code (None for the row as a whole)."""

    row: int
    column: str | None
    label: str
    detail: str
    unit: str = "行"

    @property
    def message(self) -> str:
        if self.column is None:
            return f"第 {self.row} {self.unit}：{self.detail}"
        return f"第 {self.row} {self.unit}「{self.label}」：{self.detail}"

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True, slots=True)
class OfferData:
    supplier_sku: str
    price: Decimal
    market_price: Decimal
    market_price_source: str
    stock: int
    regions: tuple[str, ...]
    warranty_months: int
    lead_time_days: int


@dataclass(frozen=True, slots=True)
class ProductData:
    """The canonical product a row quotes: the existing one (its own values) or the proposal."""

    brand: str
    model: str
    manufacturer: str
    name: str
    dedup_key: str
    specs: dict[str, Any]
    energy_saving: bool
    environmental: bool
    origin: str  # domestic | imported


@dataclass(slots=True)
class RowResult:
    """One data row. When ``ok``: ``offer`` and ``product`` are set, and ``product_id`` is the
    matched canonical product, or None when the row proposes a new one, first proposed on row
    ``new_product_row`` (rows proposing the same brand + model share one new product)."""

    row: int
    cells: list[str]
    errors: list[RowError] = field(default_factory=list)
    offer: OfferData | None = None
    product: ProductData | None = None
    product_id: int | None = None
    new_product_row: int | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def is_new_product(self) -> bool:
        return self.ok and self.product_id is None

    @property
    def message(self) -> str:
        """All errors of the row, one sentence each, for the error report's 错误说明 column."""
        return "；".join(error.message for error in self.errors)


@dataclass
class ValidationStats:
    rows: int = 0  # data rows read (the example row and blank rows not counted)
    ok_rows: int = 0
    error_rows: int = 0
    errors: int = 0
    matched: int = 0
    new_products: int = 0  # distinct new products proposed by clean rows
    skipped_examples: int = 0
    done: bool = False

    @property
    def ok(self) -> bool:
        return self.error_rows == 0


class _HashIndex:
    """A set of 64-bit hashes with an int per entry, in flat arrays (12 bytes a slot): what a
    dict of a hundred thousand strings would hold in tens of megabytes. Two different keys with
    the same 64-bit hash would be taken for one; with 200,000 keys the odds are about 1 in 10⁹."""

    def __init__(self, capacity: int = 1024):
        self._keys = array("q", bytes(8 * capacity))
        self._values = array("i", bytes(4 * capacity))  # row numbers and indexes: < 2**31
        self._mask = capacity - 1
        self._count = 0

    @staticmethod
    def _hash(key: str) -> int:
        value = hash(key)
        return value or 1  # 0 marks an empty slot

    def get(self, key: str) -> int | None:
        h = self._hash(key)
        keys, mask = self._keys, self._mask
        slot = h & mask
        while True:
            current = keys[slot]
            if current == h:
                return self._values[slot]
            if current == 0:
                return None
            slot = (slot + 1) & mask

    def add(self, key: str, value: int) -> int | None:
        """Insert; when the key is already there, return its value and keep it."""
        h = self._hash(key)
        keys, mask = self._keys, self._mask
        slot = h & mask
        while True:
            current = keys[slot]
            if current == h:
                return self._values[slot]
            if current == 0:
                break
            slot = (slot + 1) & mask
        keys[slot] = h
        self._values[slot] = value
        self._count += 1
        if self._count * 2 > len(keys):
            self._grow()
        return None

    def _grow(self) -> None:
        old_keys, old_values = self._keys, self._values
        capacity = len(old_keys) * 2
        self._keys = array("q", bytes(8 * capacity))
        self._values = array("i", bytes(4 * capacity))
        self._mask = capacity - 1
        keys, values, mask = self._keys, self._values, self._mask
        for h, value in zip(old_keys, old_values, strict=True):
            if h:
                slot = h & mask
                while keys[slot]:
                    slot = (slot + 1) & mask
                keys[slot] = h
                values[slot] = value

    def __len__(self) -> int:
        return self._count


# ---------------------------------------------------------------------------------------------
# Cell parsers: each returns the value or raises ValueError with the fix (without the label).

_MONEY = re.compile(r"^¥?\s*(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?\s*(?:元)?$")
_INTEGER = re.compile(r"^[+]?\d+(?:\.0+)?$")


def parse_money(text: str, example: str) -> Decimal:
    value = clean_text(text)
    match = _MONEY.match(value)
    if not match:
        if value.startswith("-") and _MONEY.match(value[1:]):
            raise ValueError("必须大于 0")
        raise ValueError(f"应为金额（元），例如 {example}，收到「{value[:40]}」")
    amount = Decimal(match.group(1).replace(",", "") + (match.group(2) or ""))
    if amount <= 0:
        raise ValueError("必须大于 0")
    if amount != amount.quantize(CENT):
        raise ValueError(f"最多保留两位小数（精确到分），收到「{value[:40]}」")
    if amount > MAX_MONEY:
        raise ValueError(f"金额过大，不能超过 {MAX_MONEY:,} 元")
    return amount.quantize(CENT)


def parse_int(text: str, column: Column) -> int:
    value = clean_text(text)
    unit = column.unit or ""
    if not _INTEGER.match(value):
        try:
            number = Decimal(value.removesuffix(unit).strip()) if value else None
        except InvalidOperation:
            number = None
        if number is not None and number.is_finite() and number == number.to_integral_value():
            value = str(int(number))
        elif number is not None and number.is_finite() and number < 0:
            raise ValueError(f"不能小于 {column.min_value or 0}")
        else:
            example = column.example or "0"
            raise ValueError(
                f"应为整数{f'（单位：{unit}）' if unit else ''}，例如 {example}，收到「{value[:40]}」"
            )
    number = int(Decimal(value))
    if column.min_value is not None and number < column.min_value:
        raise ValueError(f"不能小于 {column.min_value}")
    if column.max_value is not None and number > column.max_value:
        raise ValueError(f"不能大于 {column.max_value:,}")
    return number


def parse_region_cell(text: str) -> tuple[str, ...]:
    try:
        regions = parse_regions(text)
    except RegionError as exc:
        raise ValueError(
            f"无法识别的地区「{'、'.join(u[:20] for u in exc.unknown[:5])}」；请填写省级名称"
            "（如 江苏省 或 江苏）或行政区划代码（如 320000），多个用“、”分隔，全部大陆省份填“全国”"
        ) from exc
    if not regions:
        raise ValueError("请填写配送地区，例如 全国 或 江苏省、浙江省")
    return regions


def parse_flag(text: str) -> bool:
    value = clean_text(text).lower()
    if value in TRUE_WORDS:
        return True
    if value in FALSE_WORDS:
        return False
    raise ValueError(f"应填写“是”或“否”，收到「{value[:40]}」")


def parse_origin(text: str) -> str:
    value = clean_text(text)
    origin = ORIGIN_VALUES.get(value.lower())
    if origin is None:
        raise ValueError(f"应填写“国产”或“进口”，收到「{value[:40]}」")
    return origin


# ---------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Pending:
    """A row between parsing (before the product lookup) and its verdict."""

    result: RowResult
    offer: dict[str, Any]
    raw_specs: dict[str, str]
    key: str | None


ProgressCallback = Callable[[ValidationStats], None]


class Validator:
    """Validates the rows of one upload (one category, one supplier). Create one per upload:
    it remembers the SKUs and new products it has seen."""

    def __init__(
        self,
        spec: CategorySpec,
        products: ProductLookup,
        *,
        existing_skus: SkuLookup | None = None,
        on_progress: ProgressCallback | None = None,
        progress_every: int = 1000,
        batch_size: int = 500,
        unit: str = "行",
    ):
        self.spec = spec
        self.products = products
        self.existing_skus = existing_skus
        self.on_progress = on_progress
        self.progress_every = max(1, progress_every)
        self.batch_size = max(1, batch_size)
        self.unit = unit
        self.stats = ValidationStats()
        self._strict = SpecValidator(spec.attributes)
        self._relaxed = SpecValidator(replace(a, required=False) for a in spec.attributes)
        self._attributes: dict[str, AttributeSpec] = {a.code: a for a in spec.attributes}
        self._labels = {c.code: c.label for c in spec.columns}
        self._skus = _HashIndex()
        self._new_keys = _HashIndex()
        # Per new product: the hash of each attribute value, then manufacturer, flags and origin.
        self._consistency_codes = [
            *self._attributes,
            "manufacturer",
            "energy_saving",
            "environmental",
            "origin",
        ]
        self._new_hashes = array("q")
        self._new_rows = array("q")
        # Row-level problems found before the row reaches the validator (validate_records).
        self._row_notes: dict[int, str] = {}

    # -- entry points --------------------------------------------------------------------------

    def bind(self, header: Sequence[str]) -> ColumnMap:
        return bind_header(header, self.spec)

    def run(self, rows: Iterable[tuple[int, list[str]]], columns: ColumnMap) -> Iterator[RowResult]:
        """Validate ``rows`` (``(row_number, cells)``, cells in the file's column order)."""
        offer_plan, attribute_plan = self._plan(columns)
        self._sku_position = columns.positions.get("supplier_sku")
        header_width = len(columns.header)
        unlabelled = columns.unlabelled
        batch: list[_Pending] = []
        stats = self.stats
        next_progress = self.progress_every
        for row, cells in rows:
            pending = self._parse(row, cells, offer_plan, attribute_plan, header_width, unlabelled)
            if pending is None:
                continue
            batch.append(pending)
            if len(batch) >= self.batch_size:
                yield from self._finish(batch)
                batch.clear()
                if self.on_progress is not None and stats.rows >= next_progress:
                    next_progress = stats.rows + self.progress_every
                    self.on_progress(stats)
        if batch:
            yield from self._finish(batch)
        if stats.rows == 0:
            raise ImportFileError(
                "文件中没有数据行（只有表头"
                + ("和示例行" if stats.skipped_examples else "")
                + "）；请从第 2 行起每行填写一个商品",
                code="no_rows",
            )
        stats.done = True
        if self.on_progress is not None:
            self.on_progress(stats)

    # -- phase 1: one row on its own ---------------------------------------------------------

    def _error(self, result: RowResult, column: str | None, detail: str) -> None:
        label = self._labels.get(column, "") if column else ""
        result.errors.append(RowError(result.row, column, label, detail, self.unit))

    def _plan(self, columns: ColumnMap) -> tuple[list, list]:
        """Per bound column, in spec order: (code, position, parser, required, default) for offer
        columns and (code, position) for attribute columns."""
        offer_plan = []
        attribute_plan = []
        for column in self.spec.columns:
            position = columns.positions.get(column.code)
            if column.kind == "attribute":
                if position is not None:
                    attribute_plan.append((column.code, position))
                continue
            default: Any = None
            if column.default:
                default = int(column.default) if column.kind == "int" else column.default
            parser = self._parser(column)
            offer_plan.append((column.code, position, parser, column.required, default, column.example))
        return offer_plan, attribute_plan

    def _parse(
        self,
        row: int,
        cells: list[str],
        offer_plan: list,
        attribute_plan: list,
        header_width: int,
        unlabelled: tuple[int, ...],
    ) -> _Pending | None:
        width = len(cells)
        sku_position = self._sku_position
        if sku_position is not None and sku_position < width:
            sku_raw = cells[sku_position]
            if EXAMPLE_MARKER in sku_raw[:8] and clean_text(sku_raw).startswith(EXAMPLE_MARKER):
                self.stats.skipped_examples += 1
                return None
        self.stats.rows += 1
        result = RowResult(row, cells)
        error = self._error
        if self._row_notes:
            note = self._row_notes.pop(row, None)
            if note is not None:
                error(result, None, note)

        # Content in a column without a header: refuse rather than drop it silently.
        if unlabelled or width > header_width:
            for index in (*unlabelled, *range(header_width, width)):
                if index < width and cells[index].strip():
                    error(
                        result,
                        None,
                        f"第 {column_letter(index)} 列没有表头，却填写了「{cells[index].strip()[:20]}」；"
                        "请删除该内容，或在表头补上对应的列",
                    )

        offer: dict[str, Any] = {}
        for code, position, parser, required, default, example in offer_plan:
            value = cells[position] if position is not None and position < width else ""
            if not value or value.isspace():
                if required:
                    error(result, code, f"为必填项，请填写，例如 {example}")
                elif default is not None:
                    offer[code] = default
                continue
            try:
                offer[code] = parser(value)
            except ValueError as exc:
                error(result, code, str(exc))
        raw_specs: dict[str, str] = {}
        for code, position in attribute_plan:
            if position < width:
                value = cells[position]
                if value and not value.isspace():
                    if CONTROL_CHARS.search(value):
                        error(result, code, "含有不可见的控制字符，请删除后重新填写")
                    else:
                        raw_specs[code] = value

        sku = offer.get("supplier_sku")
        if sku is not None:
            first = self._skus.add(sku, row)
            if first is not None:
                error(
                    result,
                    "supplier_sku",
                    f"货号「{sku}」与第 {first} 行重复；同一文件中每个货号只能出现一次",
                )
        price, market = offer.get("price"), offer.get("market_price")
        if price is not None and market is not None and price > market:
            error(
                result,
                "price",
                f"价格高于市场参考价：单价 {price:,} 元高于市场参考价 {market:,} 元；"
                "请下调单价，或核实市场参考价及其来源",
            )
        brand, model = offer.get("brand"), offer.get("model")
        key = None
        if brand and model:
            brand_key, model_key = key_part(brand), key_part(model)
            if not brand_key:
                error(result, "brand", "只含分隔符，请填写品牌名称")
            elif not model_key:
                error(result, "model", "只含分隔符，请填写厂商型号")
            else:
                key = f"{brand_key}|{model_key}"
        return _Pending(result, offer, raw_specs, key)

    def _parser(self, column: Column) -> Callable[[str], Any]:
        """The function reading one cell of ``column`` (raises ValueError with the fix)."""
        kind = column.kind
        if kind == "text":
            max_length = column.max_length

            def parse_text(value: str) -> str:
                if CONTROL_CHARS.search(value):
                    raise ValueError("含有不可见的控制字符，请删除后重新填写")
                cleaned = clean_text(value)
                if len(cleaned) > max_length:
                    raise ValueError(f"不能超过 {max_length} 个字符（现有 {len(cleaned)} 个）")
                return cleaned

            return parse_text
        if kind == "money":
            example = column.example
            return lambda value: parse_money(value, example)
        if kind == "int":
            return lambda value: parse_int(value, column)
        if kind == "regions":
            return parse_region_cell
        if kind == "flag":
            return parse_flag
        if kind == "origin":
            return parse_origin
        raise AssertionError(kind)  # pragma: no cover - columns are defined in this package

    # -- phase 2: the batch against the catalogue ---------------------------------------------

    def _finish(self, batch: list[_Pending]) -> Iterator[RowResult]:
        keys = {p.key for p in batch if p.key is not None}
        found = self.products.find_many(keys) if keys else {}
        bound: Mapping[str, int] = {}
        if self.existing_skus is not None:
            skus = {p.offer["supplier_sku"] for p in batch if "supplier_sku" in p.offer}
            bound = self.existing_skus.product_ids(skus) if skus else {}
        stats = self.stats
        for pending in batch:
            result = pending.result
            if pending.key is not None:
                product = found.get(pending.key)
                if product is not None:
                    self._check_match(pending, product)
                else:
                    self._check_new(pending)
                sku = pending.offer.get("supplier_sku")
                previous = bound.get(sku) if sku is not None else None
                if previous is not None and previous != (product.id if product is not None else None):
                    self._error(
                        result,
                        "supplier_sku",
                        f"货号「{sku}」已是标准商品 #{previous} 的报价，不能改为另一商品；"
                        "如要上架新商品，请使用新的货号",
                    )
            else:
                self._check_specs_only(pending)
            if result.errors:
                stats.error_rows += 1
                stats.errors += len(result.errors)
                result.offer = result.product = None
                result.product_id = result.new_product_row = None
            else:
                stats.ok_rows += 1
                offer = pending.offer
                result.offer = OfferData(
                    supplier_sku=offer["supplier_sku"],
                    price=offer["price"],
                    market_price=offer["market_price"],
                    market_price_source=offer.get("market_price_source", ""),
                    stock=offer["stock"],
                    regions=offer["regions"],
                    warranty_months=offer["warranty_months"],
                    lead_time_days=offer["lead_time_days"],
                )
            yield result

    def _check_specs_only(self, pending: _Pending) -> None:
        """A row without brand or model still gets its spec values checked."""
        checked = self._relaxed(pending.raw_specs)
        for code, detail in checked.details.items():
            self._error(pending.result, code, detail)

    def _check_match(self, pending: _Pending, product: MatchedProduct) -> None:
        result, offer = pending.result, pending.offer
        if (product.catalog_version, product.category_code) != (self.spec.catalog_version, self.spec.code):
            self._error(
                result,
                "model",
                f"该品牌型号已是品目 {product.category_code} 的标准商品 #{product.id}「{product.title}」，"
                f"不属于本品目（{self.spec.title}）；请使用该品目的模板上传",
            )
            return
        checked = self._relaxed(pending.raw_specs)
        for code, detail in checked.details.items():
            self._error(result, code, detail)
        for code, value in checked.values.items():
            canonical = product.specs.get(code)
            if canonical is not None and canonical != value:
                attribute = self._attributes[code]
                self._error(
                    result,
                    code,
                    f"与标准商品 #{product.id}「{product.title}」的规格不一致：标准商品为 "
                    f"{format_spec_value(attribute, canonical)}，"
                    f"本行为 {format_spec_value(attribute, value)}；"
                    "同一型号的规格必须一致，配置不同请填写该配置对应的型号",
                )
        for code, canonical in (
            ("energy_saving", product.energy_saving),
            ("environmental", product.environmental),
            ("origin", product.origin),
        ):
            value = offer.get(code)
            if value is not None and value != canonical:
                shown = (
                    (lambda v: ORIGIN_LABELS.get(v, v))
                    if code == "origin"
                    else (lambda v: "是" if v else "否")
                )
                self._error(
                    result,
                    code,
                    f"与标准商品 #{product.id}「{product.title}」不一致：标准商品为“{shown(canonical)}”，"
                    f"本行为“{shown(value)}”；认证和产地以标准商品为准，如有变更请联系卖场运营",
                )
        if result.errors:
            return
        specs = dict(product.specs)
        result.product_id = product.id
        result.product = ProductData(
            brand=product.brand,
            model=product.model,
            manufacturer=product.manufacturer,
            name=product.name,
            dedup_key=pending.key or "",
            specs=specs,
            energy_saving=product.energy_saving,
            environmental=product.environmental,
            origin=product.origin,
        )
        self.stats.matched += 1

    def _check_new(self, pending: _Pending) -> None:
        result, offer = pending.result, pending.offer
        key = pending.key or ""
        checked = self._strict(pending.raw_specs)
        for code, detail in checked.details.items():
            if detail == REQUIRED_DETAIL:
                example = self._attributes[code].example_value()
                detail = (
                    f"为必填项（该品牌型号在卖场中还没有标准商品，本行将提议新建），请填写，例如 {example}"
                )
            self._error(result, code, detail)
        for code in ("manufacturer", "origin"):
            if code not in offer and not any(e.column == code for e in result.errors):
                label = self._labels[code]
                self._error(
                    result,
                    code,
                    f"该品牌型号在卖场中还没有标准商品，本行将提议新建商品，需填写「{label}」",
                )
        if result.errors:
            return
        specs = checked.values
        brand_key, model_key = key.split("|", 1)
        for candidate in self.products.similar(self.spec.code, brand_key, model_key, specs):
            if candidate.category_code != self.spec.code or candidate.dedup_key == key:
                continue
            candidate_model = key_part(candidate.model)
            if not model_variant(model_key, candidate_model):
                continue
            if specs and all(candidate.specs.get(code) == value for code, value in specs.items()):
                self._error(
                    result,
                    "model",
                    f"疑似已有标准商品 #{candidate.id}「{candidate.title}」的重复：品牌相同、规格完全一致，"
                    f"型号只差前后缀；请使用已有型号「{candidate.model}」。如确为不同商品，"
                    "请填写厂商铭牌上的正式型号，或联系卖场运营核实",
                )
                return
        values = {
            **specs,
            "manufacturer": offer["manufacturer"],
            "energy_saving": offer.get("energy_saving", False),
            "environmental": offer.get("environmental", False),
            "origin": offer["origin"],
        }
        hashes = [hash(values.get(code)) for code in self._consistency_codes]
        index = self._new_keys.get(key)
        if index is None:
            index = len(self._new_rows)
            self._new_keys.add(key, index)
            self._new_rows.append(result.row)
            self._new_hashes.extend(hashes)
            self.stats.new_products += 1
        else:
            width = len(self._consistency_codes)
            first_row = self._new_rows[index]
            stored = self._new_hashes[index * width : (index + 1) * width]
            for code, old, new in zip(self._consistency_codes, stored, hashes, strict=True):
                if old != new:
                    self._error(
                        result,
                        code,
                        f"与第 {first_row} 行（同一品牌型号）填写的不一致；同一型号的规格、"
                        "厂商、认证和产地必须相同",
                    )
            if result.errors:
                return
        result.new_product_row = self._new_rows[index]
        result.product = ProductData(
            brand=offer["brand"],
            model=offer["model"],
            manufacturer=offer["manufacturer"],
            name=offer.get("name", ""),
            dedup_key=key,
            specs=specs,
            energy_saving=offer.get("energy_saving", False),
            environmental=offer.get("environmental", False),
            origin=offer["origin"],
        )


def validate(
    table: Table,
    spec: CategorySpec,
    products: ProductLookup,
    *,
    existing_skus: SkuLookup | None = None,
    on_progress: ProgressCallback | None = None,
    progress_every: int = 1000,
    batch_size: int = 500,
) -> Iterator[RowResult]:
    """Validate an opened table. The header is checked now (an :class:`ImportFileError` for
    unknown, duplicate or missing columns); the rows as the returned iterator is consumed. A
    file-level problem found while streaming (too many rows, a cell too long, a corrupt part, no
    data rows at all) also ends in an :class:`ImportFileError`."""
    validator = Validator(
        spec,
        products,
        existing_skus=existing_skus,
        on_progress=on_progress,
        progress_every=progress_every,
        batch_size=batch_size,
    )
    columns = validator.bind(table.header)
    return validator.run(table.rows(), columns)


def _record_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "、".join(_record_cell(v) for v in value)
    return str(value)


def validate_records(
    records: Iterable[Mapping[str, Any]],
    spec: CategorySpec,
    products: ProductLookup,
    *,
    existing_skus: SkuLookup | None = None,
    batch_size: int = 500,
) -> Iterator[RowResult]:
    """The same validation for records given by column code (the supplier API): record *n*
    (from 1) is reported as ``第 n 条``. Values may be text or JSON scalars; a list of regions is
    accepted for ``regions``. Keys that are not column codes are errors of that record."""
    validator = Validator(spec, products, existing_skus=existing_skus, batch_size=batch_size, unit="条")
    codes = [c.code for c in spec.columns]
    columns = validator.bind(codes)
    known = set(codes)

    def rows() -> Iterator[tuple[int, list[str]]]:
        for number, record in enumerate(records, start=1):
            extra = [str(k)[:40] for k in record if k not in known]
            if extra:
                validator._row_notes[number] = f"未知字段 {'、'.join(extra[:10])}；字段名应为模板中的列代码"
            yield number, [_record_cell(record.get(code)) for code in codes]

    return validator.run(rows(), columns)
