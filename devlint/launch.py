"""Hand over to the real command, leaving no trace of devlint.

On POSIX, os.execvp replaces devlint's process: same pid, same stdin/tty, signals go
straight to the command, and its exit status (or death by signal) is what the caller
sees. On Windows there is no exec: run the command as a child and return its code.
"""

from __future__ import annotations

import errno
import os
import sys

TYPE_CHECKING = False  # typing and the data model stay unimported on the exec path (warm.py)
if TYPE_CHECKING:
    from typing import Dict, List, Optional, Sequence, Union


class LaunchError(Exception):
    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def find(program: str) -> str:
    """Locate the program like a shell would; raise LaunchError(126/127) like a shell."""
    if os.sep in program or (os.altsep and os.altsep in program):
        if os.path.exists(program) and not os.path.isdir(program) and os.access(program, os.X_OK):
            return program
        from devlint.model import ExitCode  # on the error paths only: the model costs ≈ 10 ms

        if not os.path.exists(program):
            raise LaunchError(f"{program}: no such file", ExitCode.NOT_FOUND)
        raise LaunchError(f"{program}: not executable", ExitCode.NOT_EXECUTABLE)
    found = _which(program)
    if found is None:
        from devlint.model import ExitCode

        raise LaunchError(f"{program}: command not found", ExitCode.NOT_FOUND)
    return found


def _which(program: str) -> Optional[str]:
    """shutil.which on POSIX (first executable, non-directory match on PATH), without
    importing shutil (≈ 2 ms) on the exec path; Windows' PATHEXT rules stay shutil's."""
    if sys.platform == "win32":
        import shutil

        return shutil.which(program)
    path = os.environ.get("PATH", None)
    if path is None:
        try:
            path = os.confstr("CS_PATH") or os.defpath
        except (AttributeError, ValueError):
            path = os.defpath
    if not path:  # PATH='' finds nothing; PATH=':' looks in the working directory
        return None
    seen = set()
    for folder in path.split(os.pathsep):
        if folder in seen:
            continue
        seen.add(folder)
        candidate = os.path.join(folder, program)
        if os.path.exists(candidate) and os.access(candidate, os.X_OK) and not os.path.isdir(candidate):
            return candidate
    return None


_COERCED = (b"C.UTF-8", b"C.utf8", b"UTF-8")  # what PEP 538 may set LC_CTYPE to


def command_environment(block_path: str = "/proc/self/environ") -> Optional[Dict[bytes, bytes]]:
    """The environment for the command: devlint's own, minus what Python added to it at
    start-up, or None when there is nothing to take out (the command inherits os.environ).

    Under the C or POSIX locale Python sets LC_CTYPE=C.UTF-8 in its environment (PEP 538
    locale coercion), which the command, started from a shell, would not have had. Linux
    keeps the block devlint was started with in /proc/self/environ: an LC_CTYPE that is not
    there, with a value coercion uses, came from Python and is dropped. Everything else in
    os.environ is passed on as it is.
    """
    current = os.environb if hasattr(os, "environb") else None
    if current is None or current.get(b"LC_CTYPE") not in _COERCED:
        return None
    try:
        with open(block_path, "rb") as handle:
            block = handle.read()
    except OSError:
        return None
    if any(entry.startswith(b"LC_CTYPE=") for entry in block.split(b"\0")):
        return None  # the caller set it: keep it
    environment = dict(current)
    del environment[b"LC_CTYPE"]
    return environment


def _exec(path: str, args: List[bytes], environment: Optional[Dict[bytes, bytes]]) -> None:
    if environment is None:
        os.execv(path, args)
    os.execve(path, args, environment)


def _binary(path: str) -> bool:
    """Whether a file looks like a binary (a NUL byte in its first line), as bash decides."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(256)
    except OSError:
        return True
    return b"\0" in head.split(b"\n", 1)[0]


def execute(argv: Sequence[Union[str, bytes]]) -> int:
    """Replace this process with argv (POSIX); on Windows, return the child's exit code."""
    program = os.fsdecode(argv[0])
    path = find(program)
    for stream in (sys.stdout, sys.stderr):
        # None when the descriptor was closed (`2>&-`); a full disk must not stop the exec either:
        # whatever fails, the command runs with the descriptors it has (contextlib stays unimported)
        try:  # noqa: SIM105
            stream.flush()
        except Exception:
            pass
    if sys.platform == "win32":
        import subprocess

        try:
            return subprocess.call([path, *argv[1:]])
        except KeyboardInterrupt:
            from devlint.model import ExitCode

            return int(ExitCode.INTERRUPTED)
    # exec resets caught signals to their defaults and keeps ignored ones ignored, which is
    # what the command would have inherited without devlint, except for the two signals
    # Python itself ignores at start-up (as subprocess's restore_signals undoes too).
    import _signal as signal  # type: ignore[import-not-found]  # signal.py builds enums (≈ 1 ms)

    for name in ("SIGPIPE", "SIGXFSZ"):
        number = getattr(signal, name, None)
        if number is not None:
            signal.signal(number, signal.SIG_DFL)
    args = [os.fsencode(a) if isinstance(a, str) else a for a in argv]
    environment = command_environment()
    try:
        _exec(path, args, environment)
    except OSError as exc:
        from devlint.model import ExitCode

        if exc.errno == errno.ENOEXEC and not _binary(path):
            # no #! line: a shell script, run by sh as execvp(3) and shells do
            try:
                _exec("/bin/sh", [b"sh", os.fsencode(path), *args[1:]], environment)
            except OSError as again:
                exc = again
        if exc.errno == errno.ENOENT:  # bash says 127 for both
            if not os.path.exists(path):
                raise LaunchError(f"{program}: command not found", ExitCode.NOT_FOUND) from None
            raise LaunchError(f"{program}: bad interpreter: the program on its #! line does not exist",
                              ExitCode.NOT_FOUND) from None
        raise LaunchError(f"{program}: {exc.strerror or exc}", ExitCode.NOT_EXECUTABLE) from None
    raise AssertionError("unreachable")  # pragma: no cover
