"""The Flask plugin: which port/host `flask run` and `python app.py` use, and where from.

Precedence is checked against Flask itself: the same scenario is resolved by devlint and by
the real Flask CLI (in a subprocess, with Werkzeug's run_simple replaced by a function that
prints what it was given), so no expected port here is one devlint computed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import pytest
from devlint_plugins.flask import hooks as plugin
from devlint_plugins.flask.checks import check as flask_check
from devlint_plugins.flask.detect import detect
from devlint_plugins.flask.services import service_for_command
from devlint_plugins.flask.settings import resolve_configured

from devlint.model import Command, Endpoint, Service, Source
from devlint.project import Project
from devlint.readers import dotenv as _dotenv


def make(tmp_path: Path, files: Mapping[str, Any], env: Optional[Dict[str, str]] = None,
         platform: str = "linux") -> Project:
    for name, content in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content), encoding="utf-8")
    return Project(tmp_path, env=env or {}, platform=platform)


def run(project: Project, *argv: str, cwd: str = ".", env: Optional[Dict[str, str]] = None) -> Service:
    service = service_for_command(Command(tuple(argv), cwd=cwd, env=env or {},
                                                 text=" ".join(argv)), project)
    assert service is not None, f"{argv} not recognised"
    return service


def endpoint(service: Service) -> Endpoint:
    (ep,) = service.endpoints
    return ep


def codes(service: Service) -> List[str]:
    return [f.code for f in service.diagnostics]


# -- command recognition ---------------------------------------------------------------------------

@pytest.mark.parametrize("argv", [
    ("flask", "run"),
    ("flask", "--app", "hello", "run"),
    ("flask", "--app=hello", "--debug", "run"),
    ("flask", "-A", "hello", "run", "--reload"),
    ("python", "-m", "flask", "run"),
    ("python3", "-m", "flask", "--app", "hello", "run"),
    ("python3.11", "-u", "-X", "dev", "-m", "flask", "run"),
    ("/usr/bin/python3", "-m", "flask", "run"),
    ("venv/bin/flask", "run"),
    ("venv\\Scripts\\flask", "run"),
    ("C:\\proj\\venv\\Scripts\\flask.exe", "run"),
    ("venv\\Scripts\\python.exe", "-m", "flask", "run"),
])
def test_recognises_every_form_of_flask_run(tmp_path: Path, argv: Tuple[str, ...]) -> None:
    service = run(make(tmp_path, {}), *argv)
    ep = endpoint(service)
    assert (service.kind, service.name, ep.port, ep.host) == ("flask", "flask", 5000, "127.0.0.1")
    assert ep.port_source.kind == "default" and ep.host_source.kind == "default"
    assert service.details["runner"] == "flask run"
    assert ep.fix.format(port=5050) == f".flaskenv: FLASK_RUN_PORT=5050 (or `--port 5050` in `{' '.join(argv)}`)"


@pytest.mark.parametrize("argv", [
    ("flask", "shell"), ("flask", "db", "upgrade"), ("flask", "--app", "run", "routes"), ("flask",),
    ("python", "-m", "http.server"), ("python", "-c", "import flask"), ("python",),
    ("python", "manage.py", "runserver"), ("node", "server.js"), ("uvicorn", "main:app"),
    ("python", "tool.py"), ("python", "fastapi_app.py"), (),
])
def test_other_commands_are_not_flask(tmp_path: Path, argv: Tuple[str, ...]) -> None:
    project = make(tmp_path, {
        "tool.py": "import subprocess\nsubprocess.run(['ls'])\n",
        "fastapi_app.py": "import uvicorn\nfrom fastapi import FastAPI\napp = FastAPI()\n"
                          "uvicorn.run(app, port=8000)\n",
    })
    command = Command(argv, text=" ".join(argv))
    assert service_for_command(command, project) is None
    assert plugin.devlint_command_services(command=command, project=project) is None


FILE_HOST = ".flaskenv:2 FLASK_RUN_HOST"


@pytest.mark.parametrize(("args", "port", "port_source", "host", "host_source"), [
    (("--port", "5001"), 5001, "flag --port 5001", "10.0.0.1", FILE_HOST),
    (("-p", "5002"), 5002, "flag -p 5002", "10.0.0.1", FILE_HOST),
    (("--port=5003",), 5003, "flag --port=5003", "10.0.0.1", FILE_HOST),
    (("-p5004",), 5004, "flag -p5004", "10.0.0.1", FILE_HOST),
    (("-p", "1", "--port", "5005"), 5005, "flag --port 5005", "10.0.0.1", FILE_HOST),
    (("--host", "0.0.0.0", "-p", "5006"), 5006, "flag -p 5006", "0.0.0.0", "flag --host 0.0.0.0"),
    (("-h", "::"), 7777, ".flaskenv:1 FLASK_RUN_PORT", "::", "flag -h ::"),
    (("--host=localhost", "--reload"), 7777, ".flaskenv:1 FLASK_RUN_PORT", "localhost", "flag --host=localhost"),
])
def test_run_flags_beat_files(tmp_path: Path, args: Tuple[str, ...], port: int, port_source: str,
                              host: str, host_source: str) -> None:
    project = make(tmp_path, {".flaskenv": "FLASK_RUN_PORT=7777\nFLASK_RUN_HOST=10.0.0.1\n"})
    ep = endpoint(run(project, "flask", "run", *args))
    assert (ep.port, str(ep.port_source), ep.host, str(ep.host_source)) == (port, port_source, host, host_source)


def test_flag_fix_rewrites_the_command(tmp_path: Path) -> None:
    ep = endpoint(run(make(tmp_path, {}), "flask", "--app", "hello", "run", "--port=5001", "--debug"))
    assert ep.fix.format(port=6001) == "flask --app hello run --port=6001 --debug"
    ep = endpoint(run(make(tmp_path, {}), "python3", "-m", "flask", "run", "-p", "5001"))
    assert ep.fix.format(port=6001) == "python3 -m flask run -p 6001"


def test_script_env_beats_process_env(tmp_path: Path) -> None:
    project = make(tmp_path, {".flaskenv": "FLASK_RUN_PORT=5001\n"}, env={"FLASK_RUN_PORT": "5200"})
    ep = endpoint(run(project, "flask", "run", env={"FLASK_RUN_PORT": "5100"}))
    assert ep.port == 5100 and ep.port_source == Source("command", "flask run", key="FLASK_RUN_PORT")
    ep = endpoint(run(project, "flask", "run"))
    assert ep.port == 5200 and ep.port_source == Source("env", "FLASK_RUN_PORT")
    assert ep.fix.format(port=1) == "FLASK_RUN_PORT=1 in the environment"


def test_dotenv_provenance_and_fix(tmp_path: Path) -> None:
    project = make(tmp_path, {"api/.flaskenv": "# api\nFLASK_APP=hello\n\nFLASK_RUN_PORT=5001\n"})
    service = run(project, "flask", "run", cwd="api")
    ep = endpoint(service)
    assert ep.port_source == Source("file", "api/.flaskenv", 4, "FLASK_RUN_PORT")
    assert str(ep.port_source) == "api/.flaskenv:4 FLASK_RUN_PORT"
    assert ep.fix.format(port=5050) == "api/.flaskenv: FLASK_RUN_PORT=5050"
    assert service.details["app"] == "hello" and service.details["app_source"] == "api/.flaskenv:2 FLASK_APP"
    assert service.path == "api"


def test_invalid_ports_are_findings_not_tracebacks(tmp_path: Path) -> None:
    service = run(make(tmp_path, {".flaskenv": "FLASK_RUN_PORT=abc\n"}), "flask", "run")
    assert service.endpoints == () and codes(service) == ["DL403"]
    assert ".flaskenv:1 FLASK_RUN_PORT" in service.diagnostics[0].message
    service = run(make(tmp_path, {}), "flask", "run", "--port", "70000")
    assert service.endpoints == () and codes(service) == ["DL403"]
    service = run(make(tmp_path, {}), "flask", "run", "--port", "0")
    assert service.endpoints == () and codes(service) == ["DL404"]


def test_debug_app_and_scheme_details(tmp_path: Path) -> None:
    project = make(tmp_path, {".flaskenv": "FLASK_DEBUG=1\nFLASK_RUN_CERT=adhoc\nFLASK_APP=web:create_app\n"})
    service = run(project, "flask", "run")
    assert service.details["debug"] is True and service.details["debug_source"] == ".flaskenv:1 FLASK_DEBUG"
    assert service.details["scheme"] == "https" and endpoint(service).name == "https"
    assert service.details["app"] == "web:create_app"
    service = run(project, "flask", "--no-debug", "--app", "other", "run")
    assert service.details["debug"] is False and service.details["debug_source"] == "flag --no-debug"
    assert service.details["app"] == "other" and service.details["app_source"] == "flag --app other"
    service = run(make(tmp_path, {".flaskenv": "FLASK_DEBUG=false\n"}), "flask", "run", "--cert", "c.pem")
    assert service.details["debug"] is False and service.details["scheme_source"] == "flag --cert c.pem"


# -- precedence, checked against the real Flask CLI ------------------------------------------------

ORACLE = """
import json, sys
import flask.cli
def fake_run_simple(host, port, app, **options):
    print(json.dumps({"host": host, "port": port, "https": options.get("ssl_context") is not None}))
