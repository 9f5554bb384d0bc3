"""`devlint run --kill`: stops a stale dev server of the user's own only with consent, and
never another user's process or a known culprit. Only processes this test started are
ever signalled (by pid), and each is ended when its test ends, pass or fail."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any, ContextManager, Dict, Iterator, List, Optional, Sequence, Tuple

import pytest

from devlint import stop
from devlint.model import Endpoint, Explanation, Listener, Service
from devlint.process import Identity
from tests import stacks
from tests.listeners import LISTENER_SCRIPT, child_listener, other_user_python, started
from tests.runner import devlint, devlint_env

APP = "from flask import Flask\napp = Flask(__name__)\n\n@app.get('/')\ndef index():\n    return 'ok'\n"

# A real process whose name (/proc/PID/comm, what `ps` and devlint show) is ControlCenter.
CULPRIT = textwrap.dedent(
    """
    import ctypes, socket, sys
    ctypes.CDLL(None).prctl(15, b"ControlCenter", 0, 0, 0)  # PR_SET_NAME
    s = socket.socket()
    s.bind(("127.0.0.1", int(sys.argv[1])))
    s.listen(8)
    print("ready", flush=True)
    sys.stdin.read()
    """
)

@pytest.fixture(autouse=True)
def _stop_started() -> Iterator[None]:
    yield
    stacks.stop_all()


def flask_command() -> List[str]:
    flask = shutil.which("flask", path=os.path.dirname(sys.executable))
    if flask is None:
        pytest.skip("the flask command is not installed next to this Python")
    return [flask]


def stale_flask(folder: Path) -> Tuple[stacks.Proc, int]:
    """A `flask run` left running in folder, on the port its .flaskenv names."""
    port = stacks.free_port()
    (folder / "app.py").write_text(APP)
    (folder / ".flaskenv").write_text(f"FLASK_APP=app\nFLASK_RUN_PORT={port}\n")
    proc = stacks.start([*flask_command(), "run"], cwd=folder, log_dir=folder)
    stacks.wait_for_http(f"http://127.0.0.1:{port}/", timeout=30, proc=proc)
    return proc, port


def alive(proc: subprocess.Popen[Any]) -> bool:
    return proc.poll() is None


def test_stale_flask_is_stopped_only_with_yes(tmp_path: Path) -> None:
    old, port = stale_flask(tmp_path)

    refused = devlint(tmp_path, "run", "--kill", "--", "flask", "run")
    assert refused.returncode == 1
    assert f"Stop pid {old.pid} (flask) on port {port}" in refused.stderr
    assert "Not asked: no terminal; pass --yes to allow it" in refused.stderr
    assert "devlint: not starting `flask run`" in refused.stderr
    assert alive(old.popen)

    # With --yes: the old server is stopped, the port re-checked, and the new one started.
    new = stacks.start([sys.executable, "-m", "devlint", "run", "--kill", "--yes", "--", "flask", "run"],
                       cwd=tmp_path, env=devlint_env(), log_dir=tmp_path)
    out = stacks.wait_for_text(new, "Running on", timeout=30)
    assert f"devlint: --kill: stopped pid {old.pid} (flask) with SIGTERM" in out
    assert old.popen.wait(10) is not None
    assert stacks.http_request(f"http://127.0.0.1:{port}/").text == "ok"


def test_another_users_process_is_refused(tmp_path: Path) -> None:
    prefix = other_user_python()
    if prefix is None:
        pytest.skip("needs root, setpriv and /usr/bin/python3 to run a listener as another user")
    port = stacks.free_port()
    (tmp_path / "devlint.toml").write_text(f'[services.api]\nport = {port}\nhost = "127.0.0.1"\n')
    with child_listener("127.0.0.1", port, as_other_user=True) as other:
        # The very command the other process runs: only the owner rule can refuse it.
        result = devlint(tmp_path, "run", "--kill", "--yes", "--", *prefix[-1:], "-c", LISTENER_SCRIPT,
                         "127.0.0.1", str(port), "1")
        assert result.returncode == 1
        assert f"leaving pid {other.pid} (python3) on port {port} alone: it belongs to another user, " \
               f"user nobody" in result.stderr
        assert "--kill: stopped" not in result.stderr
        assert alive(other)


def test_a_culprit_is_refused(tmp_path: Path) -> None:
    if not sys.platform.startswith("linux"):
        pytest.skip("renames the process with prctl(PR_SET_NAME), which is Linux-only")
    port = stacks.free_port()
    script = tmp_path / "receiver.py"
    script.write_text(CULPRIT)
    (tmp_path / "devlint.toml").write_text(f'[services.api]\nport = {port}\nhost = "127.0.0.1"\n')
    culprit = subprocess.Popen([sys.executable, str(script), str(port)], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True)
    try:
        assert culprit.stdout is not None and culprit.stdout.readline().strip() == "ready"
        # Again the same command, so only the culprit rule stands between it and SIGTERM.
        result = devlint(tmp_path, "run", "--kill", "--yes", "--", sys.executable, str(script), str(port))
        assert result.returncode == 1
        assert f"pid {culprit.pid} (ControlCenter) on 127.0.0.1:{port}" in result.stderr
        assert f"leaving pid {culprit.pid} (ControlCenter) on port {port} alone: it is a known system " \
               "service, not a dev server" in result.stderr
        assert alive(culprit)
    finally:
        culprit.terminate()
        culprit.wait(10)


def test_an_unrecognised_process_of_ours_is_refused(tmp_path: Path) -> None:
    port = stacks.free_port()
    (tmp_path / "devlint.toml").write_text(f'[services.api]\nport = {port}\nhost = "127.0.0.1"\n')
    with child_listener("127.0.0.1", port) as mine:
        result = devlint(tmp_path, "run", "--kill", "--yes", "--", sys.executable, "-c", "print('started')")
        assert result.returncode == 1
        assert f"leaving pid {mine.pid} " in result.stderr
        assert "not recognised as a dev server" in result.stderr
        assert alive(mine)


# -- the rules, one by one ---------------------------------------------------------------

def listener(**changes: object) -> Listener:
    base: Dict[str, object] = dict(address="127.0.0.1", port=5000, family=4, v6only=None, pid=4242,
                                   process="flask", cmdline=("/venv/bin/python", "/venv/bin/flask", "run"),
                                   uid=os.geteuid(), user="me")
    base.update(changes)
    return Listener(**base)  # type: ignore[arg-type]


def identity(found: Listener, **changes: object) -> Identity:
    """The process identity `--kill` would capture for `found` (data: the decision rules
    are pure; capture itself is tested on real processes in test_kill_identity.py)."""
    me = os.geteuid()
    base: Dict[str, object] = dict(pid=found.pid, started=1.0, uids=(me, me, me), user="me",
                                   cmdline=tuple(found.cmdline or ()), cwd=os.path.realpath(os.getcwd()))
    base.update(changes)
    return Identity(**base)  # type: ignore[arg-type]


def explained(found: Listener, path: str = ".") -> Optional[Explanation]:
    """What the built-in plugins say about a listener, as `--kill` asks them."""
    from devlint.manager import PluginHost

    return PluginHost().explain_listener(found, Service("api", path=path), Endpoint("http", found.port), "linux")


@pytest.mark.parametrize("cmdline, expected", [
    (("/venv/bin/python", "/venv/bin/flask", "run", "--port", "5001"), "flask run"),
    (("python3", "-m", "flask", "--app", "api", "run"), "flask run"),
    (("flask", "--debug", "run"), "flask run"),
    (("node", "/app/node_modules/@angular/cli/bin/ng.js", "serve"), "ng serve"),
    (("node", "/app/node_modules/.bin/ng", "s", "--port", "4300"), "ng serve"),
    (("ng serve --port 4200",), "ng serve"),  # ng.js sets process.title: /proc shows one word
    (("node", "/usr/lib/node_modules/firebase-tools/lib/bin/firebase.js", "emulators:start"), "firebase"),
    (("java", "-jar", "/root/.cache/firebase/emulators/cloud-firestore-emulator-v1.19.jar"), "firebase"),
    (("java", "-Dx=1", "-cp", "/h/.cache/firebase/emulators/pubsub-emulator-0.8.2/lib/a.jar", "Main"), "firebase"),
    (("python3", "-m", "http.server"), None),
    (("/usr/sbin/cupsd", "-l"), None),
    # the program position: these mention a dev server but do not run one
    (("ssh", "devbox", "flask", "run"), None),
    (("echo", "flask", "run"), None),
    (("sudo", "flask", "run"), None),
    (("python3", "-c", "import time; time.sleep(9)", "flask", "run"), None),
    (("/usr/bin/python3", "/home/me/bin/ssh", "devbox", "flask", "run"), None),
    (("ssh", "devbox", "ng", "serve"), None),
    (("echo", "node", "/x/@angular/cli/bin/ng.js", "serve"), None),
    (("ssh", "devbox", "firebase", "emulators:start"), None),
    (("echo", "java", "-jar", "cloud-firestore-emulator-v1.jar"), None),
    (("grep", "/home/me/.cache/firebase/emulators/", "-r"), None),
])
def test_dev_servers_are_recognised_by_their_plugins(cmdline: Tuple[str, ...], expected: Optional[str]) -> None:
    # pid: this test process, so a plugin that reads the holder's folder reads ours, never a stranger's
    found = explained(listener(cmdline=cmdline, pid=os.getpid()))
    if expected is None:
        assert found is None, found  # not even explained: recognised at the program position only
    else:
        assert found is not None and expected in found.title.lower(), found


def test_decisions() -> None:
    flask_run = listener()
    here = Explanation("Flask dev server (flask run)", "left over", "stop it", stale=True)
    elsewhere = Explanation("Flask dev server (flask run)", "another folder", "stop it", stale=False)
    mine = identity(flask_run)
    assert stop.decide(flask_run, mine, here, "linux").allowed
    assert not stop.decide(flask_run, mine, elsewhere, "linux").allowed  # a flask run of another project
    assert not stop.decide(flask_run, mine, None, "linux").allowed  # recognised by no plugin, not the same command
    assert not stop.decide(flask_run, None, here, "linux").allowed  # its process could not be read
    assert not stop.decide(listener(pid=None), None, None, "linux").allowed
    assert not stop.decide(listener(uid=os.geteuid() + 1), mine, here, "linux").allowed
    assert not stop.decide(listener(uid=None), mine, here, "linux").allowed
    # the socket is ours (it was bound before the process dropped privileges), the process is not
    for uids in ((65534, 65534, 65534), (os.geteuid(), 65534, 65534), (65534, os.geteuid(), os.geteuid()),
                 (os.geteuid(), os.geteuid(), 65534)):
        refused = stop.decide(flask_run, identity(flask_run, uids=uids), here, "linux")
        assert not refused.allowed and "runs as another user" in refused.reason
    assert not stop.decide(flask_run, identity(flask_run, uids=None), here, "linux").allowed
    assert not stop.decide(listener(process="ControlCenter"), mine, here, "linux").allowed
    assert not stop.decide(listener(process="ControlCenter", cmdline=("/System/x/ControlCenter",)),
                           mine, None, "darwin").allowed
    assert not stop.decide(listener(pid=1), identity(listener(pid=1)), here, "linux").allowed
    me = listener(pid=os.getpid())
    assert not stop.decide(me, identity(me), here, "linux").allowed
    sshd = listener(cmdline=("/usr/sbin/sshd", "-D"))
    assert not stop.decide(sshd, identity(sshd), None, "linux").allowed
    # the socket table's command line looks harmless, the process's own says /usr/sbin
    assert not stop.decide(flask_run, identity(flask_run, cmdline=("/usr/sbin/sshd", "-D")), here, "linux").allowed
    http = listener(cmdline=("python3", "-m", "http.server"))
    assert not stop.decide(http, identity(http), None, "linux").allowed
    serve = listener(cmdline=("python3", "serve.py"))
    assert stop.decide(serve, identity(serve), None, "linux", ("python3", "serve.py")).allowed
    stale = Explanation("Firebase emulator", "left over", "stop it", stale=True)
    node = listener(cmdline=("node", "x.js"))
    assert stop.decide(node, identity(node), stale, "linux").allowed


def test_confirm_never_says_yes_by_itself(tmp_path: Path) -> None:
    import io

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    err = io.StringIO()
    assert stop.confirm("Stop it?", assume_yes=True, stdin=io.StringIO(""), stderr=err)
    assert not stop.confirm("Stop it?", assume_yes=False, stdin=io.StringIO("y\n"), stderr=err)
    assert "pass --yes" in err.getvalue()
    assert stop.confirm("Stop it?", assume_yes=False, stdin=Terminal("y\n"), stderr=err)
    assert not stop.confirm("Stop it?", assume_yes=False, stdin=Terminal("\n"), stderr=err)
    assert not stop.confirm("Stop it?", assume_yes=False, stdin=Terminal(""), stderr=err)


def test_asks_on_a_terminal_and_no_means_no(tmp_path: Path) -> None:
    import pty
    import select

    old, port = stale_flask(tmp_path)
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "devlint", "run", "--kill", "--", "flask", "run"], cwd=tmp_path,
                            env=devlint_env(), stdin=follower, stdout=follower, stderr=follower)
    os.close(follower)
    seen = b""
    try:
        while b"[y/N]" not in seen and select.select([leader], [], [], 30)[0]:
            seen += os.read(leader, 4096)
        assert f"Stop pid {old.pid} (flask) on port {port}".encode() in seen and b"[y/N]" in seen
        os.write(leader, b"n\n")
        assert proc.wait(30) == 1
        while select.select([leader], [], [], 0.5)[0]:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # EIO: everything has been read
                break
            if not chunk:
                break
            seen += chunk
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(leader)
    assert f"devlint: --kill: left pid {old.pid} (flask) running".encode() in seen
    assert alive(old.popen)


def test_yes_without_kill_is_a_usage_error(tmp_path: Path) -> None:
    result = devlint(tmp_path, "run", "--yes", "--", sys.executable, "-c", "print('started')")
    assert result.returncode == 2
    assert result.stderr == "devlint: --yes answers --kill's question; use it together with --kill\n"


# -- the process, not the socket; this project, not another ----------------------------------

# Binds as whoever runs it, optionally drops to nobody (uid/gid 65534) while keeping the socket,
# says "ready", and keeps listening until its stdin closes.
DROPPING = textwrap.dedent(
    """
    import os, socket, sys
    s = socket.socket()
    s.bind(("127.0.0.1", int(sys.argv[1])))
    s.listen(8)
    if sys.argv[2] == "drop":
        os.setgroups([])
        os.setgid(65534)
        os.setuid(65534)
    print("ready", flush=True)
    sys.stdin.read()
    """
)

# A dev server of its folder: listens on the port in the file `port` next to it until ended.
APP_SERVER = textwrap.dedent(
    """
    import os, socket, time
    here = os.path.dirname(os.path.abspath(__file__))
    s = socket.socket()
    s.bind(("127.0.0.1", int(open(os.path.join(here, "port")).read())))
    s.listen(8)
    print("serving", os.getcwd(), flush=True)
    while True:
        time.sleep(3600)
    """
)


def holder(argv: Sequence[str], cwd: Path) -> ContextManager[subprocess.Popen[str]]:
    """A listener we start (it prints one line once it listens); ended by its pid."""
    return started(argv, cwd, ready=("ready", "serving"))


def project(folder: Path, port: int) -> Path:
    """A project folder with a devlint.toml service on port and an app.py serving it."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / ".git").mkdir(exist_ok=True)
    (folder / "devlint.toml").write_text(f'[services.api]\nport = {port}\nhost = "127.0.0.1"\n')
    (folder / "app.py").write_text(APP_SERVER)
    (folder / "port").write_text(str(port))
    return folder


