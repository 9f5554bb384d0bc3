"""`devlint probe` against real servers on loopback: Flask + flask-cors, an impostor on
[::]:P (v6only, `Server: AirTunes`), and a server whose two layers both add CORS headers."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Dict, Iterator, List

import pytest

from tests import stacks
from tests.runner import devlint

pytest.importorskip("flask")
pytest.importorskip("flask_cors")

ORIGIN = "http://localhost:4200"

APP = textwrap.dedent(
    """
    from flask import Flask, jsonify
    from flask_cors import CORS

    app = Flask(__name__)
    CORS(app, origins=["http://localhost:4200"])


    @app.route("/", methods=["GET", "POST"])
    def index():
        return jsonify(status="ok")
    """
)

# Two layers add Access-Control-Allow-Origin: flask-cors ("*") and a WSGI middleware.
DOUBLE_APP = textwrap.dedent(
    """
    from flask import Flask, jsonify
    from flask_cors import CORS

    app = Flask(__name__)
    CORS(app, send_wildcard=True)
    inner = app.wsgi_app


    def with_second_cors_layer(environ, start_response):
        def add_header(status, headers, exc_info=None):
            headers.append(("Access-Control-Allow-Origin", "http://localhost:4200"))
            return start_response(status, headers, exc_info)

        return inner(environ, add_header)


    app.wsgi_app = with_second_cors_layer


    @app.route("/", methods=["GET", "POST"])
    def index():
        return jsonify(status="ok")
    """
)






@pytest.fixture
def project(tmp_path: Path) -> Path:
    """An empty folder for one Flask app; _stop_started ends what was started in it."""
    folder = tmp_path / "api"
    folder.mkdir()
    return folder


@pytest.fixture(autouse=True)
def _stop_started() -> Iterator[None]:
    yield
    stacks.stop_all()


def start_flask(folder: Path, source: str, port: int) -> stacks.Proc:
    """`flask run` on 127.0.0.1:port from folder (app.py + .flaskenv), ready to answer."""
    (folder / "app.py").write_text(source)
    (folder / ".flaskenv").write_text(f"FLASK_APP=app\nFLASK_RUN_PORT={port}\n")
    flask = shutil.which("flask", path=os.path.dirname(sys.executable))
    if flask is None:
        pytest.skip("the flask command is not installed next to this Python")
    proc = stacks.start([flask, "run", "--host", "127.0.0.1", "--port", str(port)], cwd=folder,
                        log_dir=folder.parent)
    stacks.wait_for_http(f"http://127.0.0.1:{port}/", timeout=30, proc=proc)
    return proc


def answers_of(result: subprocess.CompletedProcess[str]) -> List[Dict[str, object]]:
    data = json.loads(result.stdout)
    (answers,) = data["probe"].values()
    assert isinstance(answers, list)
    return answers


def test_flask_and_impostor_are_both_named(project: Path) -> None:
    port = stacks.free_port()
    flask = start_flask(project, APP, port)
    impostor = stacks.impostor(port, log_dir=project.parent)

    result = devlint(project, "probe")
    assert result.returncode == 1, result.stdout + result.stderr
    out = result.stdout
    # which address reaches which process, with both pids
    assert f"127.0.0.1  → pid {flask.pid} " in out, out
    assert f"::1        → pid {impostor.pid} " in out, out
    assert "Server: AirTunes/595.13.1" in out
    assert "DL701" in out and "answered by different processes per address" in out
    assert "DL702" in out and "the preflight got HTTP 403" in out
    # the impostor really got the preflight, from ::1
    assert "OPTIONS / from ::1" in impostor.output()

    result = devlint(project, "--format", "json", "probe")
    assert result.returncode == 1
    by_address = {a["address"]: a for a in answers_of(result)}
    assert by_address["127.0.0.1"]["pid"] == flask.pid
    assert by_address["127.0.0.1"]["preflight_status"] == 200
    assert by_address["127.0.0.1"]["allow_origin"] == [ORIGIN]
    assert by_address["::1"]["pid"] == impostor.pid
    assert by_address["::1"]["preflight_status"] == 403
    assert by_address["::1"]["allow_origin"] == []


def test_two_cors_layers_report_both_values(project: Path) -> None:
    port = stacks.free_port()
    start_flask(project, DOUBLE_APP, port)

    result = devlint(project, "probe")
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"Access-Control-Allow-Origin: 2 values: *, {ORIGIN}" in result.stdout
    assert "several values" in result.stdout

    result = devlint(project, "--format", "json", "probe")
    by_address = {a["address"]: a for a in answers_of(result)}
    assert by_address["127.0.0.1"]["allow_origin"] == ["*", ORIGIN]


def test_healthy_flask_passes(project: Path) -> None:
    port = stacks.free_port()
    flask = start_flask(project, APP, port)

    result = devlint(project, "probe")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"127.0.0.1  → pid {flask.pid} " in result.stdout
    assert f"Access-Control-Allow-Origin: {ORIGIN}" in result.stdout
    assert "::1        connection refused" in result.stdout
    assert "DL70" not in result.stdout


def test_a_wrong_origin_is_reported(project: Path) -> None:
    port = stacks.free_port()
    start_flask(project, APP, port)

    result = devlint(project, "probe", "--origin", "http://localhost:4300")
    assert result.returncode == 1
    assert "DL702" in result.stdout
    assert "would fail the CORS preflight" in result.stdout


def test_nothing_running_is_a_warning_not_an_error(project: Path) -> None:
    port = stacks.free_port()
    (project / "app.py").write_text(APP)
    (project / ".flaskenv").write_text(f"FLASK_APP=app\nFLASK_RUN_PORT={port}\n")

    result = devlint(project, "probe")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "DL703" in result.stdout and f"nothing answers on port {port}" in result.stdout


def test_a_bad_path_is_a_usage_error(project: Path) -> None:
    (project / "app.py").write_text(APP)
    result = devlint(project, "probe", "--path", "health")
    assert result.returncode == 2
    assert "--path 'health'" in result.stderr
    assert "Traceback" not in result.stderr


def test_findings_name_a_known_culprit() -> None:
    from devlint.model import Endpoint, Listener, Service
    from devlint.probe import Answer, findings_for, preflight_problems

    flask = Answer("127.0.0.1", 5000, owner=Listener("127.0.0.1", 5000, 4, pid=700, process="flask"),
                   preflight_status=200, plain_status=200, server="Werkzeug/3.1", allow_origin=[ORIGIN],
                   allow_headers="content-type")
    airplay = Answer("::1", 5000, owner=Listener("::", 5000, 6, pid=512, process="ControlCenter"),
                     preflight_status=403, plain_status=403, server="AirTunes/595.13.1")
    for answer in (flask, airplay):
        answer.problems = preflight_problems(answer, ORIGIN)
    assert flask.problems == []
    service = Service("api", "flask", endpoints=(Endpoint("http", 5000, "127.0.0.1"),))
    found = findings_for(service, service.endpoints[0], [flask, airplay], ORIGIN, platform="darwin")
    assert [f.code for f in found] == ["DL701", "DL702"]
    assert found[0].message == ("api: port 5000 is answered by different processes per address: "
                                "127.0.0.1 → pid 700 (flask), Server: Werkzeug/3.1; "
                                "::1 → pid 512 (ControlCenter), Server: AirTunes/595.13.1")
    assert found[0].hint.startswith("macOS AirPlay Receiver (ControlCenter): ")
    assert "no Access-Control-Allow-Origin header" in found[1].message


@pytest.mark.parametrize("host, reason", [
    ("192.0.2.1", "not a loopback address"),   # TEST-NET-1: a literal address off this machine
    ("api.example.com", "a name devlint does not resolve"),
])
def test_a_host_off_loopback_is_not_probed_and_says_so(project: Path, host: str, reason: str) -> None:
    """probe contacts loopback only: a service on another host is reported as not probed
    (DL104), never as answering or silent."""
    port = stacks.free_port()
    (project / "app.py").write_text(APP)
    (project / ".flaskenv").write_text(f"FLASK_APP=app\nFLASK_RUN_PORT={port}\nFLASK_RUN_HOST={host}\n")

    result = devlint(project, "--format", "json", "probe")
    assert result.returncode == 0, result.stdout + result.stderr
    data = json.loads(result.stdout)
    (answers,) = data["probe"].values()
    assert answers == []
    (finding,) = data["findings"]
    assert finding["code"] == "DL104" and "not probed" in finding["message"] and reason in finding["message"]
    assert finding["evidence"]["host"] == host