flask.cli.run_simple = fake_run_simple
sys.argv = ["flask"] + json.loads(sys.argv[1])
flask.cli.main()
"""
HELLO = "from flask import Flask\napp = Flask(__name__)\n"

SCENARIOS: List[Tuple[str, Dict[str, str], Dict[str, str], Tuple[str, ...], str]] = [
    # (id, files, environment, flask args, cwd)
    ("flag-wins", {".flaskenv": "FLASK_RUN_PORT=5001", ".env": "FLASK_RUN_PORT=5002"},
     {"FLASK_RUN_PORT": "5003"}, ("run", "--port", "5004"), "."),
    ("env-beats-files", {".flaskenv": "FLASK_RUN_PORT=5001", ".env": "FLASK_RUN_PORT=5002"},
     {"FLASK_RUN_PORT": "5003"}, ("run",), "."),
    ("dotenv-beats-flaskenv", {".flaskenv": "FLASK_RUN_PORT=5001\nFLASK_RUN_HOST=127.0.0.2",
                               ".env": "FLASK_RUN_PORT=5002"}, {}, ("run",), "."),
    ("flaskenv", {".flaskenv": "FLASK_RUN_PORT=5001"}, {}, ("run",), "."),
    ("default", {}, {}, ("run",), "."),
    ("empty-env-var-still-wins", {".flaskenv": "FLASK_RUN_PORT=5001"}, {"FLASK_RUN_PORT": ""}, ("run",), "."),
    ("export-quotes-comment", {".flaskenv": 'export FLASK_RUN_PORT="5010" # dev\nFLASK_RUN_HOST=\'0.0.0.0\''},
     {}, ("run",), "."),
    ("expansion-file-wins", {".flaskenv": "BASE=51\nFLASK_RUN_PORT=${BASE}20"}, {"BASE": "52"}, ("run",), "."),
    ("expansion-default", {".flaskenv": "FLASK_RUN_PORT=${MISSING:-5030}"}, {}, ("run",), "."),
    ("env-cannot-see-flaskenv", {".flaskenv": "A=5040", ".env": "FLASK_RUN_PORT=${A}"}, {}, ("run",), "."),
    ("parent-folder", {".flaskenv": "FLASK_RUN_PORT=5050"}, {}, ("run",), "sub"),
    ("skip-dotenv", {".flaskenv": "FLASK_RUN_PORT=5001"}, {"FLASK_SKIP_DOTENV": "1"}, ("run",), "."),
    ("env-file-beats-dotenv", {".env": "FLASK_RUN_PORT=5002", "extra.env": "FLASK_RUN_PORT=5060"}, {},
     ("-e", "extra.env", "run"), "."),
    ("crlf", {".flaskenv": "FLASK_RUN_HOST=0.0.0.0\r\nFLASK_RUN_PORT=5070\r\n"}, {}, ("run",), "."),
    ("host-flag", {".flaskenv": "FLASK_RUN_HOST=0.0.0.0"}, {}, ("run", "-h", "127.0.0.3"), "."),
    ("empty-host", {".flaskenv": "FLASK_RUN_HOST=\nFLASK_RUN_PORT=5080"}, {}, ("run",), "."),
    ("key-without-value", {".flaskenv": "FLASK_RUN_PORT\nFLASK_RUN_HOST=127.0.0.4"}, {}, ("run",), "."),
    ("last-assignment-wins", {".flaskenv": "FLASK_RUN_PORT=5001\nFLASK_RUN_PORT=5090"}, {}, ("run",), "."),
]


def _oracle(root: Path, cwd: str, env: Dict[str, str], args: Sequence[str]) -> Dict[str, Any]:
    full_env = {"PATH": os.environ.get("PATH", ""), "HOME": str(root), "FLASK_APP": str(root / "hello.py"),
                **env}
    out = subprocess.run([sys.executable, "-c", ORACLE, json.dumps(list(args))], cwd=root / cwd,
                         env=full_env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    result: Dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.parametrize(("files", "env", "args", "cwd"),
                         [pytest.param(*s[1:], id=s[0]) for s in SCENARIOS])
def test_precedence_matches_real_flask(tmp_path: Path, files: Dict[str, str], env: Dict[str, str],
                                       args: Tuple[str, ...], cwd: str) -> None:
    pytest.importorskip("flask")
    pytest.importorskip("dotenv")
    (tmp_path / "sub").mkdir()
    (tmp_path / "hello.py").write_text(HELLO)
    for name, text in files.items():
        (tmp_path / name).write_bytes(text.encode())
    truth = _oracle(tmp_path, cwd, env, args)
    ours = endpoint(run(Project(tmp_path, env=env), "flask", *args, cwd=cwd))
    assert (ours.host, ours.port) == (truth["host"], truth["port"])


def test_flask_oracle_can_disagree(tmp_path: Path) -> None:
    """The oracle is live: it sees a change devlint is not told about."""
    pytest.importorskip("flask")
    (tmp_path / "hello.py").write_text(HELLO)
    (tmp_path / ".flaskenv").write_text("FLASK_RUN_PORT=5001\n")
    assert _oracle(tmp_path, ".", {}, ("run",))["port"] == 5001
    assert _oracle(tmp_path, ".", {"FLASK_RUN_PORT": "5123"}, ("run",))["port"] == 5123


# -- dotenv edge cases ----------------------------------------------------------------------------

def values(text: str, env: Optional[Dict[str, str]] = None) -> Dict[str, Optional[str]]:
    found, _, _ = _dotenv.values(text, (env or {}).get)
    return found


def test_dotenv_syntax() -> None:
    text = ('export A=1\n'
            "B='single # not a comment'\n"
            'C="double\\nline"  # comment\n'
            'D=unquoted value # comment\n'
            'E=a#b\n'
            'F = spaced\n'
            'G=\n'
            'H\n'
            '# I=commented\n'
            "J='it\\'s'\n"
            'K="multi\nline"\n'
            'L=${A}-${NOPE:-dflt}-${ENVVAR}\n')
    assert values(text, {"ENVVAR": "e", "A": "from-env"}) == {
        "A": "1", "B": "single # not a comment", "C": "double\nline", "D": "unquoted value",
        "E": "a#b", "F": "spaced", "G": "", "H": None, "J": "it's", "K": "multi\nline",
        "L": "1-dflt-e",
    }


def test_dotenv_lines_and_skipped_lines() -> None:
    found, lines, skipped = _dotenv.values('\n\nA=1\nnot valid line\nB="x\n', lambda _: None)
    assert found == {"A": "1"} and lines == {"A": 3} and skipped == (4, 5)


def test_crlf_and_cr_line_ends() -> None:
    assert values('A=1\r\nB="x"\r\nC=3\rD=4') == {"A": "1", "B": "x", "C": "3", "D": "4"}


def test_dotenv_parser_agrees_with_python_dotenv(tmp_path: Path) -> None:
    dotenv = pytest.importorskip("dotenv")
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    pieces = st.sampled_from(["DLX_A", "DLX_B", "=", " ", "\t", "#", '"', "'", "\\", "\n", "\r\n", "export ",
                              "${DLX_A}", "${DLX_C:-d}", "${", "}", "x", "5001", ":-", "$"])
    path = tmp_path / "fuzz.env"

    from importlib.metadata import version as distribution_version

    installed = tuple(int(part) for part in distribution_version("python-dotenv").split(".")[:3])

    @settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(pieces, max_size=30).map("".join))
    def check(text: str) -> None:
        path.write_bytes(text.encode())
        theirs = dict(dotenv.dotenv_values(path, encoding="utf-8"))
        found, _, _ = _dotenv.values(path.read_text(encoding="utf-8"), {}.get, version=installed)
        assert found == theirs

    check()


# What python-dotenv 1.2.3 and 1.2.4 changed, as those releases and 1.2.1 (the last one for
# Python 3.9) read it; the test above checks whichever release is installed (the CI run on
# Python 3.9 has 1.2.1).
@pytest.mark.parametrize(("text", "expected"), [
    ("A= # comment\n", {(1, 2, 1): "# comment", (1, 2, 3): "# comment", (1, 2, 4): ""}),
    ("A='x\\'\n", {(1, 2, 1): "x\\", (1, 2, 3): None, (1, 2, 4): None}),  # None: the line is skipped
    ('A="a\\\\"b"\n', {(1, 2, 1): 'a\\"b', (1, 2, 3): None, (1, 2, 4): None}),
    ("A=# not a comment\n", {(1, 2, 1): "# not a comment", (1, 2, 3): "# not a comment", (1, 2, 4): "# not a comment"}),
])
def test_what_python_dotenv_1_2_3_and_1_2_4_changed(text: str, expected: Dict[Tuple[int, ...], Optional[str]]) -> None:
    for version, value in expected.items():
        found, _, _ = _dotenv.values(text, {}.get, version=version)
        assert found.get("A") == value, version


def fake_venv(tmp_path: Path, dotenv_version: str, shebang: str = "") -> Dict[str, str]:
    """A virtual environment's layout as pip leaves it (bin/flask, site-packages); the PATH
    that finds its flask."""
    venv = tmp_path / "venv"
    (venv / "lib" / "python3.11" / "site-packages" / f"python_dotenv-{dotenv_version}.dist-info").mkdir(parents=True)
    (venv / "bin").mkdir()
    (venv / "bin" / "python").write_bytes(b"")
    (venv / "bin" / "flask").write_text((shebang or f"#!{venv}/bin/python") + "\nimport sys\n")
    return {"PATH": f"/nonexistent:{venv}/bin"}


PIP_SH_SHEBANG = "#!/bin/sh\n'''exec' \"{venv}/bin/python\" \"$0\" \"$@\"\n' '''"  # pip's form for long paths


@pytest.mark.parametrize("shebang", ["", PIP_SH_SHEBANG, "#!/usr/bin/env python", "#!/usr/bin/env -S python -u"],
                         ids=["#!python", "#!/bin/sh", "env", "env -S"])
def test_the_python_dotenv_next_to_flask_is_found(tmp_path: Path, shebang: str) -> None:
    env = fake_venv(tmp_path, "1.2.1", shebang.replace("{venv}", str(tmp_path / "venv")))
    project = make(tmp_path, {}, env)
    assert _dotenv.installed_version(project, "flask", ".", env["PATH"]) == (1, 2, 1)
    assert _dotenv.installed_version(project, "python", ".", env["PATH"]) == (1, 2, 1)
    assert _dotenv.installed_version(project, "flask", ".", "/nonexistent") is None


def test_a_shell_script_flask_tells_nothing(tmp_path: Path) -> None:
    """pyenv's shims are bash scripts: bash's prefix says nothing about flask's python-dotenv."""
    env = fake_venv(tmp_path, "1.2.1", "#!/usr/bin/env bash\nexec pyenv exec flask \"$@\"")
    (tmp_path / "venv" / "bin" / "bash").write_bytes(b"")  # found on PATH, in an environment with python-dotenv
    project = make(tmp_path, {}, env)
    assert _dotenv.installed_version(project, "flask", ".", env["PATH"]) is None


