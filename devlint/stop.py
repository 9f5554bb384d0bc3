"""`--kill`: stop a stale dev server in the way, and nothing else.

A holder may be stopped only when all of these hold: its pid is visible and its owner is
the current user; it is not a known culprit (AirPlay and other system services are
explained, never killed: matched by name on every platform, so a renamed process cannot
slip through on another OS); it is not a system process, devlint itself or its parent;
and it is recognised as a dev server: a previous instance of the same command, or a
process a plugin explains as one of its framework's dev servers (`Explanation.stale`: the
Flask plugin knows `flask run` and its reloader child, the Angular plugin `ng serve`, the
Firebase plugin firebase-tools' node and java processes). devlint itself knows no framework.

Then: ask on a terminal (or require --yes), SIGTERM, SIGKILL after a grace period, and
report what was done. The pid is checked again (same command line) right before the
signal, so a recycled pid is never hit.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Optional, Sequence, Set, TextIO, Tuple

from devlint import culprits
from devlint.model import Explanation, Listener
from devlint.warm import isatty

if TYPE_CHECKING:
    from devlint.checks import Explain, Judged

GRACE_SECONDS = 5.0
# Executables in these folders belong to the operating system, whatever they listen on.
SYSTEM_DIRS = ("/sbin/", "/usr/sbin/", "/usr/libexec/", "/System/", "/lib/systemd/", "/usr/lib/systemd/")


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str


def same_command(cmdline: Optional[Sequence[str]], argv: Sequence[str]) -> bool:
    """True when cmdline looks like a previous run of argv (`flask run` and
    `/venv/bin/python /venv/bin/flask run` match; interpreters in front are ignored)."""
    if not cmdline or not argv:
        return False
    words = [os.path.basename(w) for w in cmdline]
    wanted = [os.path.basename(argv[0]), *argv[1:]]
    return any(words[start:start + len(wanted)] == wanted for start in range(len(words)))


def is_system(listener: Listener) -> bool:
    """pid 0/1, or an executable in the OS's own folders."""
    if listener.pid in (0, 1):
        return True
    program = (listener.cmdline or ("",))[0]
    return program.startswith(SYSTEM_DIRS) or program.lower().startswith("c:\\windows\\")


def decide(listener: Listener, explanation: Optional[Explanation], platform: str,
           argv: Sequence[str] = ()) -> Decision:
    """May --kill stop this holder? The reason is shown to the user either way."""
    if listener.pid is None:
        return Decision(False, "it belongs to another user (its pid is not visible)")
    if culprits.is_known_name(listener.process) or culprits.is_culprit(listener, platform):
        return Decision(False, "it is a known system service, not a dev server")
    if listener.uid is None and hasattr(os, "geteuid"):
        return Decision(False, "its owner could not be determined")
    if listener.uid is not None and hasattr(os, "geteuid") and listener.uid != os.geteuid():
        who = f"user {listener.user} (uid {listener.uid})" if listener.user else f"uid {listener.uid}"
        return Decision(False, f"it belongs to another user, {who}")
    if is_system(listener):
        return Decision(False, "it is a system process")
    if listener.pid in (os.getpid(), os.getppid()):
        return Decision(False, "it is devlint itself or the process that started it")
    if same_command(listener.cmdline, argv):
        return Decision(True, "a previous instance of `" + " ".join(argv) + "`")
    if explanation is not None and explanation.stale:
        return Decision(True, explanation.title)
    return Decision(False, "it is not recognised as a dev server (only stale dev servers are stopped)")


def stop(listener: Listener, grace: float = GRACE_SECONDS) -> str:
    """SIGTERM, then SIGKILL after `grace` seconds. Returns what happened, for the report."""
    import psutil

    assert listener.pid is not None
    who = f"pid {listener.pid} ({listener.process})"
    try:
        process = psutil.Process(listener.pid)
        if listener.cmdline and tuple(process.cmdline()) != tuple(listener.cmdline):
            return f"pid {listener.pid} is now another program; left alone"
        process.terminate()
        if _ended(process, grace):
            return f"stopped {who} with SIGTERM"
        process.kill()
        _ended(process, grace)
        return f"{who} ignored SIGTERM for {grace:g} s; stopped it with SIGKILL"
    except psutil.NoSuchProcess:
        return f"{who} had already exited"
    except psutil.AccessDenied:
        return f"not allowed to signal {who}; left alone"


def _ended(process: Any, timeout: float) -> bool:
    """Wait until the process is gone. A zombie counts as gone: it holds no sockets, and
    reaping it is its parent's business (devlint is rarely that parent)."""
    import time

    import psutil

    deadline = time.monotonic() + timeout
    while True:
        try:
            if process.status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)


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
    stopped = False
    seen: Set[Tuple[Optional[int], Optional[int], str, int]] = set()
    for service, endpoint, verdict in judged:
        for listener in verdict.listeners:
            key = (listener.pid, listener.uid, listener.address, listener.port)
            if key in seen or (listener.pid is not None and any(k[0] == listener.pid for k in seen)):
                continue
            seen.add(key)
            decision = decide(listener, explain(listener, service, endpoint, platform), platform, argv)
            who = listener.owner()
            if not decision.allowed:
                print(f"devlint: --kill: leaving {who} on port {listener.port} alone: {decision.reason}",
                      file=sys.stderr)
            elif confirm(f"Stop {who} on port {listener.port}, {decision.reason}?", assume_yes):
                print(f"devlint: --kill: {stop(listener)}", file=sys.stderr)
                stopped = True
            else:
                print(f"devlint: --kill: left {who} running", file=sys.stderr)
    return stopped
