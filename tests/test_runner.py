"""Runner: work is shared between this process and its helpers and comes back in order; the
helpers take the calls at the back, so a long call there does not hold up the run; a helper that
dies costs time, not the result; an error stops the helpers; bad ``jobs`` values are input
errors."""

from __future__ import annotations

import os
import time
from functools import partial
from pathlib import Path

import pytest

from bayes_ips import session
from bayes_ips.errors import InputError
from bayes_ips.runner import Runner, available_cores, check_jobs

HERE = os.getpid()
"""This process (a helper that imports this module has its own: functions run there take it as
an argument)."""


def _pid_and(value: int) -> tuple[int, int]:
    return os.getpid(), value


def _sleep(seconds: float) -> tuple[int, float]:
    """Sleep; return where and when (monotonic clock) the call started."""
    started = time.monotonic()
    time.sleep(seconds)
    return os.getpid(), started


def _die_in_a_helper(value: int, here: int) -> int:
    if os.getpid() != here:
        os._exit(1)  # a helper killed mid-task (out of memory, a signal)
    time.sleep(0.5)  # this process is busy: the helper takes the next call
    return value


_HELD = []


def _grow(size: int) -> int:
    _HELD.append(bytearray(size))  # kept, as a warm helper keeps its compiled models
    return os.getpid()


def _touch_once(path: Path) -> None:
    path.touch(exist_ok=False)  # a second run of the same call fails


def _fail(value: int) -> int:
    raise ValueError(f"task {value} failed")


@pytest.fixture
def runner():
    """A runner with one helper, started and ready to take calls."""
    runner = Runner(2)
    runner.submit(int).result()
    yield runner
    runner.stop()


def test_share_runs_calls_here_and_in_a_helper_and_keeps_the_order(runner):
    calls = [partial(_pid_and, i) for i in range(6)]
    pids, values = zip(*runner.share(calls), strict=True)
    assert values == tuple(range(6))
    assert pids[0] == HERE  # this process takes from the front


def test_the_helper_takes_the_long_call_at_the_back_and_this_process_the_rest(runner):
    """The balancing policy: with calls [short] * 6 + [long], the helper is sent the long call
    first and is busy with it while this process runs every short one, first to last. Were the
    helper sent calls from the front, a short call would run in the helper; were this process
    to take them from the back, it would run them last to first (or the long one itself)."""
    calls = [partial(_sleep, 0.05)] * 6 + [partial(_sleep, 3.0)]
    pids, starts = zip(*runner.share(calls), strict=True)
    assert pids[-1] != HERE  # the long call ran in the helper
    assert pids[:-1] == (HERE,) * 6  # every short call here, none in the busy helper
    assert list(starts[:-1]) == sorted(starts[:-1])  # taken from the front


def test_a_helper_that_finishes_is_sent_the_next_call_from_the_back(runner):
    """The refill: with calls [long] + [short] * 6, this process is busy with the long call
    while the helper runs every short one, last to first, each sent as the previous finishes."""
    calls = [partial(_sleep, 3.0)] + [partial(_sleep, 0.05)] * 6
    pids, starts = zip(*runner.share(calls), strict=True)
    assert pids[0] == HERE
    assert len(set(pids[1:])) == 1 and pids[1] != HERE  # all short calls in the helper
    assert list(starts[1:]) == sorted(starts[1:], reverse=True)  # taken from the back


def test_helpers_stay_warm_between_shares(runner):
    """The same helper process takes part in the next share (nothing is restarted)."""
    calls = [partial(_sleep, 0.3)] * 3
    first, second = runner.share(calls), runner.share(calls)
    assert first[-1][0] == second[-1][0] != HERE


def test_a_helper_whose_memory_grew_is_kept(runner):
    """loky restarts a worker that grew by 300 MB since its first task, by default."""
    time.sleep(1.5)  # loky checks a worker's memory at most once a second
    grown = runner.submit(partial(_grow, 400_000_000)).result()
    assert runner.submit(os.getpid).result() == grown


def test_each_call_runs_once(runner, tmp_path):
    runner.share([partial(_touch_once, tmp_path / str(i)) for i in range(40)])
    assert sorted(int(f.name) for f in tmp_path.iterdir()) == list(range(40))


def test_work_of_a_helper_that_died_is_done_here(runner):
    assert runner.share([partial(_die_in_a_helper, i, HERE) for i in range(4)]) == [0, 1, 2, 3]
    assert not runner.running  # stopped; the next use starts new helpers
    assert runner.share([partial(_pid_and, i) for i in range(2)]) == [(HERE, 0), (HERE, 1)]


def test_a_family_fit_in_a_helper_that_died_is_done_here(runner):
    task = partial(_die_in_a_helper, 7, HERE)
    assert runner.collect(runner.submit(task), task) == 7
    assert not runner.running
    assert runner.collect(runner.submit(int), int) == 0  # new helpers


def test_an_error_in_a_call_is_raised_and_stops_the_helpers(runner):
    with pytest.raises(ValueError, match="task 1 failed"), runner.guarded():
        runner.share([partial(_pid_and, 0), partial(_fail, 1)])  # 1 runs in the helper
    assert not runner.running
    with pytest.raises(ValueError, match="task 0 failed"), runner.guarded():
        runner.share([partial(_fail, 0), partial(_pid_and, 1)])  # 0 runs here
    assert not runner.running


def test_without_helpers_everything_runs_here():
    calls = [partial(_pid_and, i) for i in range(3)]
    alone = Runner(1, cores=1)
    assert not alone.start() and alone.cores == 1
    assert alone.share(calls) == [(HERE, i) for i in range(3)]
    idle = Runner(2)  # helpers not started: share does not start them
    assert idle.share(calls) == [(HERE, i) for i in range(3)] and not idle.running


def test_the_session_keeps_one_runner_per_jobs_count():
    assert session.runner(2) is session.runner(2) is not session.runner(3)
    assert session.runner(None) is session.runner(available_cores())


@pytest.mark.parametrize("jobs", [0, -2, 1.5, True, "2"])
def test_jobs_must_be_a_whole_number_of_at_least_one(jobs):
    with pytest.raises(InputError, match=r"--jobs.*at least 1"):
        check_jobs(jobs)
    with pytest.raises(InputError, match=r"--jobs.*at least 1"):
        Runner(jobs)
    assert check_jobs(3) == 3 and check_jobs(None) == available_cores()