def test_the_python_dotenv_of_this_environment_is_found(tmp_path: Path) -> None:
    from importlib.metadata import version as distribution_version

    project = make(tmp_path, {})
    found = _dotenv.installed_version(project, "python", ".", os.path.dirname(sys.executable))
    assert found == tuple(int(part) for part in distribution_version("python-dotenv").split("."))


def test_bom_hides_the_first_variable_like_python_dotenv_before_1_2_3(tmp_path: Path) -> None:
    env = fake_venv(tmp_path, "1.2.1")
    project = make(tmp_path, {".flaskenv": b"\xef\xbb\xbfFLASK_RUN_PORT=5001\nFLASK_RUN_HOST=0.0.0.0\n"}, env)
    service = run(project, "flask", "run")
    ep = endpoint(service)
    assert (ep.port, ep.host) == (5000, "0.0.0.0")
    assert codes(service) == ["DL406"] and ".flaskenv:1" in service.diagnostics[0].message
    assert "python-dotenv 1.2.1 reads the first name as '\\ufeffFLASK_RUN_PORT'" in service.diagnostics[0].message


@pytest.mark.parametrize("installed", ["1.2.3", "1.2.4", None], ids=["1.2.3", "1.2.4", "not found: the latest rules"])
def test_bom_is_skipped_by_python_dotenv_1_2_3_and_later(tmp_path: Path, installed: Optional[str]) -> None:
    env = fake_venv(tmp_path, installed) if installed else {}
    project = make(tmp_path, {".flaskenv": b"\xef\xbb\xbfFLASK_RUN_PORT=5001\nFLASK_RUN_HOST=0.0.0.0\n"}, env)
    service = run(project, "flask", "run")
    ep = endpoint(service)
    assert (ep.port, ep.host) == (5001, "0.0.0.0")
    assert codes(service) == []


