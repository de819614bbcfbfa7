"""`make bench` reports: each metric as one line and one JSON record, then a JSON summary and a
chart of the whole run."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from scripts import report_bench
from scripts.metrics import Metric, report


def test_a_metric_is_printed_in_the_bench_line_format_and_recorded(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    results = tmp_path / "results.jsonl"
    monkeypatch.setenv("BENCH_RESULTS", str(results))

    ok = report(Metric("command_throughput_http", 812.0, 640.0, 812.0 / 640.0, "1.0", True,
                       throughput={"http": 812.0, "direct": 640.0}))
    short = report(Metric("command_visible_p99_ms", 130.0, 4.5, 130.0 / 4.5, "<100", False,
                          latencies_ms={"visible": [20.0, 130.0], "plain read": [4.5]}))

    assert (ok, short) == (True, False)
    assert capsys.readouterr().out.splitlines() == [
        "metric: command_throughput_http value=812.0 baseline=640.0 ratio=1.27 target=1.0 ok",
        "metric: command_visible_p99_ms value=130.0 baseline=4.50 ratio=28.89 target=<100 short",
    ]
    records = [json.loads(line) for line in results.read_text().splitlines()]
    assert [(r["name"], r["ok"], r["throughput"], r["latencies_ms"]) for r in records] == [
        ("command_throughput_http", True, {"http": 812.0, "direct": 640.0}, {}),
        ("command_visible_p99_ms", False, {}, {"visible": [20.0, 130.0], "plain read": [4.5]}),
    ]


def test_the_run_is_summarised_as_json_and_charted(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    results = tmp_path / "results.jsonl"
    monkeypatch.setenv("BENCH_RESULTS", str(results))
    report(Metric("progress_view_throughput", 900.0, 1000.0, 0.9, "0.7", True,
                  throughput={"journey": 900.0, "healthz": 1000.0}))
    report(Metric("projector_peak_rss_mb", 240.0, 180.0, 240.0 / 180.0, "<300", True))
    monkeypatch.setattr(sys, "argv", ["report_bench.py", str(results)])

    assert report_bench.main() == 0

    summary = json.loads((tmp_path / "results.json").read_text())
    assert summary["all_ok"] is True
    assert [m["name"] for m in summary["metrics"]] == ["progress_view_throughput",
                                                       "projector_peak_rss_mb"]
    assert (tmp_path / "results.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
