"""Production server settings, read by ``gunicorn wsgi:app`` when started from this directory.

Sync workers, each serving one request at a time. The app spends its time in Python, so threads in
one process would share one interpreter lock and a checkout would slow down with every light
request beside it; with one request per process the requests wait in the listen backlog first come,
first served and each runs at full speed. One worker per core and one more, to use a core while
another waits for the database (on 2 cores 3 workers answered a little faster than 4 in
bench/orders.py; more only add switching). Sync workers belong behind a buffering reverse proxy
(nginx), which also terminates TLS.
"""

import multiprocessing
import os

workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() + 1))
worker_class = "sync"
backlog = 512
timeout = 60
