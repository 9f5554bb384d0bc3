"""Helpers for integration tests that start the real example stack (examples/stack).

Every process started here runs in its own process group and is stopped by that
group's id, never by name. Network traffic goes to loopback only. Tools come from
`.ci/setup-stacks`; where one is missing a test skips locally and fails under CI.
"""

from __future__ import annotations

import contextlib
import dataclasses
import html
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Dict, Iterator, List, Mapping, Optional, Sequence

import pytest

from tests.listeners import candidate_port, open_listener

REPO = Path(__file__).resolve().parents[1]
STACK = REPO / "examples" / "stack"
LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")
IMPOSTOR_SERVER = "AirTunes/595.13.1"
SETUP_HINT = "run .ci/setup-stacks to install it"

#: Chromium flags that work headless as root in a container (see REAL-STACKS.md).
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-proxy-server",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--virtual-time-budget=8000",
    "--dump-dom",
    "--enable-logging=stderr",  # console messages (the CORS error) on stderr
)

# ---------------------------------------------------------------------------
# processes


@dataclasses.dataclass
class Proc:
    """A process we started, in its own process group, writing to `log`."""

    cmd: List[str]
    popen: subprocess.Popen[bytes]
    log: Path
    err_log: Optional[Path] = None  # stderr, when start(separate_stderr=True)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def output(self) -> str:
        """Everything the process wrote so far (stdout and stderr together)."""
        try:
            return self.log.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def errors(self) -> str:
        """What the process wrote to stderr, when that was kept apart from stdout."""
        if self.err_log is None:
            return ""
        try:
            return self.err_log.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def tail(self, chars: int = 3000) -> str:
        return self.output()[-chars:]

    def describe(self) -> str:
        code = self.popen.poll()
        state = "running" if code is None else f"exited with {code}"
        return f"`{' '.join(self.cmd)}` (pid {self.pid}, {state})"


_STARTED: List[Proc] = []



def start(
    cmd: Sequence[str],
    cwd: os.PathLike[str] | str,
    env: Optional[Mapping[str, str]] = None,
    log_dir: Optional[os.PathLike[str] | str] = None,
    separate_stderr: bool = False,
) -> Proc:
    """Start `cmd` in a new session (so its whole tree can be stopped by group).

    `env` is laid over a copy of os.environ; stdin is /dev/null so dev servers never wait
    for a terminal; stdout and stderr go to one log file (two with `separate_stderr`).
    """
    full_env = dict(os.environ)
    full_env.update(env or {})
    fd, name = tempfile.mkstemp(prefix="proc-", suffix=".log", dir=log_dir)
    err_name: Optional[str] = None
    with contextlib.ExitStack() as files:
        log = files.enter_context(os.fdopen(fd, "wb"))
        err: int | object = subprocess.STDOUT
        if separate_stderr:
            err_fd, err_name = tempfile.mkstemp(prefix="proc-", suffix=".err", dir=log_dir)
            err = files.enter_context(os.fdopen(err_fd, "wb"))
        popen = subprocess.Popen(
            list(cmd),
            cwd=os.fspath(cwd),
            env=full_env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=err,  # type: ignore[arg-type]
            start_new_session=True,
        )
    proc = Proc(
        cmd=[str(c) for c in cmd],
        popen=popen,
        log=Path(name),
        err_log=Path(err_name) if err_name else None,
    )
    _STARTED.append(proc)
    return proc


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # a member we may not signal still exists
        return True
    return True


def stop(proc: Proc, sig: int = signal.SIGTERM, grace: float = 10.0) -> Optional[int]:
    """Stop the process group of a process WE started, by its pid; return its exit code.

    Sends `sig` to the group, waits up to `grace` seconds for every member (wrappers such
    as npx exit at once while their node child is still shutting down), then SIGKILLs
    whatever is left.
    """
    pgid = proc.pid  # start_new_session: the leader's pid is the group id
    if proc.popen.poll() is None or _group_alive(pgid):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, sig)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        proc.popen.poll()
        if proc.popen.returncode is not None and not _group_alive(pgid):
            break
        time.sleep(0.05)
    else:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.popen.wait(5)
    if proc in _STARTED:
        _STARTED.remove(proc)
    return proc.popen.returncode


def stop_all() -> None:
    """Stop every process this module started and has not stopped yet (test teardown)."""
    for proc in reversed(list(_STARTED)):
        stop(proc, grace=5.0)


