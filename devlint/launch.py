"""Hand over to the real command, leaving no trace of devlint.

On POSIX, os.execvp replaces devlint's process: same pid, same stdin/tty, signals go
straight to the command, and its exit status (or death by signal) is what the caller
sees. On Windows there is no exec: run the command as a child and return its code.
"""

from __future__ import annotations

import os
import sys
from typing import NoReturn, Sequence, Union

from devlint.model import ExitCode


class LaunchError(Exception):
    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def find(program: str) -> str:
    """Locate the program like a shell would; raise LaunchError(126/127) like a shell."""
    import shutil

    if os.sep in program or (os.altsep and os.altsep in program):
        if not os.path.exists(program):
            raise LaunchError(f"{program}: no such file", ExitCode.NOT_FOUND)
        if os.path.isdir(program) or not os.access(program, os.X_OK):
            raise LaunchError(f"{program}: not executable", ExitCode.NOT_EXECUTABLE)
        return program
    found = shutil.which(program)
    if found is None:
        raise LaunchError(f"{program}: command not found", ExitCode.NOT_FOUND)
    return found


def execute(argv: Sequence[Union[str, bytes]]) -> Union[int, NoReturn]:
    """Replace this process with argv (POSIX); on Windows, return the child's exit code."""
    program = os.fsdecode(argv[0])
    path = find(program)
    sys.stdout.flush()
    sys.stderr.flush()
    if sys.platform == "win32":
        import subprocess

        try:
            return subprocess.call([path, *argv[1:]])
        except KeyboardInterrupt:
            return int(ExitCode.INTERRUPTED)
    # exec resets caught signals to their defaults and keeps ignored ones ignored,
    # which is exactly what the command would have inherited without devlint.
    try:
        os.execv(path, [os.fsencode(a) if isinstance(a, str) else a for a in argv])
    except OSError as exc:
        raise LaunchError(f"{program}: {exc.strerror}", ExitCode.NOT_EXECUTABLE) from None
    raise AssertionError("unreachable")  # pragma: no cover
