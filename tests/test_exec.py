"""Exec fidelity: `devlint run -- CMD` must be indistinguishable from `CMD` once the ports are
clear. argv bytes, environment, working directory, file descriptors, stdin and the terminal,
signal dispositions and signals reach the command unchanged; it keeps devlint's pid; and its
exit status — a code, or death by a signal (128+N in a shell) — is what the caller sees,
through bash and through `npm run`.

Where possible the expectation is not written down but measured: the same probe command is
run directly and through devlint under identical conditions, and the two reports compared.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import termios
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

import pytest

from tests.runner import BIN, Arg, base_env, devlint_argv, entry_points

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="reads /proc to see what the command got")

# The warm path (devlint/warm.py: a cached clear plan, nothing on the ports, exec without the
# full CLI) is what most runs take; it is run explicitly, whatever the console script maps to.
WARM = "warm path"
ENTRIES = [*entry_points(), WARM]
WARM_ARGV = [sys.executable, "-I", "-c", "import sys; from devlint.warm import main; raise SystemExit(main())"]
WEIRD_ARGS: List[bytes] = [
    b"a b", b"", b'"double"', b"'single'", b"back\\slash", b"$HOME", b"*", b"~", b"new\nline", b"tab\t",
    b"\xff\xfe not utf-8", "é ü ✓".encode(), b"--", b"--help", b"--format=json", b"-p", b";", b"|&",
]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """An empty repository: no services, so every check is clear and devlint execs."""
    root = tmp_path / "project"
    (root / ".git").mkdir(parents=True)
    return root


def through(entry: str, *command: Arg) -> List[Arg]:
    if entry == WARM:
        return [*WARM_ARGV, "run", "--", *command]
    return devlint_argv("run", "--", *command, entry=entry)


def warm_up(entry: str, command: List[Arg], cwd: Path, env: Dict[Arg, Arg], **kwargs: object) -> None:
    """For the warm path: run the command once through the full CLI, so that the plan cache
    holds a clear plan for it, and make sure it does."""
    if entry != WARM:
        return
    past = time.time() - 10  # files "just written" are not cached (cache.RACY_NS)
    for path in (cwd, cwd / ".git"):
        if path.exists():
            os.utime(path, (past, past))
    run(devlint_argv("run", "--", *command), cwd, env, **kwargs)
    cache = Path(os.fsdecode(env["XDG_CACHE_HOME"])) / "devlint"
    assert cache.is_dir() and any(cache.iterdir()), "the warm-up left no cached plan"


def run(args: List[Arg], cwd: Path, env: Dict[Arg, Arg], **kwargs: object) -> subprocess.CompletedProcess[bytes]:
    result: subprocess.CompletedProcess[bytes] = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, timeout=60, **kwargs)  # type: ignore[call-overload]
    assert b"Traceback" not in result.stderr, result.stderr.decode(errors="replace")
    return result


# -- argv, environment, working directory, pid ---------------------------------------------

@pytest.mark.parametrize("entry", ENTRIES)
def test_argv_bytes_reach_the_command(project: Path, entry: str) -> None:
    script = b"cat /proc/$$/cmdline"
    command: List[Arg] = [b"/bin/sh", b"-c", script, b"sh", *WEIRD_ARGS]
    warm_up(entry, command, project, base_env(project))
    result = run(through(entry, *command), project, base_env(project))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split(b"\0")[:-1] == [b"/bin/sh", b"-c", script, b"sh", *WEIRD_ARGS]
    assert result.stderr == b""  # nothing to report: devlint is silent when clear


def _environ(data: bytes) -> Dict[bytes, bytes]:
    return dict(entry.partition(b"=")[::2] for entry in data.split(b"\0") if entry)


@pytest.mark.parametrize("entry", ENTRIES)
@pytest.mark.parametrize("locale", ["C.UTF-8", "C", None], ids=["LANG=C.UTF-8", "LANG=C", "no-locale"])
def test_environment_reaches_the_command_unchanged(project: Path, entry: str, locale: Optional[str]) -> None:
    """Byte for byte, with nothing added: under the C locale Python sets LC_CTYPE=C.UTF-8 in
    its own environment at start-up (PEP 538); the command must not inherit that."""
    env = base_env(project, {"DL_SPACE": "a b", "DL_EMPTY": "", "DL_NEWLINE": "x\ny", "DL_EQUALS": "a=b=c",
                             b"DL_BYTES": b"\xff\xfe\x80", "DL_UNICODE": "é✓"})
    del env["LANG"]
    if locale:
        env["LANG"] = locale
    want = {os.fsencode(k): os.fsencode(v) for k, v in env.items()}
    direct = run(["cat", "/proc/self/environ"], project, env)
    warm_up(entry, ["cat", "/proc/self/environ"], project, env)
    via = run(through(entry, "cat", "/proc/self/environ"), project, env)
    assert _environ(direct.stdout) == want  # the yardstick is what we think it is
    assert _environ(via.stdout) == want


def test_lc_ctype_set_by_the_caller_is_kept(project: Path) -> None:
    env = base_env(project, {"LC_CTYPE": "C.UTF-8"})
    del env["LANG"]
    via = run(through("devlint", "cat", "/proc/self/environ"), project, env)
    assert _environ(via.stdout) == {os.fsencode(k): os.fsencode(v) for k, v in env.items()}


def test_working_directory_and_pwd(tmp_path: Path) -> None:
    odd = tmp_path / os.fsdecode(b"dir with space \xff and 'quote'")
    (odd / ".git").mkdir(parents=True)
    link = tmp_path / "link"
    link.symlink_to(odd)
    env = base_env(tmp_path, {"PWD": str(link)})
    result = run(through("devlint", "/bin/sh", "-c", 'readlink /proc/$$/cwd; printf %s "$PWD"'), link, env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == os.fsencode(odd) + b"\n" + os.fsencode(link)


@pytest.mark.parametrize("entry", ENTRIES)
def test_same_pid(project: Path, entry: str) -> None:
    warm_up(entry, ["cat", "/proc/self/stat"], project, base_env(project))
    proc = subprocess.Popen(through(entry, "cat", "/proc/self/stat"), cwd=project, env=base_env(project),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    fields = out.split()
    assert int(fields[0]) == proc.pid
    assert int(fields[3]) == os.getpid()  # its parent is whoever started devlint


def test_stdin_bytes_reach_the_command(project: Path) -> None:
    data = bytes(range(256)) * 4096 + b"\0\r\n\x04 end"  # ~1 MB, NULs and an EOT byte
    result = run(through("devlint", "cat"), project, base_env(project), input=data)
    assert result.returncode == 0, result.stderr
    assert result.stdout == data


# -- what a process inherits besides argv and environ -------------------------------------

STATE = ("umask; ulimit -n; echo $(ls /proc/self/fd) ''; "
         "grep -E '^(SigBlk|SigIgn|SigCgt|NoNewPrivs|CapEff|Uid|Gid)' /proc/self/status")


def _ignore(*names: str) -> Callable[[], None]:
    def setup() -> None:
        for name in names:
            signal.signal(getattr(signal, name), signal.SIG_IGN)
    return setup


def _block(*names: str) -> Callable[[], None]:
    def setup() -> None:
        signal.pthread_sigmask(signal.SIG_BLOCK, {getattr(signal, n) for n in names})
    return setup


def _umask() -> None:
    os.umask(0o027)


SETUPS: Dict[str, Optional[Callable[[], None]]] = {
    "default": None,
    "ignored INT TERM HUP QUIT": _ignore("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT"),
    "blocked USR1 USR2": _block("SIGUSR1", "SIGUSR2"),
    "umask 027": _umask,
}


@pytest.mark.parametrize("entry", ["devlint", WARM])
@pytest.mark.parametrize("setup", list(SETUPS))
def test_inherited_state_matches_a_direct_run(project: Path, setup: str, entry: str) -> None:
    """umask, open file descriptors (one passed down on purpose), signal mask, ignored and
    caught signals, capabilities: the same through devlint as when run directly."""
    read, write = os.pipe()
    try:
        env = base_env(project)
        reports = []
        warm_up(entry, ["/bin/sh", "-c", STATE], project, env)
        for args in (["/bin/sh", "-c", STATE], through(entry, "/bin/sh", "-c", STATE)):
            result = run(args, project, env, preexec_fn=SETUPS[setup], pass_fds=(write,))
            assert result.returncode == 0, result.stderr
            reports.append(result.stdout.decode())
        assert reports[1] == reports[0]
        assert f" {write} " in reports[0]  # the inherited descriptor is there in both
    finally:
        os.close(read)
        os.close(write)


def test_sigpipe_kills_the_command_as_it_would_directly(project: Path) -> None:
    """Python ignores SIGPIPE in itself; exec must not pass that on (`yes | head` would
    print errors and exit 1 instead of ending quietly by SIGPIPE)."""
    env = base_env(project)
    codes = []
    for prefix in ([], through("devlint")):
        script = f"{' '.join(map(str, prefix))} yes | head -c 1 >/dev/null; echo ${{PIPESTATUS[0]}}"
        result = run(["bash", "-c", script], project, env)
        codes.append(result.stdout.strip())
    assert codes == [b"141", b"141"]


# -- the terminal ----------------------------------------------------------------------------

def _controlling_tty(slave: int) -> Callable[[], None]:
    def setup() -> None:  # runs in the child after setsid(): make the pty its terminal
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
    return setup


def _read_all(master: int, proc: subprocess.Popen[bytes]) -> bytes:
    out = b""
    deadline = time.monotonic() + 30
    while True:
        if not select.select([master], [], [], max(deadline - time.monotonic(), 0))[0]:
            proc.kill()
            proc.wait()
            pytest.fail(f"the command did not end within 30 s: {out!r}")
        try:
            chunk = os.read(master, 65536)
        except OSError as exc:  # EIO: every slave end is closed
            if exc.errno != errno.EIO:
                raise
            break
        if not chunk:
            break
        out += chunk
    proc.wait(30)
    return out


def _read_until(master: int, text: bytes, seen: bytes) -> bytes:
    """Terminal output until text appears; a test failure, not a hang, when it never does."""
    deadline = time.monotonic() + 30
    while text not in seen:
        if not select.select([master], [], [], max(deadline - time.monotonic(), 0))[0]:
            pytest.fail(f"{text!r} never appeared on the terminal: {seen!r}")
        seen += os.read(master, 1024)
    return seen


def _pty_run(args: List[Arg], cwd: Path, env: Dict[Arg, Arg]) -> Tuple[subprocess.Popen[bytes], bytes, str, int]:
    """Run in a new session whose controlling terminal is a fresh pty; (proc, output, tty, rdev)."""
    master, slave = os.openpty()
    name, rdev = os.ttyname(slave), os.fstat(slave).st_rdev
    try:
        proc = subprocess.Popen(args, cwd=cwd, env=env, stdin=slave, stdout=slave, stderr=slave,
                                start_new_session=True, preexec_fn=_controlling_tty(slave))
    finally:
        os.close(slave)
    try:
        return proc, _read_all(master, proc), name, rdev
    finally:
        os.close(master)


def test_terminal_is_the_commands_controlling_tty_in_the_foreground(project: Path) -> None:
    script = "readlink /proc/$$/fd/0 /proc/$$/fd/1 /proc/$$/fd/2; cut -d' ' -f1,5-8 /proc/$$/stat"
    proc, out, tty, rdev = _pty_run(through("devlint", "/bin/sh", "-c", script), project, base_env(project))
    assert proc.returncode == 0, out
    lines = out.decode().split("\r\n")
    assert lines[:3] == [tty, tty, tty]
    pid, pgrp, session, tty_nr, tpgid = map(int, lines[3].split())
    assert pid == pgrp == session == proc.pid  # still the session leader devlint was
    assert tty_nr == rdev
    assert tpgid == pgrp  # in the foreground: it gets the terminal's signals


def test_ctrl_c_on_the_terminal_reaches_the_command(project: Path) -> None:
    """cat reads the terminal; ^C makes the tty driver send SIGINT to the foreground group."""
    script = "echo ready; exec cat"
    master, slave = os.openpty()
    try:
        proc = subprocess.Popen(through("devlint", "/bin/sh", "-c", script), cwd=project, env=base_env(project),
                                stdin=slave, stdout=slave, stderr=slave, start_new_session=True,
                                preexec_fn=_controlling_tty(slave))
    finally:
        os.close(slave)
    try:
        seen = _read_until(master, b"ready", b"")
        os.write(master, b"typed line\n")
        _read_until(master, b"typed line\r\ntyped line", seen)  # the echo, then cat's copy
        os.write(master, b"\x03")
        _read_all(master, proc)
    finally:
        os.close(master)
    assert proc.returncode == -signal.SIGINT


# -- signals and exit status -------------------------------------------------------------------

CATCHER = r"""
import os, signal, sys
names = ["SIGINT", "SIGTERM", "SIGHUP", "SIGUSR1", "SIGUSR2", "SIGQUIT", "SIGWINCH"]
def caught(number, frame):
    name = signal.Signals(number).name
    os.write(1, f"got {name}\n".encode())
    if name == "SIGTERM":
        sys.exit(0)
