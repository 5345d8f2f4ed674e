import click
from flask.cli import AppGroup

demo_cli = AppGroup("demo", help="演示数据 (demo data) commands.")


@demo_cli.command("load")
def load_command() -> None:
    """Load the demo data (deterministic, idempotent)."""
    click.echo("not yet")