def test_a_process_that_dropped_to_another_user_is_refused(tmp_path: Path) -> None:
    """The socket was created by root (us); the process now runs as nobody: not ours."""
    if os.geteuid() != 0:
        pytest.skip("needs root to start a process that drops to nobody")
    port = stacks.free_port()
    project(tmp_path, port)
    argv = [sys.executable, "-c", DROPPING, str(port), "drop"]
    with holder(argv, tmp_path) as dropped:
        with open(f"/proc/{dropped.pid}/status") as status:
            assert any(line.split()[1:] == ["65534"] * 4 for line in status if line.startswith("Uid:"))
        # The very same command in the same folder: only the owner rule can refuse it.
        result = devlint(tmp_path, "run", "--kill", "--yes", "--", *argv)
        assert result.returncode == 1, result.stderr
        assert f"leaving pid {dropped.pid} (python" in result.stderr
        assert "alone: its process runs as another user (real uid 65534, effective uid 65534, " \
               "saved uid 65534)" in result.stderr
        assert "stopped" not in result.stderr
        assert alive(dropped)


def test_the_same_command_in_this_folder_is_stopped(tmp_path: Path) -> None:
    port = stacks.free_port()
    here = project(tmp_path / "a", port)
    with holder([sys.executable, "app.py"], here) as old:
        new = stacks.start([sys.executable, "-m", "devlint", "run", "--kill", "--yes", "--", sys.executable, "app.py"],
                           cwd=here, env=devlint_env(), log_dir=tmp_path)
        out = stacks.wait_for_text(new, "serving", timeout=30)
        assert f"devlint: --kill: stopped pid {old.pid} (python" in out, out
        assert old.wait(10) is not None
        assert stacks.listener_pids(port) == {new.pid}  # devlint exec'd the new server in its place


