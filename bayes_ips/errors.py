"""Errors a user can cause, each mapped to a documented exit code.

Exit codes (``shared/design/outputs.md``): 0 finished and converged, 1 internal error,
2 invalid input, 3 finished but a convergence check failed.
"""

import functools
from collections.abc import Sequence

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
        The file (or ``"argument"``) the problem is in.
    rule : str
        The rule that was broken, in words.
    row : int, optional
        Line number in the file (the header is line 1).
    field : str, optional
        Column or key name.
    value : object, optional
        The offending value, shown with ``repr``.
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
        where = [str(self.source)]
        if self.row is not None:
            where.append(f"line {self.row}")
        if self.field is not None:
            where.append(f"field '{self.field}'")
        if self.value is not None:
            shown = repr(self.value)
            where.append(f"value {shown if len(shown) <= 60 else shown[:57] + '...'}")
        return printable(", ".join(where) + f": {self.rule}")


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


WARNINGS_LOG = "bayes-ips-warnings.log"
"""The file (in the temporary folder) that library warnings go to instead of stderr."""


def route_warnings() -> None:
    """Send Python warnings (numpy arithmetic, matplotlib, multiprocessing, the samplers'
    libraries) to :data:`WARNINGS_LOG` in the temporary folder instead of stderr: the command line
    and its helper processes print only the documented lines. Anything a user must know is in
    the report and summary.json ``warnings``."""
    import tempfile
    import warnings
    from pathlib import Path

    log = Path(tempfile.gettempdir()) / WARNINGS_LOG

    def show(message, category, filename, lineno, file=None, line=None):
        try:
            with log.open("a", encoding="utf-8") as f:
                f.write(warnings.formatwarning(message, category, filename, lineno, line))
        except OSError:
            pass

    warnings.showwarning = show
