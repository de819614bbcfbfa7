"""HTTP load for the benchmarks: wrk at full speed, and an open-loop sender at a fixed rate.

`saturate()` runs wrk (the Debian package `wrk`) with keep-alive connections and a generated
Lua script that cycles through the given requests (method, path, body, headers — each request
can differ, e.g. one journey per request), each wrk thread starting at its own offset. The
Lua `response()` hook counts every status code, and `done()` prints one JSON line with the
totals, the latency percentiles and a quantile sample of wrk's full latency histogram, which
is parsed here. wrk is closed-loop (each connection sends its next request when the previous
answer arrives), so its throughput is the server's maximum at that concurrency, and its
latencies are those of a saturated server.

`at_rate()` measures latency at a fixed, moderate rate: wrk cannot pace itself (a Lua
`delay()` only adds think time per connection, which keeps the loop closed and hides queueing
behind slow answers — coordinated omission). So it is an open-loop Python sender: requests are
due at fixed times (rate r: one every 1/r s), a pool of keep-alive connections takes each one
when it is due, and a request's latency is counted from the moment it was due, not from when a
free connection finally sent it. A server that falls behind therefore shows it in the tail.
Python costs some CPU on the same machine; at the rates it is meant for (hundreds per second)
that is a few percent of one core.
"""

from __future__ import annotations

import http.client
import json
import math
import shutil
import signal
import string
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

WRK = "wrk"
SAMPLE_SIZE = 500  # latencies kept for charts: evenly spaced quantiles of the distribution
RESULT_PREFIX = "wrk-result: "
DRAINED = "wrk-thread-drained"
PLAIN = frozenset(string.ascii_letters + string.digits + " /-_.:,{}[]")


class LoadFailed(RuntimeError):
    """A run that cannot be trusted: wrk missing or failing, socket errors, unexpected statuses."""


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: str | None = None  # sent as is; JSON bodies are given as text
    headers: Mapping[str, str] = field(default_factory=dict)

    def all_headers(self) -> dict[str, str]:
        """Its headers, with `Content-Type: application/json` when it has a body and no type."""
        headers = dict(self.headers)
        if self.body is not None and not any(k.lower() == "content-type" for k in headers):
            headers["Content-Type"] = "application/json"
        return headers


@dataclass(frozen=True)
class LoadResult:
    requests: int
    seconds: float
    statuses: Mapping[int, int]
    errors: Mapping[str, int]  # socket errors: wrk's connect, read, write, timeout
    in_flight: int  # requests sent and never answered (none, in a run that passed)
    latency_ms: Mapping[str, float]  # p50, p90, p99, max, mean
    samples_ms: list[float]  # SAMPLE_SIZE evenly spaced quantiles of every latency

    @property
    def throughput(self) -> float:
        """Requests answered per second, whatever their status."""
        return self.requests / self.seconds if self.seconds else 0.0

    def count(self, *statuses: int) -> int:
        return sum(self.statuses.get(status, 0) for status in statuses)

    def non_2xx(self) -> int:
        return sum(n for status, n in self.statuses.items() if not 200 <= status < 300)


def wrk_path() -> str:
    path = shutil.which(WRK)
    if path is None:
        raise LoadFailed("wrk is not installed: the HTTP benchmarks need it "
                         "(apt-get install -y wrk)")
    return path


def saturate(base_url: str, requests: Sequence[Request], *, seconds: float, threads: int = 2,
             connections: int = 8, timeout_seconds: float = 10,
             expected: Sequence[int] = (200, 201)) -> LoadResult:
    """wrk's maximum rate on `requests`, cycled, for `seconds`; then what is in flight is
    answered and counted. Any status outside `expected`, any socket error or any request left
    unanswered fails the run (`LoadFailed`), so a fast run of refusals cannot pass for a fast
    run, and the caller can hold the store to exactly the answers counted."""
    if not requests:
        raise ValueError("give at least one request")
    threads = max(1, min(threads, connections))
    per_thread = connections // threads
    with tempfile.TemporaryDirectory(prefix="mj-wrk-") as scratch:
        script = Path(scratch) / "requests.lua"
        script.write_text(_lua_script(requests, threads, per_thread, seconds), encoding="utf-8")
        command = [wrk_path(), "--threads", str(threads), "--connections",
                   str(per_thread * threads), "--duration",
                   f"{math.ceil(seconds + timeout_seconds) + 1}s", "--timeout",
                   f"{math.ceil(timeout_seconds)}s", "--script", str(script), base_url]
        output = _run_until_drained(command, threads)
    line = next((line for line in output.splitlines() if line.startswith(RESULT_PREFIX)), None)
    if line is None:
        raise LoadFailed(f"wrk printed no result: {output}")
    result = _parse(json.loads(line.removeprefix(RESULT_PREFIX)))
    _check(result, expected)
    return result


