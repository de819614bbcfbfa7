"""How every benchmark reports a target of SPEC 8 (`make bench`).

Each metric is printed as one line,
`metric: <name> value=<measured> baseline=<measured> ratio=<x> target=<y> ok|short`,
and, when BENCH_RESULTS names a file, appended to it as one JSON object per line (with any
latency samples and throughputs the script measured), from which `scripts/report_bench.py`
writes bench/results.json and the chart bench/results.png.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Metric:
    name: str
    value: float
    baseline: float
    ratio: float
    target: str
    ok: bool
    unit: str = ""
    # Named series of latencies in milliseconds (e.g. {"measured": [...], "baseline": [...]})
    latencies_ms: dict[str, list[float]] = field(default_factory=dict)
    # Named throughputs in operations per second (e.g. {"measured": 812.0, "baseline": 640.0})
    throughput: dict[str, float] = field(default_factory=dict)

    def line(self) -> str:
        return (f"metric: {self.name} value={_number(self.value)}{self.unit} "
                f"baseline={_number(self.baseline)}{self.unit} ratio={self.ratio:.2f} "
                f"target={self.target} {'ok' if self.ok else 'short'}")


def report(metric: Metric) -> bool:
    """Prints the metric's line, records it for the report, and tells whether it is ok."""
    print(metric.line(), flush=True)
    results = os.environ.get("BENCH_RESULTS")
    if results:
        path = Path(results)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(asdict(metric)) + "\n")
    return metric.ok


def _number(value: float) -> str:
    return f"{value:.2f}" if abs(value) < 100 else f"{value:.1f}"
