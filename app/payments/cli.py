"""``flask --app wsgi payments-stub``: the stub provider as a process of its own."""

from __future__ import annotations

import click
from werkzeug.serving import run_simple

from app.payments.stub import StubProvider


@click.command("payments-stub")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=12111, show_default=True, type=int)
@click.option("--events-to", "events_to", default=None, help="URL the signed events are POSTed to.")
@click.option("--events-secret", default=None, envvar="PAYMENTS_EVENTS_SECRET", help="Signing secret.")
@click.option("--settle-delay", default=0.5, show_default=True, type=float, help="Seconds confirm → result.")
@click.option("--hang-seconds", default=30.0, show_default=True, type=float, help="Hang length.")
@click.option(
    "--retry-delays",
    default="1,2,4,8,16,32",
    show_default=True,
    help="Seconds between delivery attempts of an event (comma-separated).",
)
def payments_stub_command(
    host: str,
    port: int,
    events_to: str | None,
    events_secret: str | None,
    settle_delay: float,
    hang_seconds: float,
    retry_delays: str,
) -> None:
    """Run the payment stub provider (Stripe-compatible payment intents) over HTTP."""
    if events_to and not events_secret:
        raise click.UsageError("--events-to needs --events-secret (or PAYMENTS_EVENTS_SECRET)")
    try:
        delays = tuple(float(part) for part in retry_delays.split(",") if part.strip())
    except ValueError:
        raise click.BadParameter("comma-separated seconds, e.g. 1,2,4", param_hint="--retry-delays") from None
    stub = StubProvider(
        events_url=events_to,
        events_secret=events_secret,
        background=True,
        settle_delay=settle_delay,
        retry_delays=delays,
        hang_seconds=hang_seconds,
    )
    click.echo(f"payments stub: http://{host}:{port}/v1/payment_intents; events → {events_to or '(none)'}")
    try:
        run_simple(host, port, stub, threaded=True, use_reloader=False, use_debugger=False)
    finally:
        stub.close()
