"""`projections rebuild --processes N`: the projections shared out among processes build the
same views as one process, and a helper process never outlives or hides a failure of the
command that started it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
import pytest
from eventsourcing.persistence import StoredEvent

from api.rebuild_helpers import HelperFailed, Helpers, shares
from domain.application import Mentoring
from infra.database import eventsourcing_env
from projections import all_projections
from projections.rebuilds import REBUILD_LOCK
from scripts.scratch import flask_env, spawn_flask
from tests.integration.test_projector import mentoring_months

TODAY = date(2025, 3, 1)
EVERY = ["programmes", "journey_progress", "plan_history", "reviews", "analytics"]


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> Iterator[dict[str, str]]:
    app = Mentoring(env=eventsourcing_env(database_url), today=lambda: TODAY)
    mentoring_months(app, journeys=2, weeks=3)
    app.close()
    yield flask_env(database_url, tmp_path)


def rebuild(env: dict[str, str], *arguments: str) -> subprocess.CompletedProcess[bytes]:
    child = spawn_flask(["projections", "rebuild", *arguments], env, stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE)
    out, err = child.communicate(timeout=120)
    return subprocess.CompletedProcess(child.args, child.returncode, out, err)


def every_table(url: str) -> dict[str, list[Any]]:
    with psycopg.connect(url) as conn:
        return {f"{p.schema}.{t}": conn.execute(
            f"SELECT * FROM {p.schema}.{t} AS r ORDER BY r::text").fetchall()
            for p in all_projections(b"k" * 40) for t in p.tables}


def helper_of(parent: int) -> int:
    """The pid of the helper process that `parent` started, once it has."""
    for _ in range(200):
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                    cmdline = (entry / "cmdline").read_bytes()
                except OSError:
                    continue
                if int(stat[stat.rindex(")") + 2:].split()[1]) == parent and b"--helper" in cmdline:
                    return int(entry.name)
        time.sleep(0.05)
    raise AssertionError(f"process {parent} started no helper")


def gone(pid: int, seconds: float = 15.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if Path(f"/proc/{pid}/stat").read_text().split(")")[1].split()[0] == "Z":
                return True  # a zombie: ended, waiting for its parent to reap it
        except OSError:
            return True
        time.sleep(0.05)
    return False


def holding_the_rebuild_of(url: str, name: str) -> psycopg.Connection[Any]:
    """Another driver of this projection's rebuild: a process rebuilding it waits on it."""
    conn = psycopg.connect(url, autocommit=True)
    conn.execute("SELECT pg_advisory_lock(%s, hashtext(%s))", (REBUILD_LOCK, name))
    return conn


def test_the_heaviest_projections_go_to_different_processes() -> None:
    assert shares(EVERY, 2) == [["reviews", "analytics"],
                                ["programmes", "journey_progress", "plan_history"]]
    assert shares(EVERY, 1) == [EVERY]
    assert shares(["reviews", "programmes"], 4) == [["reviews"], ["programmes"]]


def test_two_processes_rebuild_what_one_process_rebuilds(env: dict[str, str],
                                                         database_url: str) -> None:
    alone = rebuild(env, "--processes", "1")
    assert alone.returncode == 0, alone.stderr.decode()
    by_one = every_table(database_url)

    shared = rebuild(env, "--processes", "2")

    assert shared.returncode == 0, shared.stderr.decode()
    assert every_table(database_url) == by_one
    assert [line.split(":")[0] for line in shared.stdout.decode().splitlines()] == EVERY
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM projection_rebuilds").fetchone() == (0,)


def test_a_poison_event_halts_every_share_and_the_command_reports_each(
        env: dict[str, str], database_url: str) -> None:
    app = Mentoring(env=eventsourcing_env(database_url), today=lambda: TODAY)
    stamp = {"_type_": "datetime_iso", "_data_": "2026-11-27T09:00:00+00:00"}
    positions = app.recorder.insert_events([StoredEvent(
        originator_id=uuid.uuid4(), originator_version=1, topic="domain.gone:Vanished",
        state=json.dumps({"timestamp": stamp}).encode())])
    app.close()
    assert positions is not None

    halted = rebuild(env, "--processes", "2")

    assert halted.returncode == 1
    reported = [line.split(":")[0] for line in halted.stderr.decode().splitlines()
                if f": halted: position {positions[0]}: cannot decode" in line]
    assert reported == EVERY  # the helper's share as well as the command's own


def test_a_helper_that_fails_fails_the_command_with_its_share_named(
        env: dict[str, str], database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    blocker = holding_the_rebuild_of(database_url, "plan_history")  # the helper waits on it
    helpers = Helpers([["plan_history"]], 2)
    try:
        helper = helper_of(os.getpid())
        assert helpers.check()  # running
        os.kill(helper, signal.SIGKILL)
        assert gone(helper)
        failed = r"rebuilding plan_history failed \(exit status -9\)"
        with pytest.raises(HelperFailed, match=failed):
            for _ in range(100):
                helpers.check()
                time.sleep(0.05)
    finally:
        helpers.stop()
        blocker.close()


def test_helpers_end_with_the_command_on_ctrl_c_and_when_it_is_killed(
        env: dict[str, str], database_url: str) -> None:
    blocker = holding_the_rebuild_of(database_url, "plan_history")  # the helper's share waits
    try:
        command = spawn_flask(["projections", "rebuild", "--processes", "2"], env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              start_new_session=True)
        helper = helper_of(command.pid)
        os.killpg(command.pid, signal.SIGINT)  # Ctrl-C reaches the terminal's process group
        assert command.wait(30) != 0
        assert gone(helper)

        command = spawn_flask(["projections", "rebuild", "--processes", "2"], env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        helper = helper_of(command.pid)
        command.kill()  # kill -9: nothing of the command runs to stop its helper
        command.wait()
        assert gone(helper)
    finally:
        blocker.close()

    finished = rebuild(env)  # what they left is resumed
    assert finished.returncode == 0, finished.stderr.decode()
