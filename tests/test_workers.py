"""Helper processes: work is dealt between this process and the helpers and comes back in order;
a helper that dies costs time, not the result; bad ``jobs`` values are input errors."""

from __future__ import annotations

import multiprocessing
import os
from functools import partial

import pytest

from bayes_ips import workers
from bayes_ips.errors import InputError


def _pid_and(value: int) -> tuple[int, int]:
    return os.getpid(), value


def _die_in_a_helper(value: int) -> int:
    if multiprocessing.parent_process() is not None:
        os._exit(1)  # a helper killed mid-task (out of memory, a signal)
    return value


def _fail(value: int) -> int:
    raise ValueError(f"task {value} failed")


@pytest.fixture
def pool():
    yield workers.helpers(2)
    workers.stop()


def test_share_deals_every_other_call_to_a_helper_and_keeps_the_order(pool):
    results = workers.share([partial(_pid_and, i) for i in range(5)], pool)
    assert [value for _, value in results] == list(range(5))
    pids = [pid for pid, _ in results]
    assert pids[0] == pids[2] == pids[4] == os.getpid()
    assert pids[1] == pids[3] != os.getpid()


def test_work_of_a_helper_that_died_is_done_here(pool):
    assert workers.share([partial(_die_in_a_helper, i) for i in range(4)], pool) == [0, 1, 2, 3]
    assert workers.helpers(2, start=False) is None  # stopped; the next run starts new ones


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
