"""Payments: a Stripe-style client, the stub provider, provider events and order payments.

* :mod:`app.payments.client` — the ``requests`` client (fen on the wire, retries with the same
  ``Idempotency-Key``, typed Stripe errors); :mod:`app.payments.provider` picks the in-process stub
  (``PAYMENTS_PROVIDER=stub``, the default) or the network (``http``).
* :mod:`app.payments.stub` — the stub provider; ``flask --app wsgi payments-stub`` serves it.
* :mod:`app.payments.views` — ``POST /payments/events`` (signed provider events), the pay action
  and the payments list; :mod:`app.payments.services` / :mod:`app.payments.jobs` — the flow.

Running the app against the stub as a process of its own (one shared events secret)::

    PAYMENTS_EVENTS_SECRET=whsec_dev flask --app wsgi payments-stub --port 12111 \
        --events-to http://127.0.0.1:5000/payments/events
    PAYMENTS_PROVIDER=http PAYMENTS_API_URL=http://127.0.0.1:12111 PAYMENTS_SECRET_KEY=sk_test_dev \
        PAYMENTS_EVENTS_SECRET=whsec_dev flask --app wsgi run
"""