def test_non_utf8_flaskenv_is_a_finding_with_line(tmp_path: Path) -> None:
    project = make(tmp_path, {".flaskenv": b"FLASK_APP=app\nFLASK_RUN_PORT=5001 # caf\xe9\n"})
    service = run(project, "flask", "run")
    assert endpoint(service).port == 5000
    (finding,) = service.diagnostics
    assert finding.code == "DL400" and finding.severity.name == "ERROR"
    assert finding.message == "flask: .flaskenv:2 is not valid UTF-8 text"


def test_missing_and_directory_dotenv_files(tmp_path: Path) -> None:
    (tmp_path / ".env").mkdir()  # find_dotenv skips a folder named .env and keeps looking up
    service = run(make(tmp_path, {}), "flask", "run")
    assert endpoint(service).port == 5000 and service.diagnostics == ()


def test_unparsable_line_is_a_warning(tmp_path: Path) -> None:
    service = run(make(tmp_path, {".flaskenv": "FLASK_RUN_PORT: 5001\nFLASK_RUN_HOST=0.0.0.0\n"}),
                  "flask", "run")
    assert (endpoint(service).port, endpoint(service).host) == (5000, "0.0.0.0")
    assert codes(service) == ["DL405"] and ".flaskenv:1" in service.diagnostics[0].message


