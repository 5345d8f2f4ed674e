"""The payment stub provider: a small Stripe-compatible payment-intents API, in memory.

It ships with the project for development and tests. :class:`StubProvider` is a WSGI application:
the embedded default mounts it in-process (see :mod:`app.payments.transport`), and
``flask --app wsgi payments-stub --port 12111 --events-to URL --events-secret SECRET`` serves it
as a process of its own.
"""

from app.payments.stub.provider import Delivery, Fault, StubProvider

__all__ = ["Delivery", "Fault", "StubProvider"]
