"""Outbound webhook benchmark: N events through the outbox, RQ workers and a verifying receiver.

    .venv/bin/python bench/webhooks.py                       # 10,000 events, 2 workers
    .venv/bin/python bench/webhooks.py --events 2000 --rate 300
    .venv/bin/python bench/webhooks.py --cold --scheduler    # include the cold start and sweepers

The deployment as production runs it, on one machine: a scratch PostgreSQL database migrated from
empty, Redis, and ``--workers`` plain ``rq worker`` processes (``--scheduler`` adds ``flask
scheduler run``; its sweepers only matter when something fails, and each periodic job costs an RQ
work-horse that imports and builds the app, so it is off by default). A local receiver (a separate
process, HTTP/1.1 keep-alive, threaded) checks the Standard Webhooks signature and timestamp of
every request and records the first arrival of every ``webhook-id``.

The producers are the app itself, like web server processes: ``--processes`` × ``--threads``, each
thread with its own session, writing order events (a full order payload: plan, lines, amounts,
comparison summary — about 1.5 KB) with ``emit()`` in transactions of ``--batch`` events (2 by
default: an order transition and its budget event), together paced at ``--rate`` events/s; every
commit hands its deliveries to RQ as the app does.

Unless ``--cold``, one warm-up event is delivered before the clock starts, so the run measures a
pipeline at work rather than the first RQ job's start (seconds: its process imports and builds the
app); ``warm_up_s`` reports that start.

Figures: ``delivered`` = distinct webhook-ids that arrived with a valid signature; ``lost`` =
events − delivered; ``bad_signatures`` = requests whose signature or timestamp did not verify;
``p95_delivery_s`` = 95th percentile of (first arrival − the event's timestamp, taken when it was
written, before its commit); ``events_per_s`` = events / (last first-arrival − first event).
The line before the last has details: duplicates, CPU seconds per part, the load average.

Progress goes to stderr; the last line of stdout is one JSON object:
{"events", "delivered", "lost", "bad_signatures", "p95_delivery_s", "events_per_s"}.
"""

from __future__ import annotations

import argparse
import contextlib
import http.server
import json
import multiprocessing
import os
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if sys.path[0] != str(ROOT):
    sys.path.insert(0, str(ROOT))

PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- the receiver (its own process) ------------------------------------------------------------------


