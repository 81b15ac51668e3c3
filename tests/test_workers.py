"""Helper processes: work is shared between this process and the helpers and comes back in order;
a helper that dies costs time, not the result; bad ``jobs`` values are input errors."""

from __future__ import annotations

import multiprocessing
import os
import time
from functools import partial
from pathlib import Path

import pytest

from bayes_ips import workers
from bayes_ips.errors import InputError


def _pid_and(value: int) -> tuple[int, int]:
    return os.getpid(), value


def _die_in_a_helper(value: int) -> int:
    if multiprocessing.parent_process() is not None:
        os._exit(1)  # a helper killed mid-task (out of memory, a signal)
    time.sleep(1.0)  # this process is busy: the helper takes the next call
    return value


def _die_holding_the_board(value: int) -> int:
    if multiprocessing.parent_process() is not None:
        workers._board.get_lock().acquire()  # killed between taking the lock and releasing it
        os._exit(1)
    time.sleep(1.0)
    return value


def _touch_once(path: Path) -> None:
    path.touch(exist_ok=False)  # a second run of the same call fails


def _fail(value: int) -> int:
    raise ValueError(f"task {value} failed")


@pytest.fixture
def pool():
    helpers = workers.helpers(2)
    helpers.submit(int).result()  # started, so it is ready to take calls
    yield helpers
    workers.stop()


def _slow_here(value: int) -> tuple[int, int]:
    if multiprocessing.parent_process() is None:
        time.sleep(1.0)  # this process is busy: the helper takes the rest
    return _pid_and(value)


def test_share_runs_calls_here_and_in_a_helper_and_keeps_the_order(pool):
    results = workers.share([partial(_slow_here, i) for i in range(6)], pool)
    assert [value for _, value in results] == list(range(6))
    pids = [pid for pid, _ in results]
    assert pids[0] == os.getpid()  # this process takes from the front
    assert pids[-1] != os.getpid()  # the helper from the back
    assert pids == sorted(pids, key=lambda pid: pid != os.getpid())  # where they met


def test_each_call_runs_once(pool, tmp_path):
    workers.share([partial(_touch_once, tmp_path / str(i)) for i in range(40)], pool)
    assert sorted(int(f.name) for f in tmp_path.iterdir()) == list(range(40))


def test_work_of_a_helper_that_died_is_done_here(pool):
    assert workers.share([partial(_die_in_a_helper, i) for i in range(4)], pool) == [0, 1, 2, 3]
    assert workers.helpers(2, start=False) is None  # stopped; the next run starts new ones


def test_a_helper_that_died_holding_the_shared_lock_does_not_hang_the_run(pool, monkeypatch):
    monkeypatch.setattr(workers, "TAKE_TIMEOUT", 0.5)
    calls = [partial(_die_holding_the_board, i) for i in range(4)]
    assert workers.share(calls, pool) == [0, 1, 2, 3]
    assert workers.helpers(2, start=False) is None


def test_an_error_in_a_task_is_raised_and_stops_the_helpers(pool):
    with pytest.raises(ValueError, match="task 1 failed"), workers.guarded():
        workers.share([partial(_pid_and, 0), partial(_fail, 1)], pool)
    assert workers.helpers(2, start=False) is None


def test_without_helpers_everything_runs_here():
    assert workers.helpers(1) is None
    results = workers.share([partial(_pid_and, i) for i in range(3)], None)
    assert {pid for pid, _ in results} == {os.getpid()}


@pytest.mark.parametrize("jobs", [0, -2, 1.5, True, "2"])
def test_jobs_must_be_a_whole_number_of_at_least_one(jobs):
    with pytest.raises(InputError, match=r"--jobs.*at least 1"):
        workers.jobs(jobs)
    assert workers.jobs(3) == 3 and workers.jobs(None) == workers.cores()
