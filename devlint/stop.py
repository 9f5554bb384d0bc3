"""`--kill`: stop a stale dev server in the way, and nothing else.

A holder may be stopped only when all of these hold: its owner is visible and is the
current user; it is not a known culprit (AirPlay and other system services are explained,
never killed); it is not devlint itself or its parent; and it is recognised as a dev
server: a previous instance of the same command, or a process a plugin recognises as a
stale dev server of this stack (flask/werkzeug, ng serve, firebase-tools' node or java).
Then: ask on a terminal (or require --yes), SIGTERM, SIGKILL after a grace period, and
report what was done. Processes are addressed by pid and checked again (same start
time and command line) right before each signal, so a recycled pid is never hit.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import Callable, Optional, Sequence, TextIO

from devlint import culprits
from devlint.model import Explanation, Listener

GRACE_SECONDS = 5.0


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
    for start in range(len(words)):
        if words[start: start + len(wanted)] == wanted:
            return True
    return False


def decide(listener: Listener, explanation: Optional[Explanation], platform: str,
           argv: Sequence[str] = ()) -> Decision:
    if listener.pid is None:
        return Decision(False, "its owner is another user (pid not visible)")
    if culprits.is_culprit(listener, platform):
        return Decision(False, "it is a system service, not a dev server")
    if listener.uid is not None and hasattr(os, "geteuid") and listener.uid != os.geteuid():
        return Decision(False, f"it belongs to another user (uid {listener.uid})")
    if listener.pid in (0, 1, os.getpid(), os.getppid()):
        return Decision(False, "it is a system process or devlint's own")
    if explanation is not None and explanation.stale:
        return Decision(True, explanation.title)
    if same_command(listener.cmdline, argv):
        return Decision(True, "a previous instance of the same command")
    return Decision(False, "it is not recognised as a dev server of this stack")


def stop(listener: Listener, grace: float = GRACE_SECONDS) -> str:
    """SIGTERM, then SIGKILL after `grace` seconds. Returns what happened, for the report."""
    import psutil

    assert listener.pid is not None
    try:
        process = psutil.Process(listener.pid)
        if listener.cmdline and tuple(process.cmdline()) != tuple(listener.cmdline):
            return f"pid {listener.pid} is now another program; left alone"
        process.terminate()
        _, alive = psutil.wait_procs([process], timeout=grace)
        if not alive:
            return f"stopped pid {listener.pid} ({listener.process}) with SIGTERM"
        process.kill()
        psutil.wait_procs([process], timeout=grace)
        return f"pid {listener.pid} ({listener.process}) ignored SIGTERM for {grace:g} s; sent SIGKILL"
    except psutil.NoSuchProcess:
        return f"pid {listener.pid} had already exited"
    except psutil.AccessDenied:
        return f"not allowed to signal pid {listener.pid}"


def confirm(question: str, assume_yes: bool, stdin: TextIO = sys.stdin, stderr: TextIO = sys.stderr,
            ask: Callable[[str], str] = input) -> bool:
    """--yes, or an explicit yes on a terminal. Never yes without one of them."""
    if assume_yes:
        return True
    if not stdin.isatty():
        print(f"devlint: {question} — not asked (no terminal); pass --yes to allow it", file=stderr)
        return False
    try:
        return ask(f"{question} [y/N] ").strip().lower() in ("y", "yes")
    except EOFError:
        return False
