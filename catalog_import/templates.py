"""Upload templates of a category: XLSX (header, drop-downs, an example row, an instructions
sheet) and CSV (header and example row, UTF-8 with BOM so Excel opens it correctly).

The XLSX template has three sheets: 商品清单 (the one that is imported: the header row, then an
example row whose 供应商货号 starts with 示例 and is ignored on import), 说明 (every column, its
unit and rules, in Chinese) and a hidden 选项 sheet holding the drop-down lists, so enum values
of any length or with commas work as lists.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from catalog_import.columns import (
    EXAMPLE_MARKER,
    CategorySpec,
    Column,
    column_letter,
    header_cell,
)
from catalog_import.limits import DEFAULT_LIMITS, Limits
from catalog_import.xlsx import DATA_SHEET_NAME

INSTRUCTIONS_SHEET = "说明"
CHOICES_SHEET = "选项"
EXAMPLE_SKU = f"{EXAMPLE_MARKER}-SKU-0001（本行为示例，导入时忽略）"
VALIDATION_ROWS = 20_000  # rows that get drop-downs and prompts (Excel copies them on insert)
# A fixed timestamp keeps the generated file identical for the same spec (cacheable, testable).
_FIXED_TIME = datetime(2026, 1, 1)


def example_row(spec: CategorySpec) -> list[str]:
    return [EXAMPLE_SKU if c.code == "supplier_sku" else c.example for c in spec.columns]


def header_row(spec: CategorySpec) -> list[str]:
    return [header_cell(c) for c in spec.columns]


def template_filename(spec: CategorySpec, fmt: str) -> str:
    return f"商品导入模板_{spec.code}_{spec.name}.{fmt}"


def csv_template(spec: CategorySpec) -> bytes:
    """Header and example row, UTF-8 with BOM, CRLF."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header_row(spec))
    writer.writerow(example_row(spec))
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _example_cell(column: Column) -> object:
    """The example as Excel would hold it once typed: money and counts as numbers."""
    if column.code == "supplier_sku":
        return EXAMPLE_SKU
    if column.kind == "money":
        return Decimal(column.example)
    if column.kind == "int":
        return int(column.example)
    return column.example


def _requirement(column: Column) -> str:
    if column.required:
        return "必填"
    if column.required_for_new:
        return "新商品必填"
    return "选填"


def _type_text(column: Column) -> str:
    if column.attribute is not None:
        return {"number": "数字", "enum": "下拉选择", "bool": "是/否", "text": "文字"}[column.attribute.type]
    return {
        "text": "文字",
        "money": "金额",
        "int": "整数",
        "regions": "地区",
        "flag": "是/否",
        "origin": "下拉选择",
    }[column.kind]


def instructions(spec: CategorySpec, limits: Limits = DEFAULT_LIMITS) -> list[str]:
    """The general rules shown at the top of the 说明 sheet."""
    return [
        f"品目：{spec.code} {spec.name}（{spec.catalog_version} 版政府采购品目分类目录）",
        f"1. 在「{DATA_SHEET_NAME}」工作表中，从第 3 行起每行填写一个商品报价；第 2 行为示例，"
        f"其“供应商货号”以“{EXAMPLE_MARKER}”开头，导入时自动忽略，可保留或删除。",
        "2. 第 1 行为表头，格式为“中文名｜代码”，请勿修改竖线后的代码；列的顺序可以调整，"
        "选填列可以删除。标“＊”的列必填（“新商品必填”的列在引用已有标准商品时可留空）。",
        "3. 品牌 + 型号用来识别标准商品（不区分大小写、全角半角、空格和 - _ / . 等分隔符）。"
        "已有标准商品的：规格留空即沿用标准商品的规格，填写的规格必须与之一致；"
        "没有的：将提议新建标准商品，须填写全部“新商品必填”的列，经卖场运营审核后上架。",
        "4. 型号请填写厂商铭牌上的正式型号。品牌相同、规格完全一致、型号只差前后缀的，"
        "会被视为已有商品的重复而拒绝。",
        "5. 单价、市场参考价单位为元，最多两位小数；单价不得高于市场参考价，"
        "否则提示“价格高于市场参考价”并拒绝。",
        "6. 同一文件中供应商货号不能重复；再次上传相同货号即更新该报价，上传完全相同的文件不会产生任何变化。",
        "7. 整个文件全部正确才会导入；有任何错误时不导入任何一行，请下载错误报告，"
        "按“错误说明”列修改后，直接上传错误报告或原文件（错误说明、原行号两列会被忽略）。",
        f"8. 文件格式：.xlsx 或 CSV（UTF-8 或 GBK/GB18030 编码）；不超过 "
        f"{limits.max_file_bytes // (1024 * 1024)} MB、{limits.max_rows:,} 行、{limits.max_columns} 列，"
        f"每个单元格不超过 {limits.max_cell_chars:,} 个字符。旧版 .xls 请先另存为 .xlsx。",
        "9. 单价、库存的修改在已上架的报价上立即生效；新报价和其它信息的修改需经卖场运营审核。",
    ]


