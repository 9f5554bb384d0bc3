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
from typing import Any, Dict, Iterator, List, Optional, Tuple

import pytest

from devlint import stop
from devlint.model import Endpoint, Explanation, Listener, Service
from tests import stacks
from tests.listeners import LISTENER_SCRIPT, child_listener, other_user_python
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
        assert "stopped" not in result.stderr
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


def explained(found: Listener) -> Optional[Explanation]:
    """What the built-in plugins say about a listener, as `--kill` asks them."""
    from devlint.manager import PluginHost

    return PluginHost().explain_listener(found, Service("api"), Endpoint("http", found.port), "linux")


@pytest.mark.parametrize("cmdline, expected", [
    (("/venv/bin/python", "/venv/bin/flask", "run", "--port", "5001"), "flask run"),
    (("python3", "-m", "flask", "--app", "api", "run"), "flask run"),
    (("node", "/app/node_modules/@angular/cli/bin/ng.js", "serve"), "ng serve"),
    (("node", "/usr/lib/node_modules/firebase-tools/lib/bin/firebase.js", "emulators:start"), "firebase"),
    (("java", "-jar", "/root/.cache/firebase/emulators/cloud-firestore-emulator-v1.19.jar"), "firebase"),
    (("python3", "-m", "http.server"), None),
    (("/usr/sbin/cupsd", "-l"), None),
])
def test_dev_servers_are_recognised_by_their_plugins(cmdline: Tuple[str, ...], expected: Optional[str]) -> None:
    found = explained(listener(cmdline=cmdline))
    if expected is None:
        assert found is None or not found.stale
    else:
        assert found is not None and found.stale and expected in found.title.lower(), found


def test_decisions() -> None:
    flask_run = listener()
    assert stop.decide(flask_run, explained(flask_run), "linux").allowed
    assert not stop.decide(flask_run, None, "linux").allowed  # recognised by no plugin, not the same command
    assert not stop.decide(listener(pid=None), None, "linux").allowed
    assert not stop.decide(listener(uid=os.geteuid() + 1), explained(flask_run), "linux").allowed
    assert not stop.decide(listener(uid=None), explained(flask_run), "linux").allowed
    assert not stop.decide(listener(process="ControlCenter"), explained(flask_run), "linux").allowed
    assert not stop.decide(listener(process="ControlCenter", cmdline=("/System/x/ControlCenter",)),
                           None, "darwin").allowed
    assert not stop.decide(listener(pid=1), explained(flask_run), "linux").allowed
    assert not stop.decide(listener(pid=os.getpid()), explained(flask_run), "linux").allowed
    assert not stop.decide(listener(cmdline=("/usr/sbin/sshd", "-D")), None, "linux").allowed
    assert not stop.decide(listener(cmdline=("python3", "-m", "http.server")), None, "linux").allowed
    assert stop.decide(listener(cmdline=("python3", "serve.py")), None, "linux", ("python3", "serve.py")).allowed
    stale = Explanation("Firebase emulator", "left over", "stop it", stale=True)
    assert stop.decide(listener(cmdline=("node", "x.js")), stale, "linux").allowed


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
