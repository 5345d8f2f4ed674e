"""The webhook benchmark runs end to end on a few events (the figures are for humans)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def test_the_benchmark_delivers_every_event_once(repo_root):
    result = subprocess.run(
        [sys.executable, "bench/webhooks.py", "--events", "200", "--rate", "100", "--processes", "1"],
        cwd=repo_root,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    details, figures = (json.loads(line) for line in result.stdout.strip().splitlines()[-2:])
    assert set(figures) == {"events", "delivered", "lost", "bad_signatures", "p95_delivery_s", "events_per_s"}
    counts = (figures["events"], figures["delivered"], figures["lost"], figures["bad_signatures"])
    assert counts == (200, 200, 0, 0)
    assert figures["p95_delivery_s"] > 0 and figures["events_per_s"] > 0
    assert details["requests"] == 200 and details["duplicates"] == 0
    assert details["deliveries_succeeded_in_db"] == 200