def test_missing_env_file_flag(tmp_path: Path) -> None:
    service = run(make(tmp_path, {}), "flask", "-e", "nope.env", "run")
    assert codes(service) == ["DL400"] and "nope.env" in service.diagnostics[0].message


# -- python app.py -----------------------------------------------------------------------------------

APP_RUN = """\
    import os
    from flask import Flask

    app = Flask(__name__)

    if __name__ == "__main__":
        app.run({args})
"""


@pytest.mark.parametrize(("args", "env", "port", "host", "port_source"), [
    ("", {}, 5000, "127.0.0.1", "default (app.run())"),
    ("port=5001", {}, 5001, "127.0.0.1", "app.py:7 app.run(port=)"),
    ("host='0.0.0.0', port=8080, debug=True", {}, 8080, "0.0.0.0", "app.py:7 app.run(port=)"),
    ("'0.0.0.0', 8081", {}, 8081, "0.0.0.0", "app.py:7 app.run(port=)"),
    ("port='5002'", {}, 5002, "127.0.0.1", "app.py:7 app.run(port=)"),
    ("port=int(os.environ.get('PORT', 5003))", {}, 5003, "127.0.0.1", "app.py:7 app.run(port=)"),
    ("port=int(os.environ.get('PORT', 5003))", {"PORT": "5100"}, 5100, "127.0.0.1", "environment PORT"),
    ("port=int(os.getenv('PORT') or 5004)", {}, 5004, "127.0.0.1", "app.py:7 app.run(port=)"),
    ("host=os.environ['HOST']", {"HOST": "::"}, 5000, "::", "default (app.run())"),
])
def test_app_run_literals(tmp_path: Path, args: str, env: Dict[str, str], port: int, host: str,
                          port_source: str) -> None:
    project = make(tmp_path, {"app.py": APP_RUN.format(args=args)}, env=env)
    for python in ("python", "python3", "py"):
        service = run(project, python, "app.py")
        ep = endpoint(service)
        assert (ep.port, ep.host, str(ep.port_source)) == (port, host, port_source)
        assert service.details["runner"] == "app.run" and service.diagnostics == ()


def test_app_run_fix_points_at_the_call(tmp_path: Path) -> None:
    ep = endpoint(run(make(tmp_path, {"app.py": APP_RUN.format(args="port=5001")}), "python", "app.py"))
    assert ep.fix.format(port=5050) == "app.py:7: app.run(port=5050)"


def test_app_run_ignores_flask_run_variables(tmp_path: Path) -> None:
    project = make(tmp_path, {"app.py": APP_RUN.format(args="debug=False"),
                              ".flaskenv": "FLASK_RUN_PORT=5001\nFLASK_DEBUG=1\n"},
                   env={"FLASK_RUN_HOST": "0.0.0.0"})
    service = run(project, "python", "app.py")
    ep = endpoint(service)
    assert (ep.port, ep.host) == (5000, "127.0.0.1")
    assert service.details["debug"] is False  # debug= given to run() beats FLASK_DEBUG
    assert codes(service) == ["DL407", "DL407"]
    assert "FLASK_RUN_PORT=5001 (.flaskenv:1 FLASK_RUN_PORT) is ignored" in service.diagnostics[0].message
    # Without debug=, app.run() loads .flaskenv and FLASK_DEBUG turns debug on.
    project = make(tmp_path, {"app.py": APP_RUN.format(args="")})
    assert run(project, "python", "app.py").details["debug"] is True


def test_app_run_non_literal_is_a_warning_with_the_default(tmp_path: Path) -> None:
    project = make(tmp_path, {"app.py": APP_RUN.format(args="port=settings.PORT, host=get_host()")})
    service = run(project, "python", "app.py")
    ep = endpoint(service)
    assert (ep.port, ep.host) == (5000, "127.0.0.1") and ep.port_source.kind == "default"
    assert codes(service) == ["DL404", "DL404"]
    assert service.diagnostics[0].message.startswith("flask: app.py:7: app.run(port=) is `settings.PORT`")


