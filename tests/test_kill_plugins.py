"""The plugins' stale-dev-server recognition, on real processes: `ng serve` and firebase-tools
are recognised at the program position only, and are stale (which `--kill` may stop) only in
the service's own folder.

The servers are small Node scripts at the paths the real tools install to (Angular's
``@angular/cli/bin/ng.js``, ``firebase-tools/lib/bin/firebase.js``), listening on loopback: the
plugins judge the command line and the working folder, which are the real ones here. Each
process is started by the test and ended by its pid.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Iterator, Optional, Sequence, Tuple

import pytest

from devlint.manager import PluginHost
from devlint.model import Endpoint, Explanation, Listener, Service

SERVER = """
const net = require('net');
const port = Number(process.argv[process.argv.indexOf('--port') + 1]);
const server = net.createServer().listen(port, '127.0.0.1', () => console.log('ready', server.address().port));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
"""


pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/PID/cmdline")


@pytest.fixture()
def node() -> str:
    found = shutil.which("node")
    if found is None:
        pytest.skip("needs node to run a stand-in dev server")
    return found


@contextlib.contextmanager
def server(argv: Sequence[str], cwd: Path) -> Iterator[Tuple[subprocess.Popen[str], int]]:
    """A stand-in server listening on a port the system picks (`--port 0`): (process, port)."""
    proc = subprocess.Popen(list(argv), cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        ready, port = proc.stdout.readline().split()
        assert ready == "ready"
        yield proc, int(port)
    finally:
        proc.kill()
        proc.wait(10)


def script(folder: Path, relative: str) -> Path:
    path = folder / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(SERVER)
    return path


def as_seen(proc: subprocess.Popen[str], port: int) -> Listener:
    """The listener as the Linux backend reports it: pid, and argv from /proc/PID/cmdline."""
    with open(f"/proc/{proc.pid}/cmdline", "rb") as handle:
        cmdline = tuple(w.decode() for w in handle.read().split(b"\0") if w)
    return Listener("127.0.0.1", port, 4, pid=proc.pid, process="node", cmdline=cmdline)


def explain(found: Listener, kind: str, folder: Path) -> Optional[Explanation]:
    return PluginHost().explain_listener(found, Service("svc", kind=kind, path=str(folder)),
                                         Endpoint("http", found.port), "linux")


@pytest.mark.parametrize("kind, relative, words, title", [
    ("angular", "node_modules/@angular/cli/bin/ng.js", ["serve"], "Angular dev server"),
    ("firebase", "node_modules/firebase-tools/lib/bin/firebase.js", ["emulators:start"], "Firebase emulator"),
])
def test_stale_only_in_its_own_folder(tmp_path: Path, node: str, kind: str, relative: str, words: Sequence[str],
                                      title: str) -> None:
    here, other = tmp_path / "here", tmp_path / "other"
    other.mkdir()
    program = script(here, relative)
    with server([node, str(program), *words, "--port", "0"], here) as (proc, port):
        found = as_seen(proc, port)
        mine = explain(found, kind, here)
        assert mine is not None and mine.stale and title in mine.title, mine
        elsewhere = explain(found, kind, other)
        assert elsewhere is not None and not elsewhere.stale, elsewhere
        assert f"started in another folder ({here.resolve()})" in elsewhere.why
        assert proc.poll() is None


@pytest.mark.parametrize("kind, words", [
    ("angular", ["ng", "serve"]),
    ("angular", ["node", "/x/node_modules/@angular/cli/bin/ng.js", "serve"]),
    ("firebase", ["firebase", "emulators:start"]),
    ("firebase", ["java", "-jar", "/root/.cache/firebase/emulators/cloud-firestore-emulator-v1.19.jar"]),
])
def test_a_command_that_only_mentions_it_is_not_recognised(tmp_path: Path, node: str, kind: str,
                                                           words: Sequence[str]) -> None:
    """`node relay.js ng serve` (as `ssh host ng serve` would be) runs relay.js, not ng."""
    relay = script(tmp_path, "relay.js")
    with server([node, str(relay), *words, "--port", "0"], tmp_path) as (proc, port):
        assert explain(as_seen(proc, port), kind, tmp_path) is None
        assert proc.poll() is None


FLASK_STAND_IN = """import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(4)
print("ready", s.getsockname()[1], flush=True)
sys.stdin.read()
"""


@pytest.mark.parametrize("app_inside, stale", [(True, True), (False, False)])
def test_flask_run_elsewhere_is_stale_only_when_its_app_is_in_the_project(tmp_path: Path, app_inside: bool,
                                                                          stale: bool) -> None:
    """`flask --app /project/app.py run` started from another folder serves this project."""
    project, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    for folder in (project, elsewhere, tmp_path / "bin"):
        folder.mkdir()
    flask = tmp_path / "bin" / "flask"  # a stand-in at the program position, as a shebang runs it
    flask.write_text(f"#!{sys.executable}\n" + FLASK_STAND_IN)
    flask.chmod(0o755)
    app = (project if app_inside else elsewhere) / "app.py"
    with server([str(flask), "--app", str(app), "run", "--port", "0"], elsewhere) as (proc, port):
        found = explain(as_seen(proc, port), "flask", project)
        assert found is not None and found.title == "Flask dev server (flask run)"
        assert found.stale is stale, found