@pytest.mark.parametrize("elsewhere", ["same script name, another project", "another script, this folder"])
def test_the_same_command_elsewhere_is_left_alone(tmp_path: Path, elsewhere: str) -> None:
    """`devlint run --kill --yes -- python app.py` in project A must not stop `python app.py`
    of project B, nor `python /B/app.py` started in A's folder."""
    port = stacks.free_port()
    ours, theirs = project(tmp_path / "a", port), project(tmp_path / "b", port)
    argv, cwd = ([sys.executable, "app.py"], theirs) if elsewhere.startswith("same") else \
        ([sys.executable, str(theirs / "app.py")], ours)
    with holder(argv, cwd) as other:
        result = devlint(ours, "run", "--kill", "--yes", "--", sys.executable, "app.py")
        assert result.returncode == 1, result.stderr
        assert f"leaving pid {other.pid} (python" in result.stderr, result.stderr
        assert "not recognised as a dev server of this project" in result.stderr
        assert "--kill: stopped" not in result.stderr
        assert alive(other)


def lookalike(tmp_path: Path, name: str, port: int) -> List[str]:
    """argv of a real listener whose command line mentions `flask run` without running it:
    a script named `name` (ssh, sudo, echo) run with `host flask run`, or `python -c … flask run`."""
    if name == "python -c":
        return [sys.executable, "-c", DROPPING, str(port), "keep", "flask", "run"]
    script = tmp_path / "bin" / name
    script.parent.mkdir(exist_ok=True)
    script.write_text(f"#!{sys.executable}\nimport sys\nsys.argv[1:] = [sys.argv[-1], 'keep']\n" + DROPPING)
    script.chmod(0o755)
    (tmp_path / "bin" / "port").write_text(str(port))
    return [str(script), "devbox", "flask", "run", str(port)]