for name in names:
    signal.signal(getattr(signal, name), caught)
os.write(1, f"ready {os.getpid()}\n".encode())
while True:
    signal.pause()
"""


def _ended(proc: subprocess.Popen[bytes]) -> str:
    assert proc.stderr is not None
    return f"exit status {proc.wait(10)}, stderr {proc.stderr.read()!r}"


@pytest.mark.parametrize("entry", ENTRIES)
def test_signals_reach_the_command(project: Path, entry: str) -> None:
    proc = subprocess.Popen(through(entry, sys.executable, "-c", CATCHER), cwd=project, env=base_env(project),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().split() == [b"ready", str(proc.pid).encode()]
        for sig in (signal.SIGINT, signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2, signal.SIGQUIT, signal.SIGWINCH,
                    signal.SIGTERM):
            os.kill(proc.pid, sig)
            assert proc.stdout.readline() == f"got {sig.name}\n".encode(), _ended(proc)
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.stderr is not None and proc.stderr.read() == b""


EXITS = {  # sh script → what bash's $? must be (128+N for death by signal N)
    "exit 0": 0, "exit 3": 3, "exit 255": 255,
    "kill -TERM $$": 128 + signal.SIGTERM, "kill -KILL $$": 128 + signal.SIGKILL,
    "kill -INT $$": 128 + signal.SIGINT, "kill -HUP $$": 128 + signal.SIGHUP,
    "kill -SEGV $$": 128 + signal.SIGSEGV, "kill -USR1 $$": 128 + signal.SIGUSR1,
}


@pytest.mark.parametrize("script", list(EXITS))
def test_exit_status_through_bash(project: Path, script: str) -> None:
    env = base_env(project, {"DEVLINT": str(Path(BIN) / "devlint")})
    seen = []
    for prefix in ("", '"$DEVLINT" run -- '):
        line = f"ulimit -c 0; {prefix}sh -c '{script}'; echo $?"
        seen.append(int(run(["bash", "-c", line], project, env).stdout))
    assert seen == [EXITS[script], EXITS[script]]


@pytest.mark.parametrize("script", ["exit 3", "kill -TERM $$", "kill -KILL $$"])
def test_exit_status_seen_by_the_parent(project: Path, script: str) -> None:
    direct = subprocess.run(["sh", "-c", script], cwd=project, env=base_env(project), timeout=60)
    via = run(through("devlint", "sh", "-c", script), project, base_env(project))
    assert via.returncode == direct.returncode
    assert via.returncode == (3 if script == "exit 3" else -EXITS[script] + 128)


NPM_CASES = ["exit 0", "exit 3", "exit 255", "kill -TERM $$", "kill -KILL $$"]


@pytest.mark.skipif(shutil.which("npm") is None, reason="npm is not installed")
def test_exit_status_through_npm_run(project: Path) -> None:
    """npm reports a script's exit code (and a death by signal) its own way; whatever that
    is, a script that goes through devlint must be reported exactly the same."""
    scripts: Dict[str, str] = {}
    for i, case in enumerate(NPM_CASES):
        scripts[f"direct{i}"] = f"sh -c '{case}'"
        scripts[f"via{i}"] = f"devlint run -- sh -c '{case}'"
    scripts["args"] = "devlint run -- printf '[%s]'"
    (project / "package.json").write_text(json.dumps({"name": "exec-test", "version": "1.0.0",
                                                      "scripts": scripts}))
    env = base_env(project, {"npm_config_update_notifier": "false", "npm_config_fund": "false",
                             "npm_config_audit": "false", "npm_config_cache": str(project / ".npm")})
    codes: List[Tuple[int, int]] = []
    for i in range(len(NPM_CASES)):
        direct = subprocess.run(["npm", "run", "--silent", f"direct{i}"], cwd=project, env=env,
                                capture_output=True, timeout=120)
        via = run(["npm", "run", "--silent", f"via{i}"], project, env)
        codes.append((via.returncode, direct.returncode))
    assert [via for via, _ in codes] == [direct for _, direct in codes]
    assert codes[1] == (3, 3)
    args = run(["npm", "run", "--silent", "args", "--", "a b", "", "c"], project, env)
    assert args.returncode == 0, args.stderr
    assert args.stdout == b"[a b][][c]"