def test_app_run_server_name_and_constants(tmp_path: Path) -> None:
    project = make(tmp_path, {"app.py": """\
        from flask import Flask
        PORT = 5005
        app = Flask(__name__)
        app.config["SERVER_NAME"] = "localhost:8000"
        def main():
            app.run(port=PORT)
        """, "srv.py": """\
        from flask import Flask
        app = Flask(__name__)
        app.config.update(SERVER_NAME="0.0.0.0:8001")
        app.run()
        """})
    assert (endpoint(run(project, "python", "app.py")).port,
            str(endpoint(run(project, "python", "app.py")).port_source)) == (5005, "app.py:6 app.run(port=)")
    ep = endpoint(run(project, "python", "srv.py"))
    assert (ep.port, ep.host, str(ep.port_source)) == (8001, "0.0.0.0", "srv.py:3 SERVER_NAME")


def test_socketio_and_imported_app(tmp_path: Path) -> None:
    project = make(tmp_path, {"chat.py": """\
        from flask import Flask
        from flask_socketio import SocketIO
        app = Flask(__name__)
        socketio = SocketIO(app)
        if __name__ == "__main__":
            socketio.run(app, host="0.0.0.0", port=5006)
        """, "run.py": "from web import create_app\napp = create_app()\napp.run(port=5007)\n",
        "wsgi.py": "from web import app\nif __name__ == '__main__':\n    app.run(port=5008)\n"})
    ep = endpoint(run(project, "python", "chat.py"))
    assert (ep.port, ep.host) == (5006, "0.0.0.0")
    assert endpoint(run(project, "python", "run.py")).port == 5007
    assert endpoint(run(project, "python", "wsgi.py")).port == 5008


def test_unreadable_or_broken_scripts_do_not_crash(tmp_path: Path) -> None:
    project = make(tmp_path, {"bad.py": b"from flask import Flask\n# caf\xe9\n", "syntax.py": "app.run(port=\n",
                              "nul.py": b"app.run(port=1)\x00\n", "deep.py": "x = " + "(" * 5000 + ")" * 5000})
    for name in ("syntax.py", "nul.py", "deep.py", "absent.py"):
        assert service_for_command(Command(("python", name)), project) is None
    unreadable = service_for_command(Command(("python", "bad.py")), project)  # said, not taken as absent
    assert unreadable is not None and unreadable.endpoints == ()
    assert [(f.code, f.evidence) for f in unreadable.diagnostics] == [("DL400", {"file": "bad.py:2"})]


def test_flask_app_file_not_utf8_is_a_finding(tmp_path: Path) -> None:
    project = make(tmp_path, {"app.py": b"from flask import Flask\nfrom flask_cors import CORS\n# caf\xe9\n"})
    service = run(project, "flask", "run")
    (finding,) = service.diagnostics
    assert (finding.code, finding.message) == ("DL400", "flask: app.py:3 is not valid UTF-8 text")
    assert service.cors_origins is None and endpoint(service).port == 5000


BOOBY_TRAP = """\
import pathlib, sys
pathlib.Path({marker!r}).write_text("executed")
sys.exit("this file must never run")
from flask import Flask
from flask_cors import CORS
PORT = 5009
app = Flask(__name__)
CORS(app, origins=["http://localhost:4200"])
if __name__ == "__main__":
    app.run(port=PORT, host="0.0.0.0")
"""


def test_booby_trapped_app_is_never_executed(tmp_path: Path) -> None:
    marker = tmp_path.parent / f"{tmp_path.name}-EXECUTED"
    project = make(tmp_path, {"app.py": BOOBY_TRAP.format(marker=str(marker)),
                              "pkg/__init__.py": BOOBY_TRAP.format(marker=str(marker)),
                              ".flaskenv": "FLASK_APP=app.py\n"})
    modules = set(sys.modules)
    service = run(project, "python", "app.py")
    assert (endpoint(service).port, endpoint(service).host) == (5009, "0.0.0.0")
    assert service.cors_origins == ("http://localhost:4200",)
    assert run(project, "flask", "run").cors_origins == ("http://localhost:4200",)
    assert run(project, "flask", "--app", "pkg:create_app", "run").cors_origins == ("http://localhost:4200",)
    assert detect(project) is not None
    assert not marker.exists()
    assert set(sys.modules) - modules == set()


# -- flask-cors -----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("source", "origins", "line"), [
    ("CORS(app)", ("*",), 4),
    ("CORS(app, origins='http://localhost:4200')", ("http://localhost:4200",), 4),
    ("CORS(app, origins=['http://localhost:4200', 'http://127.0.0.1:4200'])",
     ("http://localhost:4200", "http://127.0.0.1:4200"), 4),
    ("CORS(app, resources={r'/api/*': {'origins': ['http://localhost:3000']}, r'/x': {}})",
     ("http://localhost:3000", "*"), 4),
    ("CORS(app, resources=r'/api/*', origins=ORIGINS)", ("http://a.test", "http://b.test"), 4),
    ("CORS(app, origins=[re.compile(r'http://localhost:\\d+')])", ("http://localhost:\\d+",), 4),
    ("cors = CORS()\ncors.init_app(app, origins=['http://localhost:5173'])", ("http://localhost:5173",), 5),
    ("@app.route('/')\n@cross_origin(origins=['http://localhost:8080'])\ndef index(): return ''",
     ("http://localhost:8080",), 5),
    ("@app.route('/')\n@cross_origin\ndef index(): return ''", ("*",), 5),
    ("app.config['CORS_ORIGINS'] = ['http://c.test']\nCORS(app)", ("http://c.test",), 5),
])
def test_cors_origins(tmp_path: Path, source: str, origins: Tuple[str, ...], line: int) -> None:
    text = ("import re\nfrom flask import Flask\nfrom flask_cors import CORS, cross_origin\n"
            "app = Flask(__name__)\nORIGINS = ['http://a.test', 'http://b.test']\n" + source + "\n")
    text = text.replace("app = Flask(__name__)\nORIGINS", "ORIGINS").replace(
        "from flask_cors import CORS, cross_origin\n", "from flask_cors import CORS, cross_origin\n"
        "app = Flask(__name__)\n")
    service = run(make(tmp_path, {"app.py": text}), "flask", "run")
    assert service.cors_origins == origins
    assert service.cors_source.kind == "file" and service.cors_source.where == "app.py"
    assert service.cors_source.line == line + 2
    assert service.diagnostics == ()


