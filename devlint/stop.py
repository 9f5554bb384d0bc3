"""`--kill`: stop a stale dev server in the way, and nothing else.

A holder may be stopped only when all of these hold: its pid is visible; its socket's uid
*and* its process's real, effective and saved uids are the current user's (a daemon that
bound as root and dropped to ``nobody`` keeps a root-owned socket: it is another user's);
it is not a known culprit (AirPlay and other system services are explained, never killed:
matched by name on every platform, so a renamed process cannot slip through on another
OS); it is not a system process, devlint itself or its parent; and it is recognised as a
dev server of this project: a previous instance of the same command in the same folder
(``same_command``), or a process a plugin explains as one of its framework's dev servers
of this service's project (`Explanation.stale`: the Flask plugin knows `flask run` and its
reloader child, the Angular plugin `ng serve`, the Firebase plugin firebase-tools' node and
java processes). devlint itself knows no framework.

Then: ask on a terminal (or require --yes), SIGTERM, SIGKILL after a grace period, and
report what was done. The decision is bound to the process's identity (pid, start time,
uids, command line: ``devlint.process.Identity``), captured when deciding and verified again
right before each signal. On Linux the signal goes through a pidfd opened before that
verification, so a pid reused after it cannot be hit; elsewhere psutil signals right after
the verification (see devlint/process.py for what each platform guarantees).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Optional, Sequence, Set, TextIO

from devlint import culprits
from devlint.model import Explanation, Listener
from devlint.warm import isatty, visible

if TYPE_CHECKING:
    from devlint.checks import Explain, Judged
    from devlint.process import Identity, Program

GRACE_SECONDS = 5.0
# Executables in these folders belong to the operating system, whatever they listen on.
SYSTEM_DIRS = ("/sbin/", "/usr/sbin/", "/usr/libexec/", "/System/", "/lib/systemd/", "/usr/lib/systemd/")


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str


def same_command(holder: Optional[Identity], argv: Sequence[str], cwd: str) -> bool:
    """True when the holder is a previous run of argv in the same folder.

    holder: the listening process (its command line and working folder, `process.capture`);
    argv: the command `devlint run` is asked to start, in folder cwd.

    Same folder (both resolved), and the same program (`process.program`): interpreters
    compared by name when both have one; scripts an interpreter runs always by resolved
    path (a relative one against its own process's folder); executables by resolved path
    when both name a path, by name when either gives a bare name (looked up on PATH: the
    other terminal's PATH, a venv activated or not, is not ours to know, and the folder
    already ties the command to the project). A script with a shebang appears in the holder
    as ``/venv/bin/python /venv/bin/flask run`` and matches ``flask run``. Modules and code
    (``-m``, ``-c``) compare as text, and so do the remaining arguments.
    """
    from devlint.process import program

    if holder is None or holder.cwd is None or not argv:
        return False
    if os.path.realpath(cwd) != holder.cwd:
        return False
    theirs, ours = program(holder.cmdline), program(argv)
    if theirs is None or ours is None or theirs.args != tuple(ours.args):
        return False
    if theirs.interpreter and ours.interpreter and not _same_word(theirs.interpreter, holder.cwd,
                                                                  ours.interpreter, cwd):
        return False
    return _same_program(theirs, holder.cwd, ours, cwd)


def _same_word(a: str, a_cwd: str, b: str, b_cwd: str, a_path: bool = False, b_path: bool = False) -> bool:
    """Two program words: by resolved path when both are paths (a_path/b_path: known to be
    one, as a script an interpreter runs always is), else by name."""
    from devlint.process import basename, resolve

    if (a_path or _is_path(a)) and (b_path or _is_path(b)):
        return resolve(a, a_cwd) == resolve(b, b_cwd)
    return basename(a) == basename(b)


def _same_program(theirs: Program, their_cwd: str, ours: Program, our_cwd: str) -> bool:
    """The program part of `same_command` (see there)."""
    files = ("exe", "script")
    if theirs.kind not in files or ours.kind not in files:
        return theirs.kind == ours.kind and theirs.value == ours.value
    return _same_word(theirs.value, their_cwd, ours.value, our_cwd,
                      theirs.kind == "script", ours.kind == "script")


def _is_path(word: str) -> bool:
    return "/" in word or "\\" in word


def is_system(listener: Listener) -> bool:
    """pid 0/1, or an executable in the OS's own folders."""
    if listener.pid in (0, 1):
        return True
    program = (listener.cmdline or ("",))[0]
    return program.startswith(SYSTEM_DIRS) or program.lower().startswith("c:\\windows\\")


def decide(listener: Listener, holder: Optional[Identity], explanation: Optional[Explanation], platform: str,
           argv: Sequence[str] = (), cwd: Optional[str] = None) -> Decision:
    """May --kill stop this holder? The reason is shown to the user either way.

    holder: the listening process as captured now (`process.capture(listener.pid)`), None
    when it could not be read; cwd: the folder `devlint run` starts argv in (default: ours).
    """
    from devlint.process import not_mine

    if listener.pid is None:
        return Decision(False, "it belongs to another user (its pid is not visible)")
    if culprits.is_known_name(listener.process) or culprits.is_culprit(listener, platform):
        return Decision(False, "it is a known system service, not a dev server")
    if listener.state != "listen":  # a client's connection (a browser, a database driver), a bound socket
        return Decision(False, "its socket is not a listening server (a connection or a bound socket)")
    if listener.uid is None and hasattr(os, "geteuid"):
        return Decision(False, "its owner could not be determined")
    if listener.uid is not None and hasattr(os, "geteuid") and listener.uid != os.geteuid():
        who = f"user {listener.user} (uid {listener.uid})" if listener.user else f"uid {listener.uid}"
        return Decision(False, f"it belongs to another user, {who}")
    if holder is None or holder.pid != listener.pid:
        return Decision(False, "its process could not be read (it may have exited)")
    foreign = not_mine(holder)
    if foreign is not None:
        return Decision(False, foreign)
    if is_system(listener) or is_system(replace(listener, cmdline=holder.cmdline)):
        return Decision(False, "it is a system process")
    if listener.pid in (os.getpid(), os.getppid()):
        return Decision(False, "it is devlint itself or the process that started it")
    if same_command(holder, argv, cwd or os.getcwd()):
        return Decision(True, "a previous instance of `" + " ".join(argv) + "` in this folder")
    if explanation is not None and explanation.stale:
        return Decision(True, explanation.title)
    if explanation is not None:
        return Decision(False, f"it is a {explanation.title}, but not one of this project "
                               "(only stale dev servers of this project are stopped)")
    return Decision(False, "it is not recognised as a dev server of this project "
                           "(only stale dev servers are stopped)")


def stop(holder: Identity, name: Optional[str] = None, grace: float = GRACE_SECONDS,
         use_pidfd: Optional[bool] = None) -> str:
    """SIGTERM, then SIGKILL after `grace` seconds, each only to the process `holder`
    recorded (`process.send`: pidfd on Linux, verified psutil elsewhere; use_pidfd=False
    forces the latter). name: the process name to show (default: its program's). Returns
    what happened, for the report."""
    import signal

    from devlint.process import send, wait_gone

    who = f"pid {holder.pid} ({name or _name(holder)})"
    try:
        outcome, fd = send(holder, signal.SIGTERM, use_pidfd)
    except PermissionError:
        return f"not allowed to signal {who}; left alone"
    if outcome != "sent":
        return f"{who} was left alone: {outcome}"
    try:
        if wait_gone(holder, fd, grace):
            return f"stopped {who} with SIGTERM"
        if fd is not None:
            try:
                signal.pidfd_send_signal(fd, signal.SIGKILL)  # type: ignore[attr-defined, unused-ignore]
            except ProcessLookupError:
                return f"stopped {who} with SIGTERM"
        else:
            # Windows has no SIGKILL: psutil's send_signal(SIGTERM) is TerminateProcess there.
            outcome, _ = send(holder, getattr(signal, "SIGKILL", signal.SIGTERM), use_pidfd=False)
            if outcome != "sent":
                return f"stopped {who} with SIGTERM"
        wait_gone(holder, fd, grace)
        return f"{who} ignored SIGTERM for {grace:g} s; stopped it with SIGKILL"
    finally:
        if fd is not None:
            os.close(fd)


def _name(holder: Identity) -> str:
    from devlint.process import basename

    return basename(holder.cmdline[0]) if holder.cmdline else "?"


def confirm(question: str, assume_yes: bool, stdin: Optional[TextIO] = None,
            stderr: Optional[TextIO] = None) -> bool:
    """--yes, or an explicit yes typed on a terminal. Never yes without one of them.
    The question goes to stderr: stdout may be piped, and belongs to the command."""
    stdin = stdin or sys.stdin
    stderr = stderr or sys.stderr
    if assume_yes:
        return True
    if not isatty(stdin):
        print(f"devlint: --kill: {question} Not asked: no terminal; pass --yes to allow it.", file=stderr)
        return False
    print(f"devlint: {question} [y/N] ", end="", file=stderr, flush=True)
    answer = stdin.readline()
    return answer.strip().lower() in ("y", "yes")


def offer(judged: Sequence[Judged], platform: str, argv: Sequence[str], explain: Explain,
          assume_yes: bool) -> bool:
    """--kill over the verdicts that are not clear: each holder once (per process), stopped
    when `decide` allows it and the user agrees (`confirm`); why any other is left alone is
    said on stderr. True when something was stopped: the caller checks again."""
    from devlint.process import capture

    stopped = False
    seen: Set[object] = set()
    for service, endpoint, verdict in judged:
        for listener in verdict.listeners:
            key = listener.pid if listener.pid is not None else (listener.uid, listener.address, listener.port)
            if key in seen:
                continue
            seen.add(key)
            holder = capture(listener.pid) if listener.pid is not None else None
            explanation = explain(listener, service, endpoint, platform)
            decision = decide(listener, holder, explanation, platform, argv)
            who = visible(listener.owner())  # a process names itself: no terminal escapes
            if not decision.allowed or holder is None:  # (decide refuses holder None; for the type checker)
                print(f"devlint: --kill: leaving {who} on port {listener.port} alone: {decision.reason}",
                      file=sys.stderr)
            elif confirm(f"Stop {who} on port {listener.port}, {decision.reason}?", assume_yes):
                print(f"devlint: --kill: {visible(stop(holder, listener.process))}", file=sys.stderr)
                stopped = True
            else:
                print(f"devlint: --kill: left {who} running", file=sys.stderr)
    return stopped
