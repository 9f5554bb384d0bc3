"""`devlint run --wait SECONDS`: wait for a held port to be released, then exec; give up
with exit 1; Ctrl-C ends the wait with 130. Real listeners on loopback, started here."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path
from typing import IO, Iterator, List, Optional, Tuple

import pytest

from tests.listeners import child_listener, free_port
from tests.runner import devlint_env

COMMAND = [sys.executable, "-c", "import os; print('started as pid', os.getpid(), flush=True)"]





@pytest.fixture
def project(tmp_path: Path) -> Iterator[Tuple[Path, int]]:
    port = free_port()
    (tmp_path / "devlint.toml").write_text(f'[services.api]\nport = {port}\nhost = "127.0.0.1"\n')
    yield tmp_path, port


def start_devlint(cwd: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "devlint", "run", *args, "--", *COMMAND], cwd=cwd,
                            env=devlint_env(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def read_until(stream: IO[str], text: str, proc: subprocess.Popen[str]) -> List[str]:
    """Lines of stream up to and including the first one containing text."""
    lines: List[str] = []
    timer = threading.Timer(60, proc.kill)  # never hang the suite
    timer.start()
    try:
        for line in stream:
            lines.append(line)
            if text in line:
                return lines
    finally:
        timer.cancel()
    pytest.fail(f"devlint never printed {text!r}: {''.join(lines)}")


def finish(proc: subprocess.Popen[str]) -> Tuple[int, str, str]:
    try:
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, out, err


def test_released_port_then_exec(project: Tuple[Path, int]) -> None:
    cwd, port = project
    with child_listener("127.0.0.1", port) as holder:
        proc = start_devlint(cwd, "--wait", "30")
        assert proc.stderr is not None
        seen = read_until(proc.stderr, "waiting for", proc)
        assert f"devlint: waiting for port {port} (pid {holder.pid} python" in seen[-1]
        assert "(up to 30 s)" in seen[-1]
    # the holder is gone now: devlint notices and execs the command in its own process
    code, out, err = finish(proc)
    assert code == 0, err
    assert f"started as pid {proc.pid}" in out
    assert "ports released" in err
    assert "not starting" not in err


def test_never_released_gives_up(project: Tuple[Path, int]) -> None:
    cwd, port = project
    with child_listener("127.0.0.1", port) as holder:
        proc = start_devlint(cwd, "--wait", "1")
        code, out, err = finish(proc)
        assert holder.poll() is None
    assert code == 1
    assert "started" not in out
    assert "devlint: still in use after waiting 1 s" in err
    assert f"DL101 api: port {port} is already in use by pid {holder.pid}" in err
    assert "devlint: not starting" in err


def test_ctrl_c_while_waiting(project: Tuple[Path, int]) -> None:
    cwd, port = project
    with child_listener("127.0.0.1", port):
        proc = start_devlint(cwd, "--wait", "60")
        assert proc.stderr is not None
        read_until(proc.stderr, "waiting for", proc)
        proc.send_signal(signal.SIGINT)
        code, out, err = finish(proc)
    assert code == 130
    assert "devlint: interrupted" in err
    assert "Traceback" not in err
    assert "started" not in out


def _read_pty(leader: int, until: Optional[bytes], proc: subprocess.Popen[bytes]) -> bytes:
    """Output on the terminal until `until` appears (None: until the process ends and all is read)."""
    seen = b""
    deadline = time.monotonic() + 60
    while (until is None or until not in seen) and time.monotonic() < deadline:
        if select.select([leader], [], [], 0.5)[0]:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # EIO: the terminal's other end is closed, everything is read
                break
            if not chunk:
                break
            seen += chunk
        elif proc.poll() is not None:
            break
    return seen


def test_live_status_line_on_a_terminal(project: Tuple[Path, int]) -> None:
    cwd, port = project
    leader, follower = pty.openpty()
    # A wide terminal: the status line is cut to the terminal's width, and the holder's pid
    # and command line make its length vary from run to run.
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 200, 0, 0))
    proc: Optional[subprocess.Popen[bytes]] = None
    try:
        with child_listener("127.0.0.1", port):
            proc = subprocess.Popen([sys.executable, "-m", "devlint", "run", "--wait", "30", "--", *COMMAND],
                                    cwd=cwd, env=devlint_env(), stdin=subprocess.DEVNULL, stdout=follower,
                                    stderr=follower)
            os.close(follower)
            follower = -1
            seen = _read_pty(leader, b"s left", proc)
            assert b"\rdevlint: waiting for port" in seen and b"s left" in seen
        # Read to the end: a read that stops at "started as pid" may miss the pid after it.
        seen += _read_pty(leader, None, proc)
        assert proc.wait(60) == 0
    finally:
        if follower >= 0:
            os.close(follower)
        os.close(leader)
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
    text = seen.decode()
    status = text[text.index("devlint: waiting"):text.index("devlint: ports released")]
    assert "\n" not in status.replace("\r\n", "\n").rstrip("\n")  # one line, rewritten in place
    assert f"started as pid {proc.pid}" in text
