import time
import unicodedata

import click
from flask.cli import AppGroup

from app.demo.generate import DEFAULT_SEED
from app.demo.load import ROLE_LABELS, DemoSummary, load_demo
from app.extensions import db

demo_cli = AppGroup("demo", help="演示数据 (demo data) commands.")


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


def format_table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(_width(cell) for cell in column) for column in zip(headers, *rows, strict=True)]
    lines = [
        "  ".join(_pad(cell, w) for cell, w in zip(headers, widths, strict=True)).rstrip(),
        "  ".join("-" * w for w in widths),
    ]
    lines += ["  ".join(_pad(cell, w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    return "\n".join(lines)


def format_summary(summary: DemoSummary, seconds: float) -> str:
    c = summary.counts
    new = summary.created
    state = "已更新" if summary.changed_anything else "无变化（数据已是最新）"
    out = [
        f"演示数据加载完成：{state}，耗时 {seconds:.1f} 秒",
        f"  2022 版品目 {c['categories']} 个；演示品目 {c['demo_categories']} 个，"
        f"规格属性 {c['attributes']} 个",
        f"  预算单位 {c['purchasing_units']} 个，采购计划 {c['plans']} 个",
        f"  供应商 {c['suppliers']} 家（其中中小企业 {c['sme_suppliers']} 家），用户 {c['users']} 个",
        f"  标准商品 {c['products']} 个，供应商报价 {c['offers']} 条（已上架 {c['listed_offers']} 条），"
        f"价格记录 {c['price_changes']} 条",
    ]
    if summary.changed_anything:
        changes = [
            f"{key} +{new.get(key, 0)}/~{summary.updated.get(key, 0)}"
            for key in ("organizations", "users", "plans", "products", "offers")
            if new.get(key) or summary.updated.get(key)
        ]
        if changes:
            out.append("  本次写入（新增/更新）：" + "，".join(changes))
    rows = [
        [ROLE_LABELS[x.role], x.username, x.display_name, x.organization, summary.password]
        for x in summary.logins
    ]
    out += [
        "",
        f"演示账号 (密码均为 {summary.password})",
        format_table(["角色", "用户名", "姓名", "单位", "密码"], rows),
    ]
    return "\n".join(out)


@demo_cli.command("load")
@click.option("--seed", default=DEFAULT_SEED, show_default=True, help="随机种子（同一种子生成相同数据）")
def load_command(seed: int) -> None:
    """Load the demo data (deterministic, idempotent)."""
    started = time.perf_counter()
    summary = load_demo(seed=seed)
    db.session.commit()
    click.echo(format_summary(summary, time.perf_counter() - started))