def _run_until_drained(command: list[str], threads: int) -> str:
    """wrk itself always runs its whole --duration; once every thread has said that its
    connections are idle, SIGINT makes it report at once."""
    wrk = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert wrk.stdout is not None and wrk.stderr is not None
    lines, drained = [], 0
    for line in wrk.stdout:
        lines.append(line)
        if line.strip() == DRAINED:
            drained += 1
            if drained == threads:
                wrk.send_signal(signal.SIGINT)
    errors = wrk.stderr.read()
    if wrk.wait() != 0:
        raise LoadFailed(f"wrk exited {wrk.returncode}: {errors.strip()}")
    return "".join(lines)


def at_rate(base_url: str, requests: Sequence[Request], *, rate: float, seconds: float,
            connections: int = 8, timeout_seconds: float = 10,
            expected: Sequence[int] = (200, 201)) -> LoadResult:
    """Latency at a fixed rate, open loop: each request is due at its time and its latency
    counts from then (see the module's docstring)."""
    if not requests or rate <= 0:
        raise ValueError("give at least one request and a positive rate")
    total = max(1, int(rate * seconds))
    parts = urlsplit(base_url)
    start = time.perf_counter() + 0.05
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    errors: Counter[str] = Counter()
    lock = threading.Lock()
    next_index = iter(range(total))

    def sender() -> None:
        connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port,
                                                timeout=timeout_seconds)
        while True:
            with lock:
                index = next(next_index, None)
            if index is None:
                break
            due = start + index / rate
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            request = requests[index % len(requests)]
            try:
                connection.request(request.method, request.path,
                                   body=request.body.encode() if request.body else None,
                                   headers=request.all_headers())
                response = connection.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException) as failure:
                connection.close()
                with lock:
                    errors[type(failure).__name__] += 1
                continue
            elapsed_ms = (time.perf_counter() - due) * 1000
            with lock:
                latencies.append(elapsed_ms)
                statuses[status] += 1
        connection.close()

    workers = [threading.Thread(target=sender) for _ in range(connections)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    finished = time.perf_counter()
    ordered = sorted(latencies)
    result = LoadResult(
        requests=len(ordered), seconds=finished - start, statuses=dict(statuses),
        errors=dict(errors), in_flight=0,
        latency_ms={"p50": _quantile(ordered, 0.50), "p90": _quantile(ordered, 0.90),
                    "p99": _quantile(ordered, 0.99), "max": ordered[-1] if ordered else 0.0,
                    "mean": sum(ordered) / len(ordered) if ordered else 0.0},
        samples_ms=_sample(ordered))
    _check(result, expected)
    return result


def _check(result: LoadResult, expected: Sequence[int]) -> None:
    unexpected = {status: n for status, n in result.statuses.items() if status not in expected}
    errors = {kind: n for kind, n in result.errors.items() if n}
    if unexpected or errors or result.in_flight or not result.requests:
        raise LoadFailed(f"{result.requests} answers; unexpected statuses {unexpected}, "
                         f"socket errors {errors}, {result.in_flight} left in flight")


def _parse(raw: Mapping[str, object]) -> LoadResult:
    statuses = {int(status): int(n) for status, n in dict(raw["statuses"]).items()}  # type: ignore[call-overload]
    latency = {name: float(value) / 1000 for name, value in dict(raw["latency_us"]).items()}  # type: ignore[call-overload]
    samples = [float(value) / 1000 for value in raw["samples_us"]]  # type: ignore[attr-defined]
    return LoadResult(requests=int(raw["requests"]),  # type: ignore[call-overload]
                      seconds=float(raw["seconds"]),  # type: ignore[arg-type]
                      statuses=statuses, errors=dict(raw["errors"]),  # type: ignore[call-overload]
                      in_flight=int(raw["in_flight"]),  # type: ignore[call-overload]
                      latency_ms=latency, samples_ms=samples)


def _quantile(ordered: Sequence[float], q: float) -> float:
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def _sample(ordered: Sequence[float]) -> list[float]:
    if len(ordered) <= SAMPLE_SIZE:
        return list(ordered)
    return [_quantile(ordered, (i + 0.5) / SAMPLE_SIZE) for i in range(SAMPLE_SIZE)]


def _lua_string(text: str) -> str:
    """A Lua string literal of any text: every byte but plain ASCII letters, digits and a few
    signs is written as a three-digit escape (three, so a digit after it cannot join it)."""
    return '"' + "".join(chr(b) if chr(b) in PLAIN else f"\\{b:03d}"
                         for b in text.encode("utf-8")) + '"'


def _lua_script(requests: Sequence[Request], threads: int, per_thread: int,
                seconds: float) -> str:
    entries = []
    for request in requests:
        header_table = ", ".join(f"[{_lua_string(k)}] = {_lua_string(v)}"
                                 for k, v in request.all_headers().items())
        body = _lua_string(request.body) if request.body is not None else "nil"
        entries.append(f"  {{{_lua_string(request.method)}, {_lua_string(request.path)}, "
                       f"{{{header_table}}}, {body}}},")
    return LUA_TEMPLATE.replace("--REQUESTS--", "\n".join(entries)).replace(
        "--SAMPLE_SIZE--", str(SAMPLE_SIZE)).replace("--PREFIX--", RESULT_PREFIX).replace(
        "--THREADS--", str(threads)).replace("--SECONDS--", f"{seconds:.3f}").replace(
        "--PER_THREAD--", str(per_thread)).replace(
        "--CONNECTIONS--", str(per_thread * threads)).replace("--DRAINED--", DRAINED)


LUA_TEMPLATE = r"""
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } mj_timespec;
int clock_gettime(int clock_id, mj_timespec *now);
]]
local clock = ffi.new("mj_timespec")
local function now()
  ffi.C.clock_gettime(1, clock)  -- CLOCK_MONOTONIC
  return tonumber(clock.tv_sec) + tonumber(clock.tv_nsec) / 1e9
end

local requests = {
--REQUESTS--
}
local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

local formatted = {}
local index = 0
local stop_at = 0
statuses = {}
started = 0
last_answer = 0

function init(args)
  for i, r in ipairs(requests) do
    formatted[i] = wrk.format(r[1], r[2], r[3], r[4])
  end
  -- each thread starts elsewhere in the list, so threads do not send the same requests
  index = math.floor((id - 1) * #formatted / --THREADS--) % #formatted
  started = now()
  stop_at = started + --SECONDS--
end

function request()
  index = index % #formatted + 1
  return formatted[index]
end

-- Past the deadline a connection sends nothing more once answered: what is in flight is
-- answered (or times out) before wrk stops, so every request sent is counted. A thread whose
-- connections are all idle says so, and stops.
idle = 0
function delay()
  if now() < stop_at then
    return 0
  end
  idle = idle + 1
  if idle == --PER_THREAD-- then
    io.write("--DRAINED--\n")
    io.flush()
    wrk.thread:stop()
  end
  return 3600000
end

function response(status, headers, body)
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
  last_answer = now()
end

function done(summary, latency, requests_)
  local totals, first, last, idle_connections = {}, nil, 0, 0
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do
      totals[status] = (totals[status] or 0) + n
    end
    local began = thread:get("started")
    if first == nil or began < first then first = began end
    last = math.max(last, thread:get("last_answer"))
    idle_connections = idle_connections + thread:get("idle")
  end
  local parts = {}
  for status, n in pairs(totals) do
    table.insert(parts, string.format('"%s": %d', status, n))
  end
  local samples = {}
  local size = --SAMPLE_SIZE--
  for i = 1, size do
    table.insert(samples, string.format("%d", latency:percentile((i - 0.5) * 100 / size)))
  end
  local e = summary.errors
  io.write("--PREFIX--", string.format(
    '{"requests": %d, "seconds": %f, "in_flight": %d, "statuses": {%s}, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "timeout": %d}, ' ..
    '"latency_us": {"p50": %d, "p90": %d, "p99": %d, "max": %d, "mean": %f}, ' ..
    '"samples_us": [%s]}',
    summary.requests, math.max(last - (first or last), 0),
    --CONNECTIONS-- - idle_connections, table.concat(parts, ", "),
    e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    latency.mean, table.concat(samples, ", ")), "\n")
end
"""