def receiver_main(port_queue, secret: str) -> None:
    from app.webhooks.signing import VerificationError, verify

    first_seen: dict[str, tuple[float, float]] = {}  # webhook-id → (arrival, event timestamp)
    stats = {"requests": 0, "bad_signatures": 0, "duplicates": 0, "warmup": 0}
    lock = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body leave at once (no 40 ms delayed-ACK stall)

        def log_message(self, *_args):
            pass

        def _answer(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            arrived = time.time()
            try:
                event = verify(secret, body, dict(self.headers.items()), now=arrived)
            except (VerificationError, ValueError):
                with lock:
                    stats["requests"] += 1
                    stats["bad_signatures"] += 1
                self._answer(400, b'{"error":"bad signature"}')
                return
            if event["type"] == "webhook.warmup":
                with lock:
                    stats["warmup"] += 1
                self._answer(200, b'{"ok":true}')
                return
            msg_id = self.headers["webhook-id"]
            stamp = datetime.fromisoformat(event["timestamp"].replace("Z", "+00:00")).timestamp()
            with lock:
                stats["requests"] += 1
                if msg_id in first_seen:
                    stats["duplicates"] += 1
                else:
                    first_seen[msg_id] = (arrived, stamp)
            self._answer(200, b'{"ok":true}')

        def do_GET(self):
            with lock:
                latencies = sorted(arrived - stamp for arrived, stamp in first_seen.values())
                last = max((arrived for arrived, _ in first_seen.values()), default=None)
                first = min((stamp for _, stamp in first_seen.values()), default=None)
                answer = {**stats, "delivered": len(first_seen), "last_arrival": last, "first_event": first}
            if self.path == "/stats/full":
                answer["latencies"] = latencies
            self._answer(200, json.dumps(answer).encode())

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    port_queue.put(server.server_address[1])
    server.serve_forever()


def receiver_stats(port: int, full: bool = False) -> dict:
    path = "/stats/full" if full else "/stats"
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as answer:
        return json.loads(answer.read())


# -- the producer's payload --------------------------------------------------------------------------


def order_payload(n: int) -> dict:
    """What ``app.orders.payloads.order_payload`` sends: the full order."""
    return {
        "order_no": f"DD20261126-{n:06d}",
        "status": "confirmed",
        "total": "14997.00",
        "currency": "CNY",
        "needs_approval": False,
        "unit": {"code": "ORG-UNIT-0001", "name": "某市教育局"},
        "supplier": {
            "code": "ORG-SUP-0042",
            "name": "某某科技有限公司",
            "credit_code": "91110108MA01ABCDEF",
            "is_sme": True,
        },
        "plan": {
            "plan_no": "CG-2026-000123",
            "fiscal_year": 2026,
            "budget_line_code": "2050201-办公设备购置",
            "fund_source": "一般公共预算",
        },
        "lines": [
            {
                "offer_id": 1000 + i,
                "supplier_sku": f"SKU-{i:05d}",
                "name": f"台式计算机 型号{i}",
                "brand": "联想",
                "model": f"M{i:04d}",
                "category_code": "A02010105",
                "unit_price": "4999.00",
                "quantity": 1,
                "amount": "4999.00",
                "specs": {"cpu": "国产 8 核", "memory_gb": 16, "storage_gb": 512, "screen_inch": 23.8},
            }
            for i in range(3)
        ],
        "comparison": {"record_id": 77, "title": "台式机比价", "products": 3, "lowest": "4899.00"},
        "delivery_address": "北京市东城区某某路 1 号",
        "created_at": "2026-11-26T08:00:00+00:00",
    }


def bench_config(url: str, queue_name: str, workdir: str, webhook_queue: str | None = None):
    """The app's configuration in the benchmark's own processes (producers, the checks)."""
    from config import TestConfig

    return type(
        "BenchConfig",
        (TestConfig,),
        {
            "SQLALCHEMY_DATABASE_URI": url.replace("postgresql://", "postgresql+psycopg://", 1),
            "JOBS_BACKEND": "rq",
            "REDIS_URL": REDIS_URL,
            "JOBS_QUEUE": queue_name,
            "SEARCH_INDEX_DIR": str(Path(workdir) / "search"),
            "WEBHOOK_ALLOWED_HOSTS": "127.0.0.1",
            "WEBHOOK_QUEUE": webhook_queue,
        },
    )


def producer_main(
    index: int, options: dict, url: str, queue_name: str, workdir: str, ready, go, start_at
) -> None:
    """One producer process (think: one web server process) with ``threads`` threads, each its own
    app context and session, like requests; together all of them keep to ``rate`` events/s, each
    transaction emitting ``batch`` events through the app's ``emit()``."""
    from app import create_app
    from app.extensions import db
    from app.webhooks.outbox import emit

    app = create_app(bench_config(url, queue_name, workdir, options["webhook_queue"]))
    events, batch, rate = options["events"], options["batch"], options["rate"]
    threads, slots = options["threads"], options["processes"] * options["threads"]
    transactions = list(range(0, events, batch))
    ready.put(index)
    go.wait()
    started = start_at.value

    def work(slot: int) -> None:
        with app.app_context():
            try:
                for number, first in enumerate(transactions[slot::slots]):
                    place = slot + number * slots  # this transaction's place in the whole run
                    ahead = started + place * batch / rate - time.time()
                    if ahead > 0:
                        time.sleep(ahead)
                    for n in range(first, min(first + batch, events)):
                        emit("order.confirmed", order_payload(n), subject=f"DD20261126-{n:06d}")
                    db.session.commit()
            finally:
                db.session.remove()

    workers = [
        threading.Thread(target=work, args=(index * threads + t,), daemon=True) for t in range(threads)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    ready.put(usage.ru_utime + usage.ru_stime)


# -- the run -----------------------------------------------------------------------------------------


@contextlib.contextmanager
def scratch_database():
    import psycopg

    name = f"emall_bench_wh_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process, of the children it has waited for (RQ's finished
    work-horses) and of those still running."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    total = sum(int(v) for v in fields[11:15]) / os.sysconf("SC_CLK_TCK")
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            total += sum(cpu_seconds(int(child)) for child in (task / "children").read_text().split())
    return total


def start(command: list[str], env: dict, logfile: Path) -> subprocess.Popen:
    with logfile.open("wb") as output:
        return subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


def run(args) -> dict:
    from flask_migrate import upgrade
    from redis import Redis
    from rq import Queue, Worker

    from app import create_app
    from app.auth.models import Organization, OrgKind
    from app.extensions import db
    from app.webhooks import signing
    from app.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
    from app.webhooks.outbox import emit

    workdir = Path(tempfile.mkdtemp(prefix="emall-bench-webhooks-"))
    queue_name = f"bench-wh-{uuid.uuid4().hex[:8]}"
    secret = signing.new_secret()
    redis = Redis.from_url(REDIS_URL)
    ports = multiprocessing.get_context("spawn").Queue()
    receiver = multiprocessing.get_context("spawn").Process(
        target=receiver_main, args=(ports, secret), daemon=True
    )
    receiver.start()
    port = ports.get(timeout=30)
    processes: list[subprocess.Popen] = []
    producers: list = []
    with scratch_database() as url:
        env = {
            **os.environ,
            "APP_ENV": "development",
            "DATABASE_URL": url,
            "REDIS_URL": REDIS_URL,
            "JOBS_QUEUE": queue_name,
            "SECRET_KEY": "bench-secret-key-0123456789abcdef-0123456789",
            "INSTANCE_DIR": str(workdir),
            "SEARCH_INDEX_DIR": str(workdir / "search"),
            "WEBHOOK_ALLOWED_HOSTS": "127.0.0.1",
        }
        webhook_queue = f"{queue_name}-webhooks" if args.webhook_queue else None
        if webhook_queue:
            env["WEBHOOK_QUEUE"] = webhook_queue
        config = bench_config(url, queue_name, str(workdir), webhook_queue)
        app = create_app(config)
        try:
            with app.app_context():
                upgrade()
                finance = Organization(code="FIN-BENCH", name="基准测试财政局", kind=OrgKind.FINANCE)
                db.session.add(finance)
                db.session.flush()
                db.session.add(
                    WebhookEndpoint(
                        organization_id=finance.id,
                        url=f"http://127.0.0.1:{port}/hooks",
                        secret=secret,
                        event_types=[],
                    )
                )
                db.session.commit()

                for index in range(args.workers):
                    processes.append(
                        start(
                            [
                                sys.executable,
                                "-m",
                                "rq.cli",
                                "worker",
                                "--worker-class",
                                "app.core.jobs.AppWorker",
                                "--url",
                                REDIS_URL,
                                "--name",
                                f"{queue_name}-{index}",
                                *([webhook_queue] if webhook_queue else []),  # listened to first
                                queue_name,
                            ],
                            env,
                            workdir / f"worker-{index}.log",
                        )
                    )
                if args.scheduler:
                    processes.append(
                        start(
                            [sys.executable, "-m", "flask", "--app", "wsgi", "scheduler", "run"],
                            env,
                            workdir / "scheduler.log",
                        )
                    )
                deadline = time.monotonic() + 30
                while sum(w.name.startswith(queue_name) for w in Worker.all(connection=redis)) < args.workers:
                    assert time.monotonic() < deadline, "workers did not start"
                    time.sleep(0.1)
                log(f"receiver on :{port}, {args.workers} workers, queue {queue_name}, logs in {workdir}")

                ctx = multiprocessing.get_context("spawn")
                ready, go, start_at = ctx.Queue(), ctx.Event(), ctx.Value("d", 0.0)
                options = {
                    "events": args.events,
                    "batch": args.batch,
                    "rate": args.rate,
                    "processes": args.processes,
                    "threads": args.threads,
                    "webhook_queue": webhook_queue,
                }
                producers = [
                    ctx.Process(
                        target=producer_main,
                        args=(i, options, url, queue_name, str(workdir), ready, go, start_at),
                        daemon=True,
                    )
                    for i in range(args.processes)
                ]
                for producer in producers:
                    producer.start()
                for _ in producers:
                    ready.get(timeout=120)

                warm_up = None
                if not args.cold:
                    # One event first, so the clock starts with a drain job at work (an RQ job's
                    # process imports and builds the app before it does anything: seconds).
                    began = time.monotonic()
                    emit("webhook.warmup", {"note": "not counted"})
                    db.session.commit()
                    while receiver_stats(port)["warmup"] < 1:
                        assert time.monotonic() - began < 60, "the warm-up event was not delivered"
                        time.sleep(0.05)
                    warm_up = time.monotonic() - began
                    log(f"warm-up event delivered after {warm_up:.2f} s")
                # Produce, paced, from --processes × --threads producers.
                start_at.value = time.time() + 0.2
                go.set()
                started = time.monotonic()
                while any(p.is_alive() for p in producers):
                    time.sleep(1)
                    delivered = receiver_stats(port)["delivered"]
                    log(f"  {time.monotonic() - started:5.1f} s: delivered {delivered}")
                assert all(p.exitcode == 0 for p in producers), "a producer failed"
                cpu = {"producers": round(sum(ready.get(timeout=10) for _ in producers), 1)}
                produced = time.monotonic() - started
                log(f"emitted {args.events} in {produced:.1f} s ({args.events / produced:.0f}/s); waiting")

                deadline = time.monotonic() + args.wait
                while True:
                    stats = receiver_stats(port)
                    if stats["delivered"] >= args.events or time.monotonic() > deadline:
                        break
                    time.sleep(0.2)
                time.sleep(1)  # late duplicates, if any
                stats = receiver_stats(port, full=True)
                cpu["workers"] = round(sum(cpu_seconds(p.pid) for p in processes[: args.workers]), 1)
                cpu["receiver"] = round(cpu_seconds(receiver.pid), 1)
                db.session.expire_all()
                succeeded = (
                    db.session.query(WebhookDelivery)
                    .join(WebhookDelivery.event)
                    .filter(WebhookDelivery.status == DeliveryStatus.SUCCEEDED)
                    .filter_by(type="order.confirmed")
                    .count()
                )
                db.session.remove()
        finally:
            for producer in producers:
                if producer.is_alive():
                    producer.terminate()
            for process in processes:
                stop(process)
            receiver.terminate()
            Queue(queue_name, connection=redis).delete(delete_jobs=True)
            Queue(f"{queue_name}-webhooks", connection=redis).delete(delete_jobs=True)
            with app.app_context():
                db.engine.dispose()
    latencies = stats["latencies"]
    p95 = latencies[max(0, int(len(latencies) * 0.95) - 1)] if latencies else None
    span = (stats["last_arrival"] - stats["first_event"]) if stats["delivered"] else None
    figures = {
        "events": args.events,
        "delivered": stats["delivered"],
        "lost": args.events - stats["delivered"],
        "bad_signatures": stats["bad_signatures"],
        "p95_delivery_s": round(p95, 3) if p95 is not None else None,
        "events_per_s": round(args.events / span, 1) if span else None,
    }
    details = {
        "workers": args.workers,
        "rate": args.rate,
        "batch": args.batch,
        "producers": f"{args.processes}×{args.threads}",
        "webhook_queue": bool(args.webhook_queue),
        "scheduler": bool(args.scheduler),
        "cold": bool(args.cold),
        "requests": stats["requests"],
        "duplicates": stats["duplicates"],
        "deliveries_succeeded_in_db": succeeded,
        "p50_delivery_s": round(latencies[len(latencies) // 2], 3) if latencies else None,
        "max_delivery_s": round(latencies[-1], 3) if latencies else None,
        "produced_per_s": round(args.events / produced, 1),
        "warm_up_s": round(warm_up, 2) if warm_up is not None else None,
        "cpu_s": cpu,
        "load_average": os.getloadavg()[0],
    }
    print(json.dumps(details, ensure_ascii=False))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=400.0, help="events written per second")
    parser.add_argument(
        "--batch", type=int, default=2, help="events per transaction (a transition and its budget event)"
    )
    parser.add_argument("--processes", type=int, default=2, help="producer processes (web servers)")
    parser.add_argument("--threads", type=int, default=2, help="threads per producer process (requests)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--wait", type=float, default=120.0, help="seconds to wait after the last event")
    parser.add_argument(
        "--scheduler", action="store_true", help="also run `flask scheduler run` (its sweepers cost CPU)"
    )
    parser.add_argument("--cold", action="store_true", help="start producing before a worker is busy")
    parser.add_argument("--webhook-queue", action="store_true", help="drains on WEBHOOK_QUEUE, listed first")
    figures = run(parser.parse_args())
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
