"""Who a listening process is, for `--kill`: its identity, its folder, and what program it runs.

Hand-written rather than left to psutil alone, because `--kill` must never signal the wrong
process and psutil does not close every gap:

- **Owner.** A socket's uid (what the socket table gives) is who *created* the socket; a
  daemon that binds as root and drops to ``nobody`` keeps a root-owned socket. The owner
  here is the process's real, effective and saved uid *now*: psutil ``Process.uids()``
  (on Linux from ``/proc/PID/status``, line ``Uid:``). Windows has no uids: its owner is
  psutil ``Process.username()``.
- **Identity.** A pid can be reused once its process exits. An ``Identity`` (pid, start
  time, uids, command line) is captured when `--kill` decides, and compared again right
  before each signal (``mismatch``). psutil's own signal methods re-check only the start time.
- **The signal itself** (``send``): on Linux with ``os.pidfd_open`` (Python 3.9+, kernel 5.3+)
  a pidfd is opened *first*, the identity verified *after*, and the signal sent through the
  pidfd (``signal.pidfd_send_signal``): the pidfd names the process that had the pid when it
  was opened, so if that process is the recorded one at verification, a later exit and reuse
  of the pid cannot redirect the signal (the kernel answers ESRCH instead). Elsewhere (macOS,
  BSD, Windows, Linux without pidfds) the identity is verified and then psutil signals, which
  re-checks the start time: a window of microseconds between that check and ``kill(2)``
  remains, which no portable primitive closes.
- **Program position** (``program``): what a command line runs is its executable, or the
  script or module an interpreter runs, never just any word of it (``ssh host flask run``,
  ``echo flask run`` and ``sudo flask run`` do not run a ``flask``).

psutil is imported lazily: none of this is on the warm path.
"""

from __future__ import annotations

import errno
import os
import re
import signal as signals
from dataclasses import dataclass
from typing import Any, Optional, Sequence, Tuple

# Interpreter families: their options that take the next word as a value, and the options
# whose value is code or a module (the program itself). Facts: `python --help` (3.11),
# `node --help` (20.x), bash(1), ruby(1), perl(1).
_PYTHON = re.compile(r"(?:python(?:\d+(?:\.\d+)?)?[tw]?|pythonw|py|pypy\d*)")
_FAMILIES = {
    "python": ({"-W", "-X", "-Q", "--check-hash-based-pycs"}, {"-c": "code", "-m": "module"}),
    "node": ({"-r", "--require", "--import", "--loader", "--experimental-loader", "-C", "--conditions",
              "--title", "--env-file"}, {"-e": "code", "--eval": "code", "-p": "code", "--print": "code"}),
    "shell": ({"-o", "-O", "+O"}, {"-c": "code"}),
    "ruby": ({"-I", "-r", "-C", "-E"}, {"-e": "code"}),
    "perl": ({"-I", "-M", "-m"}, {"-e": "code", "-E": "code"}),
}
_NAMES = {"node": "node", "nodejs": "node", "bun": "node", "sh": "shell", "bash": "shell", "dash": "shell",
          "zsh": "shell", "ruby": "ruby", "perl": "perl"}


def basename(word: str) -> str:
    """A program's name without folders (either slash) and ``.exe``, lower case."""
    name = word.replace("\\", "/").rsplit("/", 1)[-1].lower()
    return name[:-4] if name.endswith(".exe") else name


def family(word: str) -> Optional[str]:
    """The interpreter family of a program word ("python", "node", "shell" …), or None."""
    name = basename(word)
    return "python" if _PYTHON.fullmatch(name) else _NAMES.get(name)


@dataclass(frozen=True)
class Program:
    """What a command line runs.

    interpreter: the interpreter word as given (``python3``, ``/venv/bin/python``), or None.
    kind: "exe" (no interpreter: the executable itself), "script" (a file the interpreter
        runs), "module" (``python -m``), "code" (``-c``/``-e``), "stdin" (nothing named).
    value: the executable, script path, module name or code, as given.
    args: the words after it (the program's own arguments).
    """

    interpreter: Optional[str]
    kind: str
    value: str
    args: Tuple[str, ...]


