"""Writes the results of `make bench` as JSON and as a chart.

Reads the metrics the benchmarks appended to a JSON-lines file (scripts/metrics.py) and writes,
beside it, `results.json` (every metric, when and where it was measured) and `results.png`:
one panel per metric that carries latency samples (their distributions, measured beside
baseline) or throughputs (bars, measured beside baseline).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no screen: render straight to a file
import matplotlib.pyplot as plt


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path, help="the JSON-lines file the benchmarks wrote")
    args = parser.parse_args()
    if not args.results.exists():
        print(f"no results in {args.results}: did any benchmark run?", file=sys.stderr)
        return 1
    metrics = [json.loads(line) for line in args.results.read_text().splitlines() if line]
    out_dir = args.results.parent
    summary = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": _commit(),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                    "python": platform.python_version()},
        "all_ok": all(metric["ok"] for metric in metrics),
        "metrics": metrics,
    }
    (out_dir / "results.json").write_text(json.dumps(summary, indent=2) + "\n")
    chart(metrics, out_dir / "results.png")
    short = [metric["name"] for metric in metrics if not metric["ok"]]
    print(f"bench: {len(metrics)} metrics, {len(metrics) - len(short)} ok"
          + (f", short: {', '.join(short)}" if short else "")
          + f"; wrote {out_dir / 'results.json'} and {out_dir / 'results.png'}")
    return 0


def chart(metrics: list[dict[str, Any]], path: Path) -> None:
    panels = [m for m in metrics if m.get("latencies_ms") or m.get("throughput")]
    if not panels:
        return
    columns = 2
    rows = -(-len(panels) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(12, 3.6 * rows), squeeze=False)
    for ax, metric in zip(axes.flat, panels, strict=False):
        verdict = "ok" if metric["ok"] else "short"
        ax.set_title(f"{metric['name']}: ratio {metric['ratio']:.2f}, "
                     f"target {metric['target']} ({verdict})", fontsize=9,
                     color="black" if metric["ok"] else "firebrick")
        latencies = {k: v for k, v in (metric.get("latencies_ms") or {}).items() if v}
        if latencies:
            ax.boxplot(list(latencies.values()), tick_labels=list(latencies),
                       orientation="horizontal", showfliers=False)
            if max(map(max, latencies.values())) > 20 * min(map(min, latencies.values())):
                ax.set_xscale("log")
            ax.set_xlabel("latency, ms (box: quartiles; whiskers: 1.5 IQR)")
        else:
            throughput = metric["throughput"]
            bars = ax.barh(list(throughput), list(throughput.values()), color="steelblue")
            ax.bar_label(bars, fmt="%.0f", fontsize=8)
            ax.set_xlabel("operations per second")
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def _commit() -> str | None:
    found = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                           text=True, check=False)
    return found.stdout.strip() or None


if __name__ == "__main__":
    sys.exit(main())