def wait_for_text(proc: Proc, text: str, timeout: float) -> str:
    """Wait until `text` appears in the process's output; return the output so far.

    Fails at once (with the output) if the process group dies first.
    """
    deadline = time.monotonic() + timeout
    while True:
        out = proc.output()
        if text in out:
            return out
        if proc.popen.poll() is not None and not _group_alive(proc.pid):
            pytest.fail(
                f"{proc.describe()} ended before printing {text!r}; output:\n{proc.tail()}",
                pytrace=False,
            )
        if time.monotonic() > deadline:
            pytest.fail(
                f"{proc.describe()} did not print {text!r} within {timeout:.0f} s; "
                f"output:\n{proc.tail()}",
                pytrace=False,
            )
        time.sleep(0.1)


# ---------------------------------------------------------------------------
# ports and HTTP (loopback only)


def _bindable(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        sock = socket.socket(family, socket.SOCK_STREAM)
    except OSError:
        return host == "::1"  # no IPv6 on this machine: nothing can listen there
    with sock:
        # As servers do: TIME_WAIT leftovers of a stopped server do not hold the port.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        try:
            sock.bind((host, port))
        except OSError as error:
            return host == "::1" and error.errno == 99  # EADDRNOTAVAIL: no ::1 here
    return True


def port_is_free(port: int, hosts: Sequence[str] = ("127.0.0.1", "::1")) -> bool:
    """True when a server could bind `port` on every one of `hosts` right now."""
    return all(_bindable(host, port) for host in hosts)


def free_port(avoid: Sequence[int] = ()) -> int:
    """A port free on 127.0.0.1 AND ::1 (checked by binding both), not in `avoid`."""
    for _ in range(200):
        port = candidate_port()  # below the ephemeral range: no connection takes it meanwhile
        if port not in avoid and port_is_free(port):
            return port
    raise RuntimeError("no port free on both 127.0.0.1 and ::1")


def free_ports(count: int) -> List[int]:
    """`count` distinct free ports."""
    ports: List[int] = []
    while len(ports) < count:
        ports.append(free_port(avoid=ports))
    return ports


def wait_port_free(port: int, timeout: float = 10.0) -> bool:
    """Wait until nothing holds `port` on 127.0.0.1 and ::1; False on timeout."""
    deadline = time.monotonic() + timeout
    while not port_is_free(port):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


@dataclasses.dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


def _check_loopback(url: str) -> None:
    host = urllib.parse.urlsplit(url).hostname
    if host not in LOOPBACK_HOSTS:
        raise ValueError(f"refusing non-loopback URL {url!r}")


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never a proxy


def http_request(
    url: str,
    method: str = "GET",
    data: Optional[bytes] = None,
    headers: Optional[Mapping[str, str]] = None,
    timeout: float = 5.0,
) -> HttpResponse:
    """One request to a loopback URL; HTTP error statuses are returned, not raised."""
    _check_loopback(url)
    request = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return HttpResponse(response.status, dict(response.headers), response.read())
    except urllib.error.HTTPError as error:
        return HttpResponse(error.code, dict(error.headers), error.read())


def wait_for_http(url: str, timeout: float, proc: Optional[Proc] = None) -> HttpResponse:
    """Poll a loopback URL until any HTTP response comes back; return it.

    With `proc`, fail at once (showing its output) if that process dies first.
    """
    _check_loopback(url)
    deadline = time.monotonic() + timeout
    last: object = None
    while True:
        try:
            return http_request(url, timeout=min(5.0, max(0.5, deadline - time.monotonic())))
        except (OSError, urllib.error.URLError) as error:
            last = error
        if proc is not None and proc.popen.poll() is not None and not _group_alive(proc.pid):
            pytest.fail(
                f"{proc.describe()} ended before {url} answered; output:\n{proc.tail()}",
                pytrace=False,
            )
        if time.monotonic() > deadline:
            where = f"; output of {proc.describe()}:\n{proc.tail()}" if proc else ""
            pytest.fail(f"{url} did not answer within {timeout:.0f} s ({last}){where}",
                        pytrace=False)
        time.sleep(0.1)


# ---------------------------------------------------------------------------
# the impostor: what macOS AirPlay Receiver looks like on *:5000

IMPOSTOR_SCRIPT = textwrap.dedent(
    r'''
    import http.server, socket, sys

    class Server(http.server.HTTPServer):
        address_family = socket.AF_INET6

        def server_bind(self):
            self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            super().server_bind()

    class Handler(http.server.BaseHTTPRequestHandler):
        def version_string(self):
            return SERVER

        def answer(self):
            print(f"{self.command} {self.path} from {self.client_address[0]}", flush=True)
            self.send_response(403)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = answer

        def log_message(self, *args):
            pass

    SERVER = sys.argv[2]
    server = Server(("::", int(sys.argv[1])), Handler)
    print(f"impostor listening on [::]:{sys.argv[1]} (v6only)", flush=True)
    server.serve_forever()
    '''
)


def impostor(port: int, log_dir: Optional[os.PathLike[str] | str] = None) -> Proc:
    """Start a process on [::]:port with IPV6_V6ONLY=1 that answers everything with 403.

    It sends `Server: AirTunes/595.13.1` like macOS AirPlay Receiver and prints
    "METHOD path from address" per request. Returns once it listens.
    """
    fd, script = tempfile.mkstemp(prefix="airtunes-", suffix=".py", dir=log_dir)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(IMPOSTOR_SCRIPT)  # a file, so `ps` and devlint show a readable command
    proc = start(
        [sys.executable, "-u", script, str(port), IMPOSTOR_SERVER],
        cwd=tempfile.gettempdir(),
        log_dir=log_dir,
    )
    wait_for_text(proc, "impostor listening", timeout=10)
    return proc


# ---------------------------------------------------------------------------
# the example stack


def _node_modules_dirs(root: Path) -> List[Path]:
    found: List[Path] = []
    for dirpath, dirnames, _ in os.walk(root):
        if "node_modules" in dirnames:
            found.append(Path(dirpath) / "node_modules")
            dirnames.remove("node_modules")
    return found


_COPY_IGNORE = shutil.ignore_patterns(
    "node_modules", ".angular", "dist", ".firebase", "*-debug.log", "__pycache__"
)


def copy_stack(tmp_path: Path) -> Path:
    """Copy examples/stack into tmp_path/"stack", symlinking (not copying) node_modules.

    Tests then edit ports freely in the copy. Returns the copy's root.
    """
    dest = Path(tmp_path) / "stack"
    shutil.copytree(STACK, dest, ignore=_COPY_IGNORE)
    for modules in _node_modules_dirs(STACK):
        (dest / modules.relative_to(STACK)).symlink_to(modules, target_is_directory=True)
    return dest


def replace_in_file(path: Path, old: str, new: str) -> None:
    """Replace `old` by `new` in a text file; fail when `old` is not there (stale helper)."""
    text = path.read_text(encoding="utf-8")
    if old not in text:
        pytest.fail(f"{path}: expected to find {old!r}", pytrace=False)
    path.write_text(text.replace(old, new), encoding="utf-8")


def set_firebase_ports(stack: Path, ports: Mapping[str, int]) -> None:
    """Rewrite emulators.<name>.port in the copy's firebase.json (e.g. {"auth": 40123})."""
    path = stack / "firebase.json"
    config = json.loads(path.read_text(encoding="utf-8"))
    emulators = config.setdefault("emulators", {})
    for name, port in ports.items():
        emulators.setdefault(name, {})["port"] = port
    path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")


#: Every emulator the example's `--only auth,hosting,functions` opens a port for
#: (functions also starts eventarc and tasks; the hub and logging always run).
FIREBASE_PORT_NAMES = ("auth", "functions", "hosting", "eventarc", "tasks", "hub", "logging")


def set_cors_origin(stack: Path, origin: str) -> None:
    """Point the example backend's CORS allow-list at `origin` (a test page's origin)."""
    replace_in_file(stack / "backend" / "app.py", '"http://localhost:4200"', json.dumps(origin))


# ---------------------------------------------------------------------------
# tools


def _missing(reason: str) -> None:
    if os.environ.get("CI", "").lower() not in ("", "0", "false", "no"):
        pytest.fail(f"{reason} (CI is set, so this is a failure, not a skip)", pytrace=False)
    pytest.skip(reason)


def require_tool(name: str) -> List[str]:
    """The argv prefix that runs `name`; skip (or, with env CI set, FAIL) when missing.

    Names: "chromium", "node" / "npm" / "npx", "flask" (this Python's Flask CLI, with
    flask-cors), "firebase" (the example's pinned CLI), "ng" (the example's Angular CLI).
    """
    if name == "chromium":
        for candidate in ("chromium", "chromium-browser", "google-chrome"):
            found = shutil.which(candidate)
            if found:
                return [found]
        _missing(f"chromium is not installed: {SETUP_HINT} (apt-get install chromium)")
    elif name in ("node", "npm", "npx"):
        found = shutil.which(name)
        if found:
            return [found]
        _missing(f"{name} is not installed (Node >= 20.19 is needed)")
    elif name == "flask":
        try:
            import flask  # noqa: F401
            import flask_cors  # noqa: F401
        except ImportError as error:
            _missing(f"{error.name} is not installed for {sys.executable}: pip install -e .[test]")
        script = Path(sys.executable).with_name("flask")
        return [str(script)] if script.exists() else [sys.executable, "-m", "flask"]
    elif name == "firebase":
        require_tool("node")
        binary = STACK / "node_modules" / ".bin" / "firebase"
        if binary.exists():
            return [str(binary)]
        _missing(f"the Firebase CLI is not installed in {binary.parent}: {SETUP_HINT}")
    elif name == "ng":
        require_tool("node")
        binary = STACK / "frontend" / "node_modules" / ".bin" / "ng"
        if binary.exists():
            return [str(binary)]
        _missing(f"the Angular CLI is not installed in {binary.parent}: {SETUP_HINT}")
    else:
        raise ValueError(f"unknown tool {name!r}")
    raise AssertionError("unreachable")  # _missing always raises


NG_ENV: Dict[str, str] = {"NG_CLI_ANALYTICS": "false", "CI": "true", "NO_COLOR": "1"}
FIREBASE_ENV: Dict[str, str] = {"NO_COLOR": "1", "FORCE_COLOR": "0"}

# ---------------------------------------------------------------------------
# the seed bug in a browser: a page that POSTs JSON cross-origin and shows the outcome

OUTCOME_ID = "outcome"

SEED_PAGE = """<!doctype html>
<html>
<head><meta charset="utf-8"><title>devlint seed-bug page</title></head>
<body>
<pre id="{outcome_id}">PENDING</pre>
<script>
(async () => {{
  const out = document.getElementById("{outcome_id}");
  try {{
    const response = await fetch({url}, {{
      method: "POST",
      headers: {{"Content-Type": "application/json"}},
      body: JSON.stringify({{from: "seed-page"}}),
    }});
    out.textContent = "OK " + response.status + " " + (await response.text());
  }} catch (error) {{
    out.textContent = "FAILED " + error;
  }}
}})();
</script>
</body>
</html>
"""


def write_seed_page(directory: Path, api_url: str) -> Path:
    """Write index.html whose script POSTs {"from": "seed-page"} to `api_url`.

    The outcome lands in <pre id="outcome">: "OK <status> <body>" or "FAILED <error>".
    """
    directory.mkdir(parents=True, exist_ok=True)
    page = directory / "index.html"
    page.write_text(
        SEED_PAGE.format(outcome_id=OUTCOME_ID, url=json.dumps(api_url)), encoding="utf-8"
    )
    return page


def serve_directory(directory: Path, port: int, bind: str = "127.0.0.1") -> Proc:
    """Serve `directory` with python's http.server on bind:port; return once it answers."""
    proc = start(
        [sys.executable, "-m", "http.server", str(port), "--bind", bind,
         "--directory", str(directory)],
        cwd=directory,
        log_dir=directory.parent,
    )
    host = f"[{bind}]" if ":" in bind else bind
    wait_for_http(f"http://{host}:{port}/", timeout=15, proc=proc)
    return proc


@dataclasses.dataclass(frozen=True)
class BrowserRun:
    dom: str  # what --dump-dom printed
    console: str  # Chromium's stderr: console messages such as CORS errors


def run_chromium(url: str, profile_dir: Path, timeout: float = 90.0) -> BrowserRun:
    """Load a loopback `url` in headless Chromium (fresh profile); return DOM and stderr."""
    _check_loopback(url)
    chromium = require_tool("chromium")
    profile_dir.mkdir(parents=True, exist_ok=True)
    cmd = [*chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile_dir}", url]
    proc = start(cmd, cwd=profile_dir, log_dir=profile_dir, separate_stderr=True)
    try:
        proc.popen.wait(timeout)
    except subprocess.TimeoutExpired:
        pytest.fail(
            f"chromium did not finish within {timeout:.0f} s:\n{proc.errors()[-3000:]}",
            pytrace=False,
        )
    finally:
        stop(proc, grace=5.0)
    return BrowserRun(dom=proc.output(), console=proc.errors())


def outcome_of(dom: str) -> str:
    """The text of <pre id="outcome"> in a dumped DOM (unescaped), or fail."""
    match = re.search(rf'<pre id="{OUTCOME_ID}">(.*?)</pre>', dom, re.S)
    if match is None:
        pytest.fail(f"no #{OUTCOME_ID} element in the page:\n{dom[-2000:]}", pytrace=False)
    return html.unescape(match.group(1))


def browser_fetch_outcome(page_url: str, profile_dir: Path) -> tuple[str, BrowserRun]:
    """Open the seed page in a fresh Chromium profile; return (outcome text, the run)."""
    run = run_chromium(page_url, profile_dir)
    return outcome_of(run.dom), run


@contextlib.contextmanager
def started(proc: Proc) -> Iterator[Proc]:
    """`with started(start(...)) as p:` stops p's group on exit, even when a test fails."""
    try:
        yield proc
    finally:
        stop(proc)


# ---------------------------------------------------------------------------
# devlint itself, and what a test needs to see about ports

#: devlint as this interpreter runs it (the installed package, not a stub).
DEVLINT = (sys.executable, "-m", "devlint")


def stack_env(stack: Path, tmp_path: Path) -> Dict[str, str]:
    """Environment for commands run in a stack copy: the venv's flask and devlint and the
    example's firebase and ng on PATH, a private devlint cache, no colour, no analytics."""
    bins = [
        Path(sys.executable).parent,  # not resolved: the venv's bin, with flask and devlint
        stack / "node_modules" / ".bin",
        stack / "frontend" / "node_modules" / ".bin",
    ]
    return {
        "PATH": os.pathsep.join([*(str(b) for b in bins), os.environ.get("PATH", "")]),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        **NG_ENV,
        **FIREBASE_ENV,
    }


@dataclasses.dataclass(frozen=True)
class Refusal:
    code: int
    stderr: str
    stdout: str

    @property
    def text(self) -> str:
        """stderr with its line wrapping undone, for phrases that span a wrapped line."""
        return " ".join(self.stderr.split())

    def json(self) -> Dict[str, object]:
        """devlint's --format json report (printed on stderr by `run`)."""
        start = self.stderr.find("{")
        end = self.stderr.rfind("}")
        try:
            data = json.loads(self.stderr[start:end + 1])
        except ValueError:
            pytest.fail(f"no JSON report on devlint's stderr:\n{self.stderr}", pytrace=False)
        assert isinstance(data, dict)
        return data


def devlint_refuses(
    args: Sequence[str], cwd: Path, env: Mapping[str, str], timeout: float = 60.0
) -> Refusal:
    """Run `devlint ARGS` expecting it to refuse: it must exit by itself (with 1) before
    `timeout`. If it is still running, it started the command: stop it and fail."""
    proc = start([*DEVLINT, *args], cwd=cwd, env=env, log_dir=cwd, separate_stderr=True)
    try:
        code = proc.popen.wait(timeout)
    except subprocess.TimeoutExpired:
        pytest.fail(
            f"devlint did not refuse: {proc.describe()} still running after {timeout:.0f} s; "
            f"output:\n{proc.tail()}\n{proc.errors()[-3000:]}",
            pytrace=False,
        )
    finally:
        stop(proc, grace=5.0)
    result = Refusal(code, proc.errors(), proc.output())
    assert code == 1, f"devlint exited {code}, expected 1 (refused):\n{result.stderr}{result.stdout}"
    assert "devlint: not starting" in result.stderr, result.stderr
    return result


def listener_pids(port: int) -> set[int]:
    """Pids of every process with a TCP socket listening on `port` (any address)."""
    import psutil

    return {
        conn.pid
        for conn in psutil.net_connections(kind="tcp")
        if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port
        and conn.pid is not None
    }


#: A plain listening socket in THIS process (the holder pid is os.getpid()).
hold = open_listener


def interrupt(proc: Proc, timeout: float = 20.0) -> bool:
    """Ctrl-C: SIGINT to the process group; True when every member exited by itself."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGINT)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        proc.popen.poll()
        if proc.popen.returncode is not None and not _group_alive(proc.pid):
            return True
        time.sleep(0.05)
    return False


def set_flask_port(stack: Path, port: int, old: int = 5000) -> None:
    """Move the example API from `old` to `port`: backend/.flaskenv and the Angular proxy
    target (devlint checks the whole stack: a proxy left on the old port is DL202)."""
    replace_in_file(stack / "backend" / ".flaskenv", f"FLASK_RUN_PORT={old}", f"FLASK_RUN_PORT={port}")
    replace_in_file(stack / "frontend" / "proxy.conf.json", f"http://127.0.0.1:{old}", f"http://127.0.0.1:{port}")


def set_web_port(stack: Path, port: int) -> None:
    """Move the Angular dev server to `port` (angular.json serve options)."""
    replace_in_file(stack / "frontend" / "angular.json", '"port": 4200', f'"port": {port}')