def program(words: Optional[Sequence[str]]) -> Optional[Program]:
    """The program a command line runs (its executable, or what its interpreter runs); None
    for an empty command line. ``("/venv/bin/python", "/venv/bin/flask", "run")`` (a script
    with a shebang, as the kernel rewrites it) → script ``/venv/bin/flask``, args ``("run",)``."""
    words = [str(w) for w in words or ()]
    while words and not words[-1]:
        words.pop()
    if len(words) == 1 and " " in words[0].strip():
        # A process title (Node's process.title, setproctitle) written over argv: /proc then
        # shows one word; split it at spaces, as psutil does for such processes.
        words = words[0].split()
    if not words:
        return None
    kind = family(words[0])
    if kind is None:
        return Program(None, "exe", words[0], tuple(words[1:]))
    valued, special = _FAMILIES[kind]
    i = 1
    while i < len(words):
        word = words[i]
        if word in special:
            value = words[i + 1] if i + 1 < len(words) else ""
            return Program(words[0], special[word], value, tuple(words[i + 2:]))
        attached = next((opt for opt in special if len(opt) == 2 and word.startswith(opt) and len(word) > 2
                         and not word.startswith("--")), None)
        if attached is not None:
            return Program(words[0], special[attached], word[2:], tuple(words[i + 1:]))
        if word in ("-", "--") or not word.startswith("-"):
            if word == "--":
                i += 1
                if i >= len(words):
                    break
                word = words[i]
            if word == "-":
                return Program(words[0], "stdin", "-", tuple(words[i + 1:]))
            return Program(words[0], "script", word, tuple(words[i + 1:]))
        i += 2 if word in valued else 1
    return Program(words[0], "stdin", "", ())


def resolve(path: str, cwd: Optional[str]) -> Optional[str]:
    """A path as the process that has `cwd` sees it, with links resolved; None when it is
    relative and the folder is unknown."""
    if not os.path.isabs(path):
        if cwd is None:
            return None
        path = os.path.join(cwd, path)
    return os.path.realpath(path)


@dataclass(frozen=True)
class Identity:
    """A process as `--kill` decided about it.

    pid; started: psutil ``create_time()``, seconds since the epoch (Linux: boot time plus
    ``/proc/PID/stat`` field 22, in clock ticks); uids: (real, effective, saved) from
    ``Process.uids()``, None where the OS has none (Windows); user: ``Process.username()``,
    None when not readable; cmdline: ``/proc/PID/cmdline`` (psutil); cwd: the working folder
    with links resolved, None when it cannot be read (another user's, without root).
    """

    pid: int
    started: float
    uids: Optional[Tuple[int, int, int]]
    user: Optional[str]
    cmdline: Tuple[str, ...]
    cwd: Optional[str]


def capture(pid: int) -> Optional[Identity]:
    """The identity of the process with this pid now; None when it has exited or its start
    time, owner or command line cannot be read (then it is not ours to signal)."""
    import psutil

    try:
        proc = psutil.Process(pid)
        with proc.oneshot():
            started = proc.create_time()
            uids = tuple(proc.uids())[:3] if hasattr(proc, "uids") else None
            cmdline = tuple(proc.cmdline())
            user = _field(proc, "username")
            cwd = _field(proc, "cwd")
    except (psutil.Error, OSError):
        return None
    ids = (int(uids[0]), int(uids[1]), int(uids[2])) if uids is not None and len(uids) == 3 else None
    return Identity(pid, started, ids, user, cmdline, os.path.realpath(cwd) if cwd else None)


def _field(proc: Any, name: str) -> Optional[str]:
    """proc.NAME(), or None when the OS refuses it (another user's cwd) or it is empty."""
    import psutil

    try:
        value = getattr(proc, name)()
    except (psutil.AccessDenied, psutil.ZombieProcess, OSError):
        return None
    return str(value) if value else None


def folder(pid: Optional[int]) -> Optional[str]:
    """The working folder of a process, links resolved (``/proc/PID/cwd`` via psutil); None
    when there is no pid, it has exited or the OS does not let us read it."""
    if pid is None:
        return None
    import psutil

    try:
        cwd = psutil.Process(pid).cwd()
    except (psutil.Error, OSError):
        return None
    return os.path.realpath(cwd) if cwd else None