def test_cors_in_an_imported_extensions_module(tmp_path: Path) -> None:
    project = make(tmp_path, {
        "web/__init__.py": "from flask import Flask\nfrom .extensions import cors\n\ndef create_app():\n"
                           "    app = Flask(__name__)\n    cors.init_app(app, resources={'/api/*': "
                           "{'origins': 'http://localhost:4200'}})\n    return app\n",
        "web/extensions.py": "from flask_cors import CORS\ncors = CORS()\n",
        ".flaskenv": "FLASK_APP=web:create_app\n"})
    service = run(project, "flask", "run")
    assert service.cors_origins == ("http://localhost:4200",)
    assert str(service.cors_source) == "web/__init__.py:6 init_app(origins=)"


def test_cors_unknown_or_unreadable(tmp_path: Path) -> None:
    project = make(tmp_path, {"app.py": "from flask import Flask\napp = Flask(__name__)\n"})
    assert run(project, "flask", "run").cors_origins is None
    project = make(tmp_path, {"app.py": "import os\nfrom flask import Flask\nfrom flask_cors import CORS\n"
                                        "app = Flask(__name__)\nCORS(app, origins=os.environ['O'].split(','))\n"})
    service = run(project, "flask", "run")
    assert service.cors_origins is None and codes(service) == ["DL408"]
    assert "app.py:5" in service.diagnostics[0].message


# -- checks ----------------------------------------------------------------------------------------

def checks(service: Service, platform: str = "linux") -> List[str]:
    return [f.code for f in flask_check(service, platform)]


@pytest.mark.parametrize(("files", "argv", "expected"), [
    ({".flaskenv": "FLASK_DEBUG=1"}, ("flask", "run", "--host", "0.0.0.0"), ["DL401"]),
    ({".flaskenv": "FLASK_RUN_HOST=::"}, ("flask", "--debug", "run"), ["DL401"]),
    ({".flaskenv": "FLASK_DEBUG=true\nFLASK_RUN_HOST=0.0.0.0"}, ("flask", "run"), ["DL401"]),
    ({".flaskenv": "FLASK_DEBUG=0\nFLASK_RUN_HOST=0.0.0.0"}, ("flask", "run"), []),
    ({".flaskenv": "FLASK_DEBUG=false\nFLASK_RUN_HOST=0.0.0.0"}, ("flask", "run"), []),
    ({".flaskenv": "FLASK_DEBUG=1"}, ("flask", "run"), []),
    ({".flaskenv": "FLASK_DEBUG=1"}, ("flask", "run", "--host", "0.0.0.0", "--no-debugger"), []),
    ({"app.py": APP_RUN.format(args="host='0.0.0.0', debug=True")}, ("python", "app.py"), ["DL401"]),
])
def test_debug_on_public_host(tmp_path: Path, files: Dict[str, str], argv: Tuple[str, ...],
                              expected: List[str]) -> None:
    service = run(make(tmp_path, files), *argv)
    assert checks(service, "linux") == expected


def test_debug_warning_text(tmp_path: Path) -> None:
    service = run(make(tmp_path, {".flaskenv": "FLASK_DEBUG=1\n"}), "flask", "run", "-h", "0.0.0.0")
    (finding,) = plugin.devlint_check_service(service=service, project=make(tmp_path, {})) or []
    assert finding.severity.name == "WARNING"
    assert finding.message.startswith("flask: debug mode is on (.flaskenv:1 FLASK_DEBUG) and the server "
                                      "listens on 0.0.0.0 (flag -h 0.0.0.0)")


@pytest.mark.parametrize(("argv", "platform", "expected"), [
    (("flask", "run"), "darwin", ["DL402"]),
    (("flask", "run", "-p", "7000"), "darwin", ["DL402"]),
    (("flask", "run", "-p", "5001"), "darwin", []),
    (("flask", "run"), "linux", []),
])
def test_airplay_ports_on_macos(tmp_path: Path, argv: Tuple[str, ...], platform: str,
                                expected: List[str]) -> None:
    project = make(tmp_path, {}, platform=platform)
    service = run(project, *argv)
    found = list(plugin.devlint_check_service(service=service, project=project) or [])
    assert [f.code for f in found] == expected
    if found:
        assert "AirDrop & Handoff → AirPlay Receiver" in found[0].hint
        assert found[0].severity.name == "INFO"
        assert "--port 5050" in found[0].hint or "-p 5050" in found[0].hint


