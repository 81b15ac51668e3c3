"""Errors a user can cause, each mapped to a documented exit code.

Exit codes (``shared/design/outputs.md``): 0 finished and converged, 1 internal error,
2 invalid input, 3 finished but a convergence check failed.
"""

import functools
import os
import stat
import tempfile
from collections.abc import Sequence
from pathlib import Path

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_INPUT = 2
EXIT_NOT_CONVERGED = 3


class InputError(Exception):
    """Invalid data, spec or arguments: exit code 2, one line, nothing written.

    The message escapes non-printable characters of user-supplied text (see :func:`printable`).

    Parameters
    ----------
    source : str
        The file the problem is in, or ``"argument"`` for a command-line option or function
        argument (then ``field`` is its name, and the message starts ``argument --jobs``).
    rule : str
        The rule that was broken, in words.
    row : int, optional
        Line number in the file (the header is line 1).
    field : str, optional
        Column or key name.
    value : object, optional
        The offending value, shown with ``repr`` (a NumPy scalar as the Python number or string
        it holds).
    """

    def __init__(self, source: str, rule: str, *, row=None, field=None, value=None):
        self.source, self.rule, self.row, self.field, self.value = source, rule, row, field, value
        super().__init__(self.message)

    def __reduce__(self):
        """Pickle by the constructor's arguments (an error raised in a worker process reaches
        the caller unchanged)."""
        keywords = {"row": self.row, "field": self.field, "value": self.value}
        return functools.partial(type(self), **keywords), (self.source, self.rule)

    @property
    def message(self) -> str:
        if self.source == "argument" and self.field is not None:
            where = [f"argument {self.field}"]  # as argparse names an option
        else:
            where = [str(self.source)]
            if self.row is not None:
                where.append(f"line {self.row}")
            if self.field is not None:
                where.append(f"field '{self.field}'")
        if self.value is not None:
            shown = repr(python_scalar(self.value))
            where.append(f"value {shown if len(shown) <= 60 else shown[:57] + '...'}")
        return printable(", ".join(where) + f": {self.rule}")


def python_scalar(value):
    """``value`` with a NumPy scalar replaced by the Python number or string it holds, so that a
    message shows ``'IPS'`` or ``10``, never ``np.str_('IPS')`` or ``np.int64(10)``."""
    item = getattr(value, "item", None)
    if type(value).__module__ == "numpy" and callable(item):
        return item()
    return value


def printable(text: str) -> str:
    """``text`` with every non-printable character (newlines, terminal escapes, NUL, bidi
    overrides) shown as its Python escape, so a message stays one harmless line."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


class InputErrors(InputError):
    """Several input errors found at once (every mistake in a spec): exit code 2, one line each.

    Its ``source``, ``rule``, ``row``, ``field`` and ``value`` are those of the first error, so a
    caller that shows one error still shows a useful one.

    Parameters
    ----------
    errors : sequence of InputError
        At least two errors, in the order found.
    """

    def __init__(self, errors: Sequence[InputError]):
        self.errors = tuple(errors)
        first = self.errors[0]
        super().__init__(
            first.source, first.rule, row=first.row, field=first.field, value=first.value
        )

    def __reduce__(self):
        return type(self), (self.errors,)

    @property
    def message(self) -> str:
        """One line per error, each as :attr:`InputError.message` writes it."""
        return "\n".join(e.message for e in self.errors)


STATE_FOLDER = "bayes-ips"
"""The folder of this user's logs under ``$XDG_STATE_HOME`` (default ``~/.local/state``)."""
WARNINGS_LOG = "warnings.log"
"""The file in :func:`state_dir` that library warnings go to instead of stderr."""


@functools.cache
def state_dir() -> Path:
    """This user's private folder for logs, made on first use (once per process):
    ``$XDG_STATE_HOME/bayes-ips``, by default ``~/.local/state/bayes-ips``, mode 0700.

    Logs never go to the shared temporary folder under a fixed name, where another user could
    plant a symlink and have bayes_ips overwrite a file. If that folder is a symlink, belongs to
    another user or cannot be made, a new private temporary folder (``tempfile.mkdtemp``, mode
    0700) is used instead.
    """
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(
        os.path.expanduser("~"), ".local", "state"
    )
    folder = Path(base) / STATE_FOLDER
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        status = os.lstat(folder)
        if stat.S_ISDIR(status.st_mode) and status.st_uid == os.getuid():
            if stat.S_IMODE(status.st_mode) != 0o700:
                os.chmod(folder, 0o700)
            return folder
    except OSError:
        pass
    return Path(tempfile.mkdtemp(prefix="bayes-ips-"))


def write_log(text: str, kind: str, folder: Path | None = None) -> Path:
    """Write ``text`` to a new file ``bayes-ips-KIND-XXXXXXXX.log`` and return its path.

    The file is made in ``folder`` (a run's own folder) or, when that is None or not writable,
    in :func:`state_dir`; it is created exclusively with mode 0600 (``tempfile.mkstemp``), so
    it never writes through a symlink or over another file.
    """
    for where in ([folder] if folder is not None else []) + [state_dir()]:
        try:
            fd, name = tempfile.mkstemp(prefix=f"bayes-ips-{kind}-", suffix=".log", dir=where)
        except OSError:
            continue
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(text)
        return Path(name)
    raise OSError(f"cannot write the {kind} log")


def route_warnings() -> None:
    """Send Python warnings (numpy arithmetic, matplotlib, multiprocessing, the samplers'
    libraries) to :data:`WARNINGS_LOG` in :func:`state_dir` instead of stderr: the command line
    and its helper processes print only the documented lines. Anything a user must know is in
    the report and summary.json ``warnings``. The log is opened for appending with mode 0600 and
    never through a symlink."""
    import warnings

    def show(message, category, filename, lineno, file=None, line=None):
        try:
            path = state_dir() / WARNINGS_LOG
            flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW
            with os.fdopen(os.open(path, flags, 0o600), "a", encoding="utf-8") as f:
                f.write(warnings.formatwarning(message, category, filename, lineno, line))
        except OSError:
            pass

    warnings.showwarning = show