def xlsx_template(spec: CategorySpec, limits: Limits = DEFAULT_LIMITS) -> bytes:
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.worksheet.datavalidation import DataValidation

    workbook = Workbook()
    workbook.properties.creator = "政府采购电子卖场"
    workbook.properties.title = f"商品导入模板 {spec.code} {spec.name}"
    workbook.properties.created = _FIXED_TIME
    workbook.properties.modified = _FIXED_TIME
    sheet = workbook.active
    sheet.title = DATA_SHEET_NAME
    guide = workbook.create_sheet(INSTRUCTIONS_SHEET)
    choices = workbook.create_sheet(CHOICES_SHEET)
    choices.sheet_state = "hidden"

    thin = Side(style="thin", color="BFBFBF")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    required_font = Font(bold=True, color="C00000")
    optional_font = Font(bold=True, color="000000")
    header_fill = PatternFill("solid", fgColor="DDEBF7")
    example_font = Font(italic=True, color="808080")
    example_fill = PatternFill("solid", fgColor="F2F2F2")

    columns = spec.columns
    last_row = VALIDATION_ROWS + 1
    choice_column = 0
    for index, column in enumerate(columns):
        letter = column_letter(index)
        cell = sheet.cell(row=1, column=index + 1, value=header_cell(column))
        cell.font = required_font if (column.required or column.required_for_new) else optional_font
        cell.fill = header_fill
        cell.border = border
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
        cell.comment = Comment(f"{_requirement(column)}。{column.help}", "电子卖场", width=320, height=140)
        example = sheet.cell(row=2, column=index + 1, value=_example_cell(column))
        example.font = example_font
        example.fill = example_fill
        example.border = border
        width = max(12, min(36, len(header_cell(column)) + 4))
        sheet.column_dimensions[letter].width = 34 if column.code == "supplier_sku" else width
        if column.kind == "text" or (column.attribute is not None and column.attribute.type == "text"):
            sheet.column_dimensions[letter].number_format = "@"  # keep 00123 and long codes as text
        elif column.kind == "money":
            sheet.column_dimensions[letter].number_format = "0.00"
            example.number_format = "0.00"

        target = f"{letter}2:{letter}{last_row}"
        if column.choices:
            choice_column += 1
            choice_letter = column_letter(choice_column - 1)
            choices.cell(row=1, column=choice_column, value=column.code)
            for offset, value in enumerate(column.choices, start=2):
                choices.cell(row=offset, column=choice_column, value=value)
            end = len(column.choices) + 1
            validation = DataValidation(
                type="list",
                formula1=f"'{CHOICES_SHEET}'!${choice_letter}$2:${choice_letter}${end}",
                allow_blank=True,
                showErrorMessage=True,
                errorStyle="stop",
                errorTitle=column.label,
                error=f"请从下拉列表中选择「{column.label}」的值",
            )
        else:
            validation = DataValidation(allow_blank=True)
        validation.showInputMessage = True
        validation.promptTitle = column.label[:32]
        validation.prompt = f"{_requirement(column)}。{column.help}"[:255]
        sheet.add_data_validation(validation)
        validation.add(target)
    sheet.freeze_panes = "B2"
    sheet.row_dimensions[1].height = 36
    sheet.auto_filter.ref = f"A1:{column_letter(len(columns) - 1)}1"

    # 说明
    guide.column_dimensions["A"].width = 22
    guide.column_dimensions["B"].width = 20
    guide.column_dimensions["C"].width = 12
    guide.column_dimensions["D"].width = 10
    guide.column_dimensions["E"].width = 8
    guide.column_dimensions["F"].width = 80
    guide.column_dimensions["G"].width = 26
    title = guide.cell(row=1, column=1, value=f"商品导入模板填写说明 — {spec.code} {spec.name}")
    title.font = Font(bold=True, size=14)
    row = 2
    for line in instructions(spec, limits):
        guide.cell(row=row, column=1, value=line).alignment = Alignment(wrap_text=False)
        row += 1
    row += 1
    for index, text in enumerate(
        ("列（表头）", "代码", "是否必填", "类型", "单位", "填写规则", "示例"), start=1
    ):
        cell = guide.cell(row=row, column=index, value=text)
        cell.font = Font(bold=True)
        cell.fill = header_fill
        cell.border = border
    for column in columns:
        row += 1
        values: Sequence[str] = (
            column.label,
            column.code,
            _requirement(column),
            _type_text(column),
            column.unit or "",
            column.help,
            column.example,
        )
        for index, value in enumerate(values, start=1):
            cell = guide.cell(row=row, column=index, value=value)
            cell.border = border
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        if column.required or column.required_for_new:
            guide.cell(row=row, column=3).font = Font(color="C00000", bold=True)

    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
