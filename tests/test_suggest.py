"""Free-port suggestions, with real sockets: the nearest port free on 127.0.0.1 and ::1,
not used by the stack, not refused by browsers, and exactly where to change it."""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
from pathlib import Path
from typing import Dict, Iterator, List, Tuple

from devlint.addresses import BROWSER_RESTRICTED
from devlint.checks import findings_for, in_the_way
from devlint.model import Endpoint, Service, Source, Upstream
from devlint.sockets import scan
from devlint.suggest import port_is_free, suggest_port
from tests.listeners import candidate_port, open_listener
from tests.runner import devlint_env


def free_run(length: int) -> int:
    """A port P such that P .. P+length-1 are all free on both loopbacks."""
    for _ in range(200):
        start = candidate_port(length)
        if all(port_is_free(p) for p in range(start, start + length)):
            return start
    raise RuntimeError("no run of free ports")


@contextlib.contextmanager
def holding(*where: Tuple[str, int]) -> Iterator[List[socket.socket]]:
    socks = [open_listener(address, port) for address, port in where]
    try:
        yield socks
    finally:
        for sock in socks:
            sock.close()


def check_json(cwd: Path) -> Dict[str, object]:
    result = subprocess.run([sys.executable, "-m", "devlint", "--format", "json", "check"], cwd=cwd,
                            env=devlint_env(), capture_output=True, text=True, timeout=60)
    assert result.returncode == 1, result.stdout + result.stderr
    data = json.loads(result.stdout)
    assert isinstance(data, dict)
    return data


def test_skips_ports_taken_on_either_family_and_by_the_stack() -> None:
    p = free_run(6)
    with holding(("127.0.0.1", p), ("127.0.0.1", p + 1), ("::1", p + 2)):
        assert not port_is_free(p + 1) and not port_is_free(p + 2)
        assert suggest_port(p, taken=[p + 3]) == p + 4


def test_a_wildcard_listener_makes_a_port_unusable() -> None:
    p = free_run(3)
    with holding(("0.0.0.0", p + 1)):
        assert suggest_port(p) == p + 2


def test_never_a_port_browsers_refuse() -> None:
    for start in (6664, 10079, 5059, 4189):
        found = suggest_port(start, limit=50)
        assert found is not None and found not in BROWSER_RESTRICTED
    assert 10080 in BROWSER_RESTRICTED and 6666 in BROWSER_RESTRICTED and 5060 in BROWSER_RESTRICTED


def test_flask_hint_names_the_flaskenv_line(tmp_path: Path) -> None:
    p = free_run(3)
    (tmp_path / "app.py").write_text("from flask import Flask\napp = Flask(__name__)\n")
    (tmp_path / ".flaskenv").write_text(f"FLASK_APP=app\nFLASK_RUN_PORT={p}\n")
    with holding(("127.0.0.1", p), ("::1", p + 1)):
        data = check_json(tmp_path)
    (finding,) = [f for f in data["findings"] if f["code"] == "DL101"]  # type: ignore[attr-defined,index]
    assert finding["evidence"]["suggested_port"] == p + 2
    assert f"Port {p + 2} is free on 127.0.0.1 and ::1: .flaskenv: FLASK_RUN_PORT={p + 2}" in finding["hint"]
    assert "(now from .flaskenv:2 FLASK_RUN_PORT)" in finding["hint"]


def test_firebase_hint_names_the_emulator_key(tmp_path: Path) -> None:
    p = free_run(3)
    config = {"hosting": {"public": "public"}, "emulators": {"hosting": {"port": p}}}
    (tmp_path / "firebase.json").write_text(json.dumps(config))
    with holding(("127.0.0.1", p)):
        data = check_json(tmp_path)
    hints = " ".join(f["hint"] for f in data["findings"])  # type: ignore[attr-defined]
    assert f"Port {p + 1} is free on 127.0.0.1 and ::1: firebase.json: emulators.hosting.port = {p + 1}" in hints


def test_angular_hint_names_serve_options_port(tmp_path: Path) -> None:
    p = free_run(3)
    (tmp_path / "angular.json").write_text(json.dumps({"version": 1, "projects": {"web": {
        "projectType": "application",
        "architect": {"serve": {"builder": "@angular/build:dev-server", "options": {"port": p}}}}}}))
    with holding(("127.0.0.1", p), ("::1", p)):
        data = check_json(tmp_path)
    hints = " ".join(f["hint"] for f in data["findings"])  # type: ignore[attr-defined]
    assert f"Port {p + 1} is free on 127.0.0.1 and ::1: angular.json" in hints
    assert "serve.options.port" in hints


def test_the_proxy_target_must_follow_the_backend() -> None:
    p = free_run(3)
    api = Service("api", "flask", endpoints=(Endpoint("http", p, "127.0.0.1", fix=".flaskenv: FLASK_RUN_PORT={port}"),))
    web = Service("web", "angular", endpoints=(Endpoint("http", p + 2),), upstreams=(
        Upstream(f"http://localhost:{p}", "localhost", p, Source("file", "proxy.conf.json", 3, "/api.target"), "/api"),
    ))
    with holding(("127.0.0.1", p)):
        snapshot = scan([p])
        (finding,) = findings_for(in_the_way([api], snapshot), snapshot.platform, [api, web])
    assert finding.code == "DL101"
    assert (f"Port {p + 1} is free on 127.0.0.1 and ::1: .flaskenv: FLASK_RUN_PORT={p + 1}; the proxy target "
            f"must follow: proxy.conf.json:3 /api.target: http://localhost:{p} → http://localhost:{p + 1}."
            ) in finding.hint