def not_mine(identity: Identity) -> Optional[str]:
    """Why the process does not run as the current user (every one of its real, effective
    and saved uids must be ours; on Windows its user name), or None when it does."""
    if hasattr(os, "geteuid"):
        me = os.geteuid()
        if identity.uids is None:
            return "its owner could not be determined"
        if any(uid != me for uid in identity.uids):
            real, effective, saved = identity.uids
            return f"its process runs as another user (real uid {real}, effective uid {effective}, saved uid {saved})"
        return None
    import psutil

    me_user = _field(psutil.Process(), "username")
    if identity.user is None or me_user is None or identity.user.lower() != me_user.lower():
        return f"its process runs as another user ({identity.user or 'unknown'})"
    return None


def mismatch(recorded: Identity) -> Optional[str]:
    """Why the process with recorded.pid is not (or no longer) the recorded one, or None when
    it still is: same start time, uids and command line, read again now."""
    now = capture(recorded.pid)
    if now is None:
        return "it has exited"
    if now.started != recorded.started:
        return "its pid now belongs to another process (started later)"
    if now.uids != recorded.uids:
        return "its owner changed since it was checked"
    if now.cmdline != recorded.cmdline:
        return "its command line changed since it was checked"
    return None


def pidfd_available() -> bool:
    """Whether this system can signal through a pidfd (Linux 5.3+, Python 3.9+)."""
    return hasattr(os, "pidfd_open") and hasattr(signals, "pidfd_send_signal")


def send(recorded: Identity, sig: int, use_pidfd: Optional[bool] = None) -> Tuple[str, Optional[int]]:
    """Signal the recorded process, verified first; never another process.

    Returns (outcome, pidfd): outcome "sent", or why nothing was sent ("it has exited", "its
    pid now belongs to another process …"); pidfd: an open pidfd the caller must close (to wait
    on), or None on the portable path. use_pidfd: None = where available; False forces the
    portable path (psutil), for tests on Linux. Raises PermissionError when the OS refuses
    the signal."""
    if use_pidfd is None:
        use_pidfd = pidfd_available()
    if use_pidfd:
        try:
            fd = os.pidfd_open(recorded.pid)  # first: from now on fd names this process
        except ProcessLookupError:
            return "it has exited", None
        except OSError as exc:  # ENOSYS: a kernel older than 5.3; take the portable path
            if exc.errno != errno.ENOSYS:
                raise
            return _send_portable(recorded, sig), None
        try:
            reason = mismatch(recorded)  # then: is it the recorded one?
            if reason is None:
                signals.pidfd_send_signal(fd, sig)  # type: ignore[attr-defined, unused-ignore]
                return "sent", fd
        except ProcessLookupError:
            reason = "it has exited"
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)
        return reason, None
    return _send_portable(recorded, sig), None


def _send_portable(recorded: Identity, sig: int) -> str:
    """Verify, then psutil's send_signal (which re-checks the start time itself)."""
    import psutil

    reason = mismatch(recorded)
    if reason is not None:
        return reason
    try:
        psutil.Process(recorded.pid).send_signal(sig)
    except psutil.NoSuchProcess:
        return "it has exited"
    except psutil.AccessDenied as exc:
        raise PermissionError(str(exc)) from None
    return "sent"


def wait_gone(recorded: Identity, pidfd: Optional[int], timeout: float) -> bool:
    """Wait up to timeout seconds for the process to end. A pidfd becomes readable when its
    process has exited (a zombie counts: it holds no sockets, and reaping it is its parent's
    business); without one, poll psutil for the recorded identity."""
    import time

    if pidfd is not None:
        import select

        poller = select.poll()
        poller.register(pidfd, select.POLLIN)
        return bool(poller.poll(max(0, int(timeout * 1000))))
    import psutil

    deadline = time.monotonic() + timeout
    while True:
        try:
            proc = psutil.Process(recorded.pid)
            if proc.create_time() != recorded.started or proc.status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
