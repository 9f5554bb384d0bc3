"""Races and faults: what happens when the world changes under devlint, or refuses it.

- a holder exits between the socket table read and the owner lookup;
- /proc entries devlint may not read (a process of `nobody`, seen by devlint run without
  capabilities: the tests run as root, who may read every /proc entry);
- during `--wait`, a holder hands the port to another process, or another port is taken
  (the race aspect only: `--wait` itself is tested with the other run options);
- a command that is not executable (126) or not found (127), compared with what bash says;
- SIGINT / SIGTERM while devlint is checking (held in its check loop by a real holder and
  `--wait`, not by a test-only hook): 130 / 143, no traceback;
- the plan cache on a read-only folder, a full disk (a file-size limit and a full tmpfs),
  and damaged cache files.

Processes started here are ours and are ended by pid. Signals go only to them.
"""

from __future__ import annotations

import contextlib
import os
import re
import resource
import select
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple

import pytest

from devlint.checks import findings_for, in_the_way
from devlint.model import Endpoint, Service
from devlint.report import text_findings
from devlint.sockets import linux, scan
from tests.listeners import child_listener, free_port, open_listener, other_user_python
from tests.runner import Arg, assert_clean_exit, base_env, devlint_argv, entry_points, unprivileged

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="Linux sockets, /proc and signals")
UNPRIVILEGED = unprivileged()
needs_unprivileged = pytest.mark.skipif(UNPRIVILEGED is None, reason="root without setpriv: cannot drop capabilities")


def project_with_ports(root: Path, *ports: int) -> Path:
    (root / ".git").mkdir(parents=True, exist_ok=True)
    listed = ", ".join(map(str, ports))
    (root / "devlint.toml").write_text(f'[services.api]\nhost = "127.0.0.1"\nports = [{listed}]\n')
    past = time.time() - 10  # not "just written": the plan cache takes it
    for path in (root / "devlint.toml", root / ".git", root):
        os.utime(path, (past, past))
    return root


# -- the holder goes away mid-scan -----------------------------------------------------------

