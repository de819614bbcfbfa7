"""Batch sizes follow the backlog: small while live, doubling while reads come back full."""

from __future__ import annotations

from projections.batches import Pace


def test_a_backlog_doubles_the_batch_up_to_the_largest_and_the_end_of_the_log_resets_it() -> None:
    pace = Pace(largest=5000, smallest=100)
    sizes = []
    for _ in range(8):  # a long backlog: every read comes back full
        sizes.append(pace.size)
        pace.after(pace.size)
    assert sizes == [100, 200, 400, 800, 1600, 3200, 5000, 5000]

    pace.after(37)  # the end of the log: live again
    assert pace.size == 100
    pace.after(12)
    assert pace.size == 100


def test_the_smallest_batch_never_exceeds_the_largest() -> None:
    pace = Pace(largest=7)
    assert (pace.smallest, pace.size) == (7, 7)
    pace.after(7)
    assert pace.size == 7