def test_checks_ignore_other_kinds(tmp_path: Path) -> None:
    from devlint.manager import PluginHost  # the host routes per-service hooks by kind (no guard in the plugin)

    other = Service("web", kind="angular", endpoints=(Endpoint("http", 5000, "0.0.0.0"),),
                    details={"debug": True})
    found = PluginHost().check_service(other, make(tmp_path, {}, platform="darwin"))
    assert [f.code for f in found if f.code.startswith("DL4")] == []


# -- devlint.toml services, detection, registration ---------------------------------------------------

def configured(settings: Dict[str, Any], path: str = "backend") -> Service:
    """A service as the core builds it from devlint.toml (config.py)."""
    source = Source("file", "devlint.toml", 2, "services.api")
    endpoints: Tuple[Endpoint, ...] = ()
    if "port" in settings:
        endpoints = (Endpoint("http", settings["port"], settings.get("host", "localhost"),
                              Source("file", "devlint.toml", 4, "services.api.port"),
                              Source("file", "devlint.toml", 5, "services.api.host") if "host" in settings
                              else Source("default"), fix="devlint.toml: services.api.port = {port}"),)
    return Service("api", kind="flask", endpoints=endpoints, path=path, source=source,
                   settings={"kind": "flask", **settings})


def test_resolve_reads_flask_files(tmp_path: Path) -> None:
    project = make(tmp_path, {"backend/.flaskenv": "FLASK_RUN_PORT=5001\nFLASK_RUN_HOST=0.0.0.0\n"})
    resolved = plugin.devlint_resolve_service(service=configured({}), project=project)
    assert resolved is not None and resolved.name == "api" and resolved.source.where == "devlint.toml"
    ep = endpoint(resolved)
    assert (ep.port, ep.host, str(ep.port_source)) == (5001, "0.0.0.0", "backend/.flaskenv:1 FLASK_RUN_PORT")


def test_resolve_devlint_toml_wins(tmp_path: Path) -> None:
    project = make(tmp_path, {"backend/.flaskenv": "FLASK_RUN_PORT=5001\nFLASK_RUN_HOST=0.0.0.0\n"})
    resolved = resolve_configured(configured({"port": 6000}), project)
    ep = endpoint(resolved)
    assert (ep.port, str(ep.port_source), ep.fix) == (6000, "devlint.toml:4 services.api.port",
                                                       "devlint.toml: services.api.port = {port}")
    assert (ep.host, str(ep.host_source)) == ("0.0.0.0", "backend/.flaskenv:2 FLASK_RUN_HOST")
    ep = endpoint(resolve_configured(configured({"port": 6000, "host": "127.0.0.1"}), project))
    assert (ep.host, str(ep.host_source)) == ("127.0.0.1", "devlint.toml:5 services.api.host")


def test_resolve_settings_app_debug_and_command(tmp_path: Path) -> None:
    project = make(tmp_path, {"backend/.flaskenv": "FLASK_APP=other\nFLASK_DEBUG=0\n",
                              "backend/app.py": APP_RUN.format(args="port=5011")})
    resolved = resolve_configured(configured({"app": "web:create_app", "debug": True}), project)
    assert resolved.details["app"] == "web:create_app"
    assert resolved.details["app_source"] == "devlint.toml:2 services.api.app"
    assert resolved.details["debug"] is True
    resolved = resolve_configured(configured({"command": "python app.py"}), project)
    assert endpoint(resolved).port == 5011 and resolved.details["runner"] == "app.run"
    resolved = resolve_configured(configured({"command": "FLASK_RUN_PORT=5012 flask run"}), project)
    assert endpoint(resolved).port == 5012
    bad = resolve_configured(configured({"debug": "yes", "app": 3}), project)
    assert [f.code for f in bad.diagnostics] == ["DL409", "DL409"]
    assert bad.diagnostics[0].message == "devlint.toml:2: services.api.app: expected a string such as " \
                                         "\"app:create_app\", got the number 3"
    from devlint.manager import PluginHost  # the host routes per-service hooks by kind (no guard in the plugin)

    assert "runner" not in PluginHost().resolve_service(Service("x", kind="angular"), project).details


def test_detect(tmp_path: Path) -> None:
    assert plugin.devlint_detect_services(project=make(tmp_path / "a", {".flaskenv": "SECRET=1\n"})) is None
    found = plugin.devlint_detect_services(project=make(tmp_path / "b", {".flaskenv": "X=1\nFLASK_RUN_PORT=5001\n"}))
    assert found is not None and endpoint(found[0]).port == 5001
    assert str(found[0].source) == ".flaskenv:2 FLASK_RUN_PORT"
    found = plugin.devlint_detect_services(project=make(tmp_path / "c", {"app.py": "x = 1\nimport flask\n"}))
    assert found is not None and str(found[0].source) == "app.py:2 import flask"
    assert plugin.devlint_detect_services(project=make(tmp_path / "d", {"app.py": "import django\n"})) is None
    assert plugin.devlint_detect_services(project=make(tmp_path / "e", {"app.py": b"\xff\xfe"})) is None


def test_registered_through_the_plugin_host(tmp_path: Path) -> None:
    from devlint.manager import PluginHost

    host = PluginHost()
    assert any(info.name == "flask" and "devlint_command_services" in info.hooks for info in host.infos)
    assert host.service_kinds()["flask"].keys() == {"app", "debug"}
    project = make(tmp_path, {".flaskenv": "FLASK_RUN_PORT=5001\n"})
    (service,) = host.command_services(Command(("flask", "run"), text="flask run"), project) or ()
    assert endpoint(service).port == 5001
    assert str(tmp_path / ".flaskenv") in project.files_read
    assert "FLASK_RUN_PORT" in project.env_read