def test_holder_exits_between_table_read_and_owner_lookup(monkeypatch: pytest.MonkeyPatch) -> None:
    """The kernel listed the socket, then its process exited before /proc was walked: the
    scan must not crash, and must not report a holder that is gone."""
    port = free_port()
    real = linux.find_owners
    with child_listener("127.0.0.1", port) as proc:
        def exit_first(*args: object, **kwargs: object) -> Dict[int, int]:
            proc.terminate()
            proc.wait(10)
            return real(*args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(linux, "find_owners", exit_first)
        snapshot = scan({port})
    assert proc.returncode is not None  # it really exited in between
    assert snapshot.on_port(port) == ()


def test_holder_exits_between_owner_lookup_and_process_details(monkeypatch: pytest.MonkeyPatch) -> None:
    """The pid was found, then the process exited before its name and command line were
    read: the listener keeps its pid, without a name, and checks and report still work."""
    port = free_port()
    real = linux.process_info
    with child_listener("127.0.0.1", port) as proc:
        def exit_first(*args: object, **kwargs: object) -> object:
            proc.terminate()
            proc.wait(10)
            return real(*args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(linux, "process_info", exit_first)
        snapshot = scan({port})
    (found,) = snapshot.on_port(port)
    assert (found.pid, found.process, found.cmdline) == (proc.pid, None, None)
    service = Service("api", endpoints=(Endpoint("http", port, "127.0.0.1"),))
    findings = findings_for(in_the_way([service], snapshot), snapshot.platform, [service], lambda *args: None)
    assert [f.code for f in findings] == ["DL101"]
    assert str(proc.pid) in text_findings(findings, lambda role, text: text, [service])


# -- /proc entries devlint may not read ----------------------------------------------------------

@needs_unprivileged
@pytest.mark.skipif(other_user_python() is None, reason="needs root and setpriv to start a holder as nobody")
def test_other_users_process_is_reported_by_uid_when_proc_is_unreadable(tmp_path: Path) -> None:
    """The holder runs as nobody; devlint runs without capabilities, so the kernel refuses
    it nobody's /proc/<pid>/fd (a ptrace access check). The owner is unknown: the listener
    is still reported, with its uid and the hint to use sudo."""
    assert UNPRIVILEGED is not None
    port = free_port()
    root = project_with_ports(tmp_path / "project", port)
    env = base_env(tmp_path)
    with child_listener("127.0.0.1", port, as_other_user=True) as proc:
        premise = subprocess.run([*UNPRIVILEGED, "ls", f"/proc/{proc.pid}/fd"], capture_output=True, timeout=30)
        assert premise.returncode != 0 and b"Permission denied" in premise.stderr  # really unreadable
        who = subprocess.run([*UNPRIVILEGED, *map(str, devlint_argv("who", str(port), "--format", "json"))],
                             cwd=root, env=env, capture_output=True, timeout=60)
        check = subprocess.run([*UNPRIVILEGED, *map(str, devlint_argv("check"))], cwd=root, env=env,
                               capture_output=True, timeout=60)
    assert_clean_exit(who, 0)
    import json

    (listener,) = json.loads(who.stdout)["ports"][str(port)]
    assert (listener["pid"], listener["uid"], listener["user"]) == (None, 65534, "nobody")
    assert_clean_exit(check, 1)
    out = check.stdout.decode()
    assert "DL101" in out and "nobody" in out and "sudo" in out, out
    assert str(proc.pid) not in out


# -- races during --wait --------------------------------------------------------------------------

class Lines:
    """stderr of a running devlint, line by line, each read with a deadline."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stderr is not None
        self.proc, self.fd, self.buffer = proc, proc.stderr.fileno(), b""
        self.seen: List[str] = []

    def until(self, pattern: str, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while True:
            while b"\n" in self.buffer:
                line, self.buffer = self.buffer.split(b"\n", 1)
                text = line.decode("utf-8", "replace")
                self.seen.append(text)
                if re.search(pattern, text):
                    return text
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self.fd], [], [], max(left, 0))
            if not ready:
                raise AssertionError(f"no line matching {pattern!r} in {timeout} s; saw {self.seen}")
            chunk = os.read(self.fd, 4096)
            if not chunk:
                raise AssertionError(f"devlint ended before {pattern!r}; saw {self.seen}")
            self.buffer += chunk


@contextlib.contextmanager
def devlint_running(args: List[Arg], cwd: Path, env: Dict[Arg, Arg]) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(args, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)


@pytest.mark.parametrize("where", ["same port, other family", "the service's other port"])
def test_wait_sees_a_holder_hand_over_to_another(tmp_path: Path, where: str) -> None:
    """A holds a port; while devlint waits, B takes the same port on ::1 (which shadows a
    127.0.0.1 service) or the service's other port; A exits. devlint must keep waiting for
    B — not start the command in the gap — and start it once B is gone too."""
    first, second = free_port(), free_port()
    root = project_with_ports(tmp_path / "project", first, second)
    args = devlint_argv("run", "--wait", "120", "--", "sh", "-c", "echo started")
    b_address, b_port = ("::1", first) if where.startswith("same") else ("127.0.0.1", second)
    with child_listener("127.0.0.1", first) as a, \
            devlint_running(args, root, base_env(tmp_path)) as proc:
        lines = Lines(proc)
        lines.until(rf"waiting for port .*\b{a.pid}\b")
        with child_listener(b_address, b_port) as b:
            a.terminate()
            a.wait(10)
            lines.until(rf"waiting for port (?!.*\b{a.pid}\b).*\b{b.pid}\b")
            assert proc.poll() is None  # B still holds: the command has not started
        assert proc.stdout is not None
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, [*lines.seen, err.decode()]
    assert out == b"started\n"


# -- commands that cannot run: 126 and 127, as bash says --------------------------------------------

def _bash_status(command: List[str], cwd: Path) -> int:
    result = subprocess.run(["bash", "-c", '"$@"', "bash", *command], cwd=cwd, capture_output=True, timeout=60)
    return result.returncode


def _launch_cases(root: Path) -> Dict[str, List[str]]:
    (root / "plain.sh").write_text("#!/bin/sh\nexit 0\n")
    (root / "plain.sh").chmod(0o644)
    (root / "folder").mkdir()
    (root / "binary").write_bytes(b"\x7fELF\x00\x01garbage\x00\n")
    (root / "binary").chmod(0o755)
    (root / "bad-interpreter").write_text("#!/no/such/interpreter\n")
    (root / "bad-interpreter").chmod(0o755)
    (root / "no-shebang").write_text("exit 5\n")
    (root / "no-shebang").chmod(0o755)
    return {
        "not found": ["devlint-no-such-command"], "missing path": ["./missing"], "empty": [""],
        "not executable": ["./plain.sh"], "directory": ["./folder"], "binary garbage": ["./binary"],
        "bad interpreter": ["./bad-interpreter"], "script without #!": ["./no-shebang"],
    }


EXPECTED_STATUS = {"not found": 127, "missing path": 127, "empty": 127, "not executable": 126,
                   "directory": 126, "binary garbage": 126, "bad interpreter": 127, "script without #!": 5}


@pytest.mark.parametrize("entry", list(entry_points()))
def test_command_not_executable_or_not_found_like_bash(tmp_path: Path, entry: str) -> None:
    root = tmp_path / "project"
    (root / ".git").mkdir(parents=True)
    env = base_env(tmp_path)
    for case, command in _launch_cases(root).items():
        result = subprocess.run(devlint_argv("run", "--", *command, entry=entry), cwd=root, env=env,
                                capture_output=True, timeout=60)
        err = assert_clean_exit(result, EXPECTED_STATUS[case])
        assert _bash_status(command, root) == EXPECTED_STATUS[case], case
        if EXPECTED_STATUS[case] in (126, 127):
            assert err.startswith(f"devlint: {command[0]}: "), (case, err)
            assert len(err.splitlines()) == 1, (case, err)


# -- signals while checking -----------------------------------------------------------------------

@pytest.mark.parametrize("entry", list(entry_points()))
@pytest.mark.parametrize(("sig", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["INT", "TERM"])
def test_signal_while_checking(tmp_path: Path, entry: str, sig: signal.Signals, status: int) -> None:
    """devlint is held in its check loop by a real holder and `--wait`, then signalled."""
    port = free_port()
    root = project_with_ports(tmp_path / "project", port)
    args = devlint_argv("run", "--wait", "120", "--", "sh", "-c", "echo started", entry=entry)
    with open_listener("127.0.0.1", port), devlint_running(args, root, base_env(tmp_path)) as proc:
        Lines(proc).until("waiting for port")
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == status, err
    assert out == b""
    text = err.decode()
    assert "Traceback" not in text
    assert "started" not in text


# -- the plan cache cannot be written -------------------------------------------------------------

def _run_twice(root: Path, env: Dict[Arg, Arg], prefix: Optional[List[str]] = None, **kwargs: object) -> None:
    for _ in range(2):
        result = subprocess.run([*(prefix or []), *map(str, devlint_argv("run", "--", "sh", "-c", "echo started"))],
                                cwd=root, env=env, capture_output=True, timeout=60,
                                **kwargs)  # type: ignore[call-overload]
        assert_clean_exit(result, 0)
        assert result.stdout == b"started\n"


def _no_leftovers(folder: Path) -> None:
    if folder.is_dir():
        assert [p.name for p in folder.rglob("*.tmp")] == []


@needs_unprivileged
def test_cache_in_a_folder_devlint_may_not_write(tmp_path: Path) -> None:
    assert UNPRIVILEGED is not None
    root = project_with_ports(tmp_path / "project", free_port())
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o555)  # read-only, and devlint has no capability to ignore that
    _run_twice(root, base_env(tmp_path, {"XDG_CACHE_HOME": str(cache)}), UNPRIVILEGED)
    assert list(cache.iterdir()) == []


def test_cache_folder_is_a_file(tmp_path: Path) -> None:
    root = project_with_ports(tmp_path / "project", free_port())
    (tmp_path / "not-a-folder").write_text("x")
    _run_twice(root, base_env(tmp_path, {"XDG_CACHE_HOME": str(tmp_path / "not-a-folder")}))


def _no_big_files() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (1, 1))  # every write past 1 byte fails (EFBIG)


def test_cache_on_a_disk_that_refuses_writes(tmp_path: Path) -> None:
    """RLIMIT_FSIZE makes the kernel refuse the write (EFBIG), as a full disk does (ENOSPC)."""
    root = project_with_ports(tmp_path / "project", free_port())
    cache = tmp_path / "cache"
    _run_twice(root, base_env(tmp_path, {"XDG_CACHE_HOME": str(cache)}), preexec_fn=_no_big_files)
    _no_leftovers(cache)


@pytest.fixture
def full_tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A real full file system: a 64 KiB tmpfs filled up (needs CAP_SYS_ADMIN)."""
    mount = tmp_path / "full"
    mount.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        (mount / "devlint").mkdir()
        with contextlib.suppress(OSError), open(mount / "filler", "wb") as handle:
            while True:
                handle.write(b"\0" * 4096)
                handle.flush()
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def test_cache_on_a_full_file_system(tmp_path: Path, full_tmpfs: Path) -> None:
    root = project_with_ports(tmp_path / "project", free_port())
    _run_twice(root, base_env(tmp_path, {"XDG_CACHE_HOME": str(full_tmpfs)}))
    _no_leftovers(full_tmpfs / "devlint")


def _cached_project(tmp_path: Path) -> Tuple[Path, Dict[Arg, Arg], List[Path]]:
    """A project whose plan is in the cache: (root, environment, the cache's files)."""
    root = project_with_ports(tmp_path / "project", free_port())
    cache = tmp_path / "cache"
    env = base_env(tmp_path, {"XDG_CACHE_HOME": str(cache)})
    _run_twice(root, env)
    files = [p for p in cache.rglob("*") if p.is_file()]
    assert files, "the first run wrote no cache: nothing to damage"
    return root, env, files


def test_damaged_cache_files_are_ignored(tmp_path: Path) -> None:
    root, env, files = _cached_project(tmp_path)
    for junk in (b"", b"\x00" * 64, b"\xff" * 4096, os.urandom(512), files[0].read_bytes()[:20]):
        for path in files:
            path.write_bytes(junk)
        _run_twice(root, env)


# marshal's header for a tuple of 2**27 items: marshal allocates what a length says (1 GiB here)
# before it finds that the items are missing.
HUGE_TUPLE = b"(" + (1 << 27).to_bytes(4, "little")
PEAK_RSS = (
    "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, capture_output=True); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


@pytest.mark.parametrize("junk", [HUGE_TUPLE, b"devlint plan\n\0\0\0\0" + HUGE_TUPLE], ids=["bare", "after a header"])
def test_a_damaged_length_in_the_cache_allocates_nothing(tmp_path: Path, junk: bytes) -> None:
    root, env, files = _cached_project(tmp_path)
    for path in files:
        path.write_bytes(junk)
    command = devlint_argv("run", "--", "sh", "-c", "echo started")
    result = subprocess.run([sys.executable, "-c", PEAK_RSS, *map(str, command)], cwd=root, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    peak_kib = int(result.stdout)
    assert peak_kib < 256 * 1024, f"devlint peaked at {peak_kib // 1024} MiB reading a damaged cache"
