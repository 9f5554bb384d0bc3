"""`--kill` binds its decision to the process's identity and checks it again right before each
signal (devlint/process.py), so it never signals a process it did not decide about.

Real processes only, all started here and ended by pid. Forcing the kernel to hand a given
pid to a new process is not possible from a test, so pid reuse is stood in for by a record
whose pid now belongs to another real process, started later with the same command line:
what these tests prove is that the verification (start time, uids, command line) refuses
such a record, on the pidfd path and on the portable (psutil) path, and that a record of a
process that has exited is refused. That a pidfd opened before the verification keeps naming
the verified process is the kernel's documented behaviour (pidfd_open(2)), not tested here.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path
from typing import Iterator, List, Tuple

import pytest

from devlint import stop
from devlint.process import Identity, capture, mismatch, not_mine, pidfd_available, program
from tests.listeners import other_user_python

# Says "ready", then waits for lines on stdin: "drop" switches to nobody (uid/gid 65534).
# With "stubborn" it ignores SIGTERM. Ends when stdin closes.
CHILD = textwrap.dedent(
    """
    import os, signal, sys
    if "stubborn" in sys.argv:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    print("ready", flush=True)
    for line in sys.stdin:
        if line.strip() == "drop":
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            print("dropped", flush=True)
    """
)

PATHS = [pytest.param(True, id="pidfd"), pytest.param(False, id="psutil")]


@contextlib.contextmanager
def child(*args: str) -> Iterator[subprocess.Popen[str]]:
    """A process of ours running CHILD; ended by its pid when the block ends."""
    proc = subprocess.Popen([sys.executable, "-c", CHILD, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)


def ended(proc: subprocess.Popen[str]) -> int:
    """Close its stdin (it exits) and reap it; its exit code."""
    assert proc.stdin is not None
    proc.stdin.close()
    return proc.wait(10)


def use(pidfd: bool) -> bool:
    if pidfd and not pidfd_available():
        pytest.skip("this system has no pidfd_open / pidfd_send_signal")
    return pidfd


def test_capture_reads_the_process_not_the_socket(tmp_path: Path) -> None:
    with child() as proc:
        found = capture(proc.pid)
        assert found is not None
        assert found.pid == proc.pid
        assert found.uids == (os.geteuid(),) * 3
        assert found.cmdline == (sys.executable, "-c", CHILD)
        assert found.cwd == os.path.realpath(os.getcwd())
        assert mismatch(found) is None


@pytest.mark.parametrize("pidfd", PATHS)
def test_a_process_that_stands_in_for_a_reused_pid_is_not_signalled(pidfd: bool) -> None:
    """The decision was about X; X exits; Y (same command line, started later) is at the pid
    the record names. Neither SIGTERM nor SIGKILL reaches Y."""
    with child() as first:
        decided = capture(first.pid)
        assert decided is not None
        ended(first)
    with child() as second:
        reused = replace(decided, pid=second.pid)  # what a record would say if the pid came back
        now = capture(second.pid)
        assert now is not None and now.cmdline == reused.cmdline and now.uids == reused.uids
        assert mismatch(reused) == "its pid now belongs to another process (started later)"
        outcome = stop.stop(reused, grace=0.5, use_pidfd=use(pidfd))
        assert outcome == f"pid {second.pid} (python) was left alone: its pid now belongs to another " \
                          "process (started later)"
        assert second.poll() is None


@pytest.mark.parametrize("pidfd", PATHS)
def test_a_process_that_has_exited_is_not_signalled(pidfd: bool) -> None:
    with child() as first:
        decided = capture(first.pid)
        assert decided is not None
        ended(first)
    assert stop.stop(decided, grace=0.5, use_pidfd=use(pidfd)) == \
        f"pid {first.pid} (python) was left alone: it has exited"


@pytest.mark.parametrize("pidfd", PATHS)
def test_a_process_that_dropped_privileges_after_the_decision_is_not_signalled(pidfd: bool) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to start a process that switches to nobody")
    with child() as proc:
        decided = capture(proc.pid)
        assert decided is not None and decided.uids == (0, 0, 0)
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write("drop\n")
        proc.stdin.flush()
        assert proc.stdout.readline().strip() == "dropped"
        outcome = stop.stop(decided, grace=0.5, use_pidfd=use(pidfd))
        assert outcome == f"pid {proc.pid} (python) was left alone: its owner changed since it was checked"
        assert proc.poll() is None


@pytest.mark.parametrize("pidfd", PATHS)
def test_the_decided_process_is_stopped(pidfd: bool) -> None:
    with child() as proc:
        decided = capture(proc.pid)
        assert decided is not None
        assert stop.stop(decided, "flask", grace=10, use_pidfd=use(pidfd)) == \
            f"stopped pid {proc.pid} (flask) with SIGTERM"
        assert proc.wait(10) == -15


@pytest.mark.parametrize("pidfd", PATHS)
def test_sigkill_after_the_grace_period(pidfd: bool) -> None:
    with child("stubborn") as proc:
        decided = capture(proc.pid)
        assert decided is not None
        assert stop.stop(decided, grace=0.3, use_pidfd=use(pidfd)) == \
            f"pid {proc.pid} (python) ignored SIGTERM for 0.3 s; stopped it with SIGKILL"
        assert proc.wait(10) == -9


def test_another_users_process_is_not_mine() -> None:
    prefix = other_user_python()
    if prefix is None:
        pytest.skip("needs root, setpriv and /usr/bin/python3 to run a process as another user")
    proc = subprocess.Popen([*prefix, "-c", CHILD], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        found = capture(proc.pid)
        assert found is not None and found.uids is not None and set(found.uids) == {65534}
        assert not_mine(found) == "its process runs as another user (real uid 65534, effective uid 65534, " \
                                  "saved uid 65534)"
    finally:
        proc.kill()
        proc.wait(10)


# -- "a previous instance of the same command" -------------------------------------------------

def running(cmdline: List[str], cwd: Path, started: float = 1.0) -> Identity:
    """A record of a process (data: same_command compares records and paths)."""
    me = os.geteuid()
    return Identity(4242, started, (me, me, me), "me", tuple(cmdline), os.path.realpath(cwd))


def test_same_command_compares_folders_and_resolved_scripts(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    for folder in (a, b, a / "bin"):
        folder.mkdir(exist_ok=True)
    (a / "app.py").write_text("")
    (b / "app.py").write_text("")
    (a / "link.py").symlink_to(a / "app.py")
    same = stop.same_command
    assert same(running(["python3", "app.py"], a), ["python3", "app.py"], str(a))
    assert same(running(["python3", "app.py"], a), ["python3", str(a / "app.py")], str(a))
    assert same(running(["python3", "link.py"], a), ["python3", "app.py"], str(a))  # the same file
    assert not same(running(["python3", "app.py"], b), ["python3", "app.py"], str(a))  # another project
    assert not same(running(["python3", str(b / "app.py")], a), ["python3", "app.py"], str(a))
    assert not same(running(["python3", "app.py", "--port", "1"], a), ["python3", "app.py"], str(a))
    assert not same(running(["python2", "app.py"], a), ["python3", "app.py"], str(a))
    assert not same(replace(running(["python3", "app.py"], a), cwd=None), ["python3", "app.py"], str(a))
    # a script with a shebang, as the kernel shows it, is the command typed by name
    flask = str(a / "bin" / "flask")
    assert same(running(["/venv/bin/python", flask, "run"], a), ["flask", "run"], str(a))
    assert same(running(["/venv/bin/python", flask, "run"], a), [flask, "run"], str(a))
    assert not same(running(["/venv/bin/python", flask, "run"], a), [str(b / "flask"), "run"], str(a))
    assert not same(running(["/venv/bin/python", flask, "run"], b), ["flask", "run"], str(a))
    assert same(running(["python3", "-m", "flask", "run"], a), ["python3", "-m", "flask", "run"], str(a))
    assert not same(running(["python3", "-m", "flask", "run"], a), ["python3", "-m", "flaskx", "run"], str(a))
    # words that merely mention the command
    assert not same(running(["ssh", "devbox", "python3", "app.py"], a), ["python3", "app.py"], str(a))
    assert not same(running(["python3", "-c", "x", "python3", "app.py"], a), ["python3", "app.py"], str(a))


@pytest.mark.parametrize("cmdline, kind, value, args", [
    (["/venv/bin/python", "/venv/bin/flask", "run"], "script", "/venv/bin/flask", ("run",)),
    (["python3", "-X", "dev", "-m", "flask", "run"], "module", "flask", ("run",)),
    (["python3", "-mflask", "run"], "module", "flask", ("run",)),
    (["python3", "-c", "code", "flask", "run"], "code", "code", ("flask", "run")),
    (["node", "-r", "ts-node/register", "server.ts", "--port", "1"], "script", "server.ts", ("--port", "1")),
    (["ng serve --port 4200"], "exe", "ng", ("serve", "--port", "4200")),
    (["sudo", "flask", "run"], "exe", "sudo", ("flask", "run")),
    (["bash", "-c", "flask run"], "code", "flask run", ()),
])
def test_the_program_position(cmdline: List[str], kind: str, value: str, args: Tuple[str, ...]) -> None:
    found = program(cmdline)
    assert found is not None and (found.kind, found.value, found.args) == (kind, value, args)
