"""The catalog import benchmark runs end to end on a small file (the figures are for humans)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_benchmark_imports_end_to_end(repo_root, fmt):
    result = subprocess.run(
        [sys.executable, "bench/catalog_import.py", "--rows", "300", "--format", fmt],
        cwd=repo_root,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert {"rows", "format", "rows_per_s", "peak_rss_mb"} <= set(figures)
    assert (figures["rows"], figures["format"], figures["offers_created"]) == (300, fmt, 300)
    assert figures["new_products"] > 0 and figures["matched_rows"] > 0
    assert figures["rows_per_s"] > 0 and 0 < figures["peak_rss_mb"] < 1000
