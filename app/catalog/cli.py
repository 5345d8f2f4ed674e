import json

import click
from flask.cli import AppGroup

from app.catalog import indexing, services
from app.extensions import db

catalog_cli = AppGroup("catalog", help="品目目录 (item catalogue) commands.")
search_cli = AppGroup("search", help="搜索索引 (search index) commands.")


@catalog_cli.command("load-categories")
def load_categories_command() -> None:
    """Load the 2022 item catalogue (idempotent)."""
    created = services.load_categories()
    db.session.commit()
    click.echo(f"2022 品目目录已加载：新增 {created} 条")


@search_cli.command("rebuild")
def rebuild_command() -> None:
    """Build a new index from the database and swap it in atomically."""
    count = indexing.rebuild()
    db.session.commit()
    click.echo(f"搜索索引已重建：{count} 个商品")


@search_cli.command("sweep")
def sweep_command() -> None:
    """Index every product still marked dirty."""
    count = indexing.sweep_dirty()
    click.echo(f"已补建索引：{count} 个商品")


@search_cli.command("status")
def status_command() -> None:
    """Show the index in use, its counts and how many products wait for indexing."""
    status = indexing.search_backend().status()
    status["dirty_products"] = indexing.dirty_count()
    click.echo(json.dumps(status, ensure_ascii=False, indent=2))
