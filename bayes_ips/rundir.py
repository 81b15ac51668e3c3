"""Atomic run folders: write into a hidden temporary folder beside the target, then rename.

A crash, Ctrl-C or kill never leaves a half-written run at the target path, and an earlier run
there survives until the new one is complete. Only a folder that bayes_ips wrote (or an empty one)
is ever replaced (:func:`check_replaceable`): a file, or a folder of other files, given as the
target is refused. Leftover temporary folders of processes that no longer exist (after a SIGKILL)
are removed the next time a run is written beside them.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bayes_ips.errors import InputError

OWN_FILES = ("summary.json", "run-key.json", "sbc.json")
"""A folder holding one of these was written by bayes_ips (a run, a batch's run, a calibration
report), so a new one may replace it."""


def check_replaceable(target: Path, field: str = "--out") -> None:
    """Refuse (:class:`~bayes_ips.errors.InputError`, exit 2) a target that a new run folder must
    not replace: a file, a symlink, or a folder of files that bayes_ips did not write. A missing
    target, an empty folder or an earlier bayes_ips folder is fine."""
    target = Path(target)
    if not os.path.lexists(target):
        return
    if target.is_symlink() or not target.is_dir():
        raise InputError(
            "argument",
            "exists and is not a folder; a run is written into a folder of its own, which "
            "would replace it: choose a new or empty folder (nothing was written)",
            field=field,
            value=str(target),
        )
    if any(target.iterdir()) and not any((target / name).is_file() for name in OWN_FILES):
        raise InputError(
            "argument",
            "is a folder of other files (no summary.json): a run replaces its folder as a "
            "whole, so choose a new or empty folder (nothing was written)",
            field=field,
            value=str(target),
        )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_stale(target: Path) -> None:
    for leftover in target.parent.glob(f".{target.name}.partial-*"):
        try:
            pid = int(leftover.name.rsplit(".partial-", 1)[1].split("-", 1)[0])
        except ValueError:
            continue
        if not _alive(pid):
            shutil.rmtree(leftover, ignore_errors=True)


@contextmanager
def atomic_dir(target: Path) -> Iterator[Path]:
    """Yield a temporary folder that replaces ``target`` when the block succeeds; ``target``
    must be replaceable (:func:`check_replaceable`)."""
    target = Path(target)
    check_replaceable(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale(target)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-{os.getpid()}-", dir=target.parent))
    tmp.chmod(0o755)
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    if target.exists():
        old = target.parent / f".{target.name}.partial-{os.getpid()}-old"
        os.replace(target, old)
    os.replace(tmp, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def atomic_write(path: Path, text: str) -> None:
    """Write a text file (UTF-8) through a temporary file beside it and a rename."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.partial-{os.getpid()}-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