@pytest.mark.parametrize("name", ["ssh", "sudo", "echo", "python -c"])
def test_flask_lookalikes_are_left_alone(tmp_path: Path, name: str) -> None:
    flask_command()
    port = stacks.free_port()
    (tmp_path / "app.py").write_text(APP)
    (tmp_path / ".flaskenv").write_text(f"FLASK_APP=app\nFLASK_RUN_PORT={port}\n")
    with holder(lookalike(tmp_path, name, port), tmp_path) as other:
        result = devlint(tmp_path, "run", "--kill", "--yes", "--", "flask", "run")
        assert result.returncode == 1, result.stderr
        assert f"leaving pid {other.pid} " in result.stderr, result.stderr
        assert "not recognised as a dev server" in result.stderr
        assert "Flask dev server" not in result.stderr  # not even explained as one
        assert alive(other)


def test_a_flask_run_of_another_project_is_left_alone(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "a").mkdir()
    other, port = stale_flask(tmp_path / "b")
    (tmp_path / "a" / "app.py").write_text(APP)
    (tmp_path / "a" / ".flaskenv").write_text(f"FLASK_APP=app\nFLASK_RUN_PORT={port}\n")
    result = devlint(tmp_path / "a", "run", "--kill", "--yes", "--", "flask", "run")
    assert result.returncode == 1, result.stderr
    assert f"leaving pid {other.pid} (flask) on port {port} alone: it is a Flask dev server (flask run), but " \
           "not one of this project" in result.stderr, result.stderr
    hint = " ".join(result.stderr.split()).replace("- ", "-")  # the report wraps long lines
    assert f"started in another folder ({os.path.realpath(tmp_path / 'b')}), not " \
           f"{os.path.realpath(tmp_path / 'a')}" in hint, result.stderr
    assert alive(other.popen)
