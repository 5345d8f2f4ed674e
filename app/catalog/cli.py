import click
from flask.cli import AppGroup

from app.catalog import services
from app.extensions import db

catalog_cli = AppGroup("catalog", help="品目目录 (item catalogue) commands.")


@catalog_cli.command("load-categories")
def load_categories_command() -> None:
    """Load the 2022 item catalogue (idempotent)."""
    created = services.load_categories()
    db.session.commit()
    click.echo(f"2022 品目目录已加载：新增 {created} 条")
