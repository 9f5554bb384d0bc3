"""The Firebase emulator plugin: what `firebase emulators:*` will listen on, and why.

Real files in temp folders, read through Project; a real process for explain_listener.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Dict, Optional, Sequence

import pytest
from devlint_plugins.firebase import hooks as firebase
from devlint_plugins.firebase.config import js_parse_int
from devlint_plugins.firebase.processes import emulator_process

from devlint.model import Command, Endpoint, Listener, Service, Severity, Source
from devlint.project import Project


def write(folder: Path, text: str, name: str = "firebase.json") -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def run(folder: Path, *argv: str, env: Optional[Dict[str, str]] = None, cwd: str = ".") -> Service:
    services = firebase.devlint_command_services(Command(tuple(argv), cwd=cwd), Project(folder, env=env or {}))
    assert services is not None and len(services) == 1
    return services[0]


def endpoints(service: Service) -> Dict[str, Endpoint]:
    return {ep.name: ep for ep in service.endpoints}


# -- reading firebase.json ---------------------------------------------------------------

def test_comments_trailing_commas_and_string_ports(tmp_path: Path) -> None:
    write(tmp_path, """{
  // emulators for local dev
  "emulators": {
    /* auth on a custom port */
    "auth": { "port": "9199", },
    "firestore": {
      "port": 8181,
      "host": "127.0.0.1",
      "websocketPort": 9151,
    },
  },
}
""")
    service = run(tmp_path, "firebase", "emulators:start", "--project", "demo-x")
    eps = endpoints(service)
    assert eps["auth"].port == 9199
    assert eps["auth"].port_source == Source("file", "firebase.json", 5, "emulators.auth.port")
    assert eps["auth"].fix.format(port=9300) == "firebase.json: emulators.auth.port = 9300"
    assert not eps["auth"].auto_moves
    assert eps["firestore"].port == 8181 and eps["firestore"].host == "127.0.0.1"
    assert eps["firestore"].host_source.line == 8
    ws = eps["firestore.websocket"]
    assert (ws.port, ws.host, ws.port_source.line, ws.auto_moves) == (9151, "127.0.0.1", 9, False)
    assert ws.fix.format(port=1) == "firebase.json: emulators.firestore.websocketPort = 1"
    assert service.diagnostics == ()


def test_defaults_and_bind_addresses(tmp_path: Path) -> None:
    write(tmp_path, '{"emulators": {"auth": {}, "firestore": {}}}')
    service = run(tmp_path, "firebase", "emulators:start", "--project", "demo-x")
    eps = endpoints(service)
    expected = {"hub": 4400, "ui": 4000, "logging": 4500, "auth": 9099, "firestore": 8080,
                "firestore.websocket": 9150}
    assert {name: ep.port for name, ep in eps.items()} == expected
    for ep in eps.values():
        assert ep.port_source.kind == "default" and ep.port_source.where == "firebase-tools default"
        assert ep.host == "localhost"
    # firebase-tools resolves localhost to 127.0.0.1 then ::1; only hub and UI listen on both.
    assert eps["hub"].binds == ("127.0.0.1", "::1") and eps["ui"].binds == ("127.0.0.1", "::1")
    assert eps["auth"].binds == ("127.0.0.1",) and eps["firestore.websocket"].binds == ("127.0.0.1",)
    # Who moves by itself when its default port is busy (FIND_AVAILBLE_PORT_BY_DEFAULT).
    assert {n for n, ep in eps.items() if ep.auto_moves} == {"hub", "ui", "logging", "firestore.websocket"}
    assert service.details["emulators"] == ["hub", "ui", "logging", "auth", "firestore"]
    assert service.details["project"] == "demo-x"


def test_explicit_port_stops_auto_move(tmp_path: Path) -> None:
    write(tmp_path, '{"hosting": {"public": "p"}, "emulators": {"hosting": {"port": 5000}, "hub": {}}}')
    eps = endpoints(run(tmp_path, "firebase", "emulators:start"))
    assert eps["hosting"].auto_moves is False  # a set port is fixed, even at the default
    assert eps["hub"].auto_moves is True


@pytest.mark.parametrize("value,severity,fragment", [
    ('"abc"', Severity.ERROR, 'the string "abc"'),
    ("true", Severity.ERROR, "got true"),
    ("70000", Severity.ERROR, "from 1 to 65535"),
    ('"9100abc"', Severity.WARNING, "reads it as 9100"),
    ("false", Severity.WARNING, "uses 9099"),
])
def test_wrong_port_types_name_key_and_line(tmp_path: Path, value: str, severity: Severity,
                                             fragment: str) -> None:
    write(tmp_path, '{\n  "emulators": {\n    "auth": {\n      "port": ' + value + "\n    }\n  }\n}\n")
    service = run(tmp_path, "firebase", "emulators:start", "--project", "demo-x")
    problems = [f for f in service.diagnostics if f.code == "DL502"]
    assert len(problems) == 1, service.diagnostics
    assert problems[0].severity is severity
    assert problems[0].message.startswith("firebase.json:4: emulators.auth.port: ")
    assert fragment in problems[0].message
    auth = endpoints(service)["auth"]
    assert auth.port == (9100 if "9100" in value else 9099)


def test_emulators_not_an_object(tmp_path: Path) -> None:
    write(tmp_path, '{\n  "hosting": {"public": "p"},\n  "emulators": ["auth"]\n}\n')
    service = run(tmp_path, "firebase", "emulators:start")
    bad = [f for f in service.diagnostics if f.code == "DL502"]
    assert bad and bad[0].severity is Severity.ERROR
    assert bad[0].message.startswith("firebase.json:3: emulators: expected an object of emulators, got an array")
    # firebase-tools still starts hosting: configured at the top level.
    assert "hosting" in endpoints(service)


def test_invalid_json_is_a_finding_with_file_line_column(tmp_path: Path) -> None:
    write(tmp_path, '{\n  "emulators": {\n    "auth": {"port": 9099,,}\n  }\n}\n')
    service = run(tmp_path, "firebase", "emulators:start")
    assert service.endpoints == ()
    (finding,) = service.diagnostics
    assert finding.code == "DL501" and finding.severity is Severity.ERROR
    assert finding.message.startswith("firebase.json:3:")
    assert finding.evidence["line"] == 3


def test_not_utf8_and_missing_files(tmp_path: Path) -> None:
    app = tmp_path / "app"
    app.mkdir()
    (app / "firebase.json").write_bytes(b'{"emulators": {"auth": {"host": "\xff"}}}')
    (finding,) = run(app, "firebase", "emulators:start").diagnostics
    assert finding.code == "DL501" and "firebase.json:1 is not valid UTF-8" in finding.message
    # A sibling folder: firebase-tools looks for firebase.json upwards, so not below app/.
    empty = tmp_path / "empty"
    empty.mkdir()
    (missing,) = run(empty, "firebase", "emulators:start").diagnostics
    assert missing.code == "DL501" and "Not in a Firebase app directory" in missing.message
    (gone,) = run(app, "firebase", "emulators:start", "--config", "nope.json").diagnostics
    assert gone.code == "DL501" and "nope.json does not exist" in gone.message


def test_missing_emulators_block(tmp_path: Path) -> None:
    write(tmp_path, '{"firestore": {"rules": "r"}}')
    project = Project(tmp_path, env={})
    assert firebase.devlint_detect_services(project) is None  # nothing to detect
    # But `emulators:start` starts every product configured at the top level.
    eps = endpoints(run(tmp_path, "firebase", "emulators:start"))
    assert set(eps) == {"hub", "ui", "logging", "firestore", "firestore.websocket"}
    write(tmp_path, '{"hosting": {"public": "p"}}', "only-hosting/firebase.json")
    eps = endpoints(run(tmp_path, "firebase", "emulators:start", cwd="only-hosting"))
    assert set(eps) == {"hub", "logging", "hosting"}  # the UI starts only next to an emulator it shows
    write(tmp_path, "{}", "nothing/firebase.json")
    (finding,) = run(tmp_path, "firebase", "emulators:start", cwd="nothing").diagnostics
    assert finding.code == "DL507" and finding.severity is Severity.ERROR


# -- the command line --------------------------------------------------------------------

FULL = """{
  "functions": {"source": "functions"},
  "hosting": [{"target": "web", "public": "a"}, {"target": "admin", "public": "b"}],
  "emulators": {
    "auth": {"port": 9099},
    "functions": {"port": 5001},
    "hosting": {"port": 5000},
    "firestore": {"port": 8080},
    "ui": {"enabled": true}
  }
}
"""


@pytest.mark.parametrize("argv,expected", [
    (("firebase", "emulators:start"),
     {"hub", "ui", "logging", "auth", "firestore", "firestore.websocket", "hosting", "hosting[admin]",
      "functions", "eventarc", "tasks"}),
    (("firebase", "emulators:start", "--only", "auth,hosting"),
     {"hub", "ui", "logging", "auth", "hosting", "hosting[admin]"}),
    (("firebase", "emulators:start", "--only=hosting:admin"), {"hub", "logging", "hosting"}),
    (("firebase", "emulators:start", "--only", "hosting:web,hosting:admin"),
     {"hub", "logging", "hosting", "hosting[admin]"}),
    (("node_modules/.bin/firebase", "--project", "demo-y", "emulators:start", "--only", "functions"),
     {"hub", "ui", "logging", "functions", "eventarc", "tasks"}),
    (("firebase-tools", "emulators:exec", "--only", "auth", "npm test"), {"hub", "logging", "auth"}),
    (("firebase", "emulators:exec", "--ui", "--only", "auth", "npm test"), {"hub", "ui", "logging", "auth"}),
])
def test_only_and_command_forms(tmp_path: Path, argv: Sequence[str], expected: set) -> None:  # type: ignore[type-arg]
    write(tmp_path, FULL)
    service = run(tmp_path, *argv)
    assert set(endpoints(service)) == expected
    assert service.name == "firebase" and service.kind == "firebase"


def test_hosting_on_5001_moves(tmp_path: Path) -> None:
    write(tmp_path, '{"hosting": {"public": "p"},\n "emulators": {"hosting": {"port": 5001}}}')
    (finding,) = run(tmp_path, "firebase", "emulators:start").diagnostics
    assert (finding.code, finding.severity, dict(finding.evidence)) == ("DL506", Severity.WARNING, {"port": 5001})
    assert "firebase.json: emulators.hosting.port = 5000" in finding.hint


def test_extra_hosting_site_port(tmp_path: Path) -> None:
    write(tmp_path, FULL)
    eps = endpoints(run(tmp_path, "firebase", "emulators:start"))
    # serve/hosting.ts: site i > 0 on port + 4 + i, never 5001.
    assert eps["hosting[admin]"].port == 5005 and eps["hosting[admin]"].auto_moves


def test_project_flag_config_flag_and_firebaserc(tmp_path: Path) -> None:
    write(tmp_path, '{"emulators": {"auth": {"port": 9500}}}', "conf/fb.json")
    write(tmp_path, '{"projects": {"default": "demo-rc", "staging": "demo-staging"}}', "conf/.firebaserc")
    service = run(tmp_path, "firebase", "emulators:start", "-c", "conf/fb.json")
    assert service.details["project"] == "demo-rc"
    assert endpoints(service)["auth"].port_source.where == os.path.join("conf", "fb.json")
    service = run(tmp_path, "firebase", "emulators:start", "--config=conf/fb.json", "-P", "staging")
    assert service.details["project"] == "demo-staging"  # an alias maps to its project id
    service = run(tmp_path, "firebase", "emulators:start", "--config", "conf/fb.json", "--project=demo-z")
    assert service.details["project"] == "demo-z"


def test_firebase_json_found_in_a_parent_folder(tmp_path: Path) -> None:
    write(tmp_path, '{"emulators": {"auth": {"port": 9501}}}')
    (tmp_path / "web" / "src").mkdir(parents=True)
    assert endpoints(run(tmp_path, "firebase", "emulators:start", cwd="web/src"))["auth"].port == 9501


@pytest.mark.parametrize("argv", [
    ("firebase", "deploy", "--only", "hosting"),
    ("firebase", "emulators:export", "dir"),
    ("flask", "run"),
    ("firebasex", "emulators:start"),
    (),
])
def test_other_commands_are_not_ours(tmp_path: Path, argv: Sequence[str]) -> None:
    write(tmp_path, FULL)
    assert firebase.devlint_command_services(Command(tuple(argv)), Project(tmp_path, env={})) is None


def test_only_unknown_and_unconfigured(tmp_path: Path) -> None:
    write(tmp_path, '{"emulators": {"auth": {}}}')
    service = run(tmp_path, "firebase", "emulators:start", "--only", "auth,storage,authx")
    codes = {(f.code, f.severity) for f in service.diagnostics}
    assert ("DL504", Severity.WARNING) in codes  # storage: not configured, skipped
    assert ("DL504", Severity.ERROR) in codes  # authx: firebase-tools exits 1
    assert set(endpoints(service)) == {"hub", "ui", "logging", "auth"}


def test_logging_and_postgres_follow_the_environment(tmp_path: Path) -> None:
    write(tmp_path, '{"emulators": {"dataconnect": {}, "ui": {"enabled": false}}}')
    # Unset, firebase-tools' default is the string "false", which is truthy: logging starts
    # even without the UI (measured with 15.34.2). Only a value other than "true" stops it.
    eps = endpoints(run(tmp_path, "firebase", "emulators:start"))
    assert set(eps) == {"hub", "logging", "dataconnect", "dataconnect.postgres"}
    eps = endpoints(run(tmp_path, "firebase", "emulators:start", env={
        "START_LOGGING_EMULATOR": "false", "FIREBASE_DATACONNECT_POSTGRESQL_STRING": "postgres://x"}))
    assert set(eps) == {"hub", "dataconnect"}


def test_wsl_listens_on_ipv4_only(tmp_path: Path) -> None:
    write(tmp_path, '{"emulators": {"auth": {}}}')
    eps = endpoints(run(tmp_path, "firebase", "emulators:start", env={"WSL_DISTRO_NAME": "Ubuntu"}))
    assert eps["hub"].binds == ("127.0.0.1",) and eps["hub"].host == "127.0.0.1"


# -- checks ---------------------------------------------------------------------------------

def test_duplicate_ports_name_both_keys_and_lines(tmp_path: Path) -> None:
    write(tmp_path, '{\n  "emulators": {\n    "auth": {"port": 9199},\n    "storage": {}\n  }\n}\n')
    service = run(tmp_path, "firebase", "emulators:start")
    findings = list(firebase.devlint_check_service(service, Project(tmp_path, env={})) or ())
    (dup,) = findings
    assert dup.code == "DL503" and dup.severity is Severity.ERROR
    assert "port 9199" in dup.message
    assert "auth (firebase.json:3 emulators.auth.port)" in dup.message
    assert "storage (default (firebase-tools default))" in dup.message


def test_duplicate_with_a_port_that_moves_is_a_warning(tmp_path: Path) -> None:
    write(tmp_path, '{"emulators": {"hub": {"port": 4000}, "auth": {}}}')
    service = run(tmp_path, "firebase", "emulators:start")
    (dup,) = firebase.devlint_check_service(service, Project(tmp_path, env={})) or ()
    assert dup.severity is Severity.WARNING and "ui will move" in dup.hint


def test_check_ignores_other_kinds(tmp_path: Path) -> None:
    # The host routes a service's checks to its kind's owner only (PluginHost._routed).
    from devlint.manager import PluginHost

    other = Service("api", kind="flask", endpoints=(Endpoint("http", 5000), Endpoint("x", 5000)))
    host = PluginHost(disabled=("angular", "flask", "stack"))
    assert host.check_service(other, Project(tmp_path, env={})) == []


# -- devlint.toml services and zero-config detection -------------------------------------

def test_resolve_service_from_settings(tmp_path: Path) -> None:
    write(tmp_path, FULL, "app/firebase.json")
    declared = Service("emu", kind="firebase", path="app", source=Source("file", "devlint.toml", 1, "services.emu"),
                       settings={"kind": "firebase", "only": ["auth"], "project": "demo-p"})
    resolved = firebase.devlint_resolve_service(declared, Project(tmp_path, env={}))
    assert resolved is not None and resolved.name == "emu"
    assert set(endpoints(resolved)) == {"hub", "ui", "logging", "auth"}
    assert resolved.details["project"] == "demo-p"
    assert endpoints(resolved)["auth"].port_source.where == os.path.join("app", "firebase.json")
    bad = Service("emu", kind="firebase", path="app", source=Source("file", "devlint.toml", 1, "services.emu"),
                  settings={"kind": "firebase", "only": 3, "project": ""})
    resolved = firebase.devlint_resolve_service(bad, Project(tmp_path, env={}))
    assert resolved is not None
    problems = [f for f in resolved.diagnostics if f.code == "DL502"]
    # devlint.toml values in TOML words (firebase.json's in JSON words), named like flask's and angular's
    assert [(f.message, dict(f.evidence)) for f in problems] == [
        ("devlint.toml:1: services.emu.only: expected a list of emulator names, got the number 3",
         {"key": "services.emu.only"}),
        ("devlint.toml:1: services.emu.project: expected a project id string, got the string ''",
         {"key": "services.emu.project"}),
    ]
    flagged = Service("emu", kind="firebase", path="app", source=Source("file", "devlint.toml", 1, "services.emu"),
                      settings={"kind": "firebase", "only": [True], "config": False})
    resolved = firebase.devlint_resolve_service(flagged, Project(tmp_path, env={}))
    assert resolved is not None
    assert [f.message.split(", got ")[1] for f in resolved.diagnostics if f.code == "DL502"] == [
        "a list containing the boolean true", "the boolean false"]
    # Another kind's service never reaches this plugin: the host routes by kind.
    from devlint.manager import PluginHost

    flask_service = Service("x", kind="flask")
    host = PluginHost(disabled=("angular", "flask", "stack"))
    assert host.resolve_service(flask_service, Project(tmp_path, env={})) is flask_service


def test_detect_services(tmp_path: Path) -> None:
    write(tmp_path, FULL)
    (service,) = firebase.devlint_detect_services(Project(tmp_path, env={})) or ()
    assert "auth" in endpoints(service) and service.kind == "firebase"
    write(tmp_path, '{"emulators": {oops}}')
    (broken,) = firebase.devlint_detect_services(Project(tmp_path, env={})) or ()
    assert broken.diagnostics[0].code == "DL501"


def test_through_the_plugin_manager(tmp_path: Path) -> None:
    from devlint.manager import PluginHost

    write(tmp_path, FULL)
    host = PluginHost(disabled=("angular", "flask"))
    assert "firebase" in host.service_kinds()
    found = host.command_services(Command(("firebase", "emulators:start", "--only", "auth")),
                                  Project(tmp_path, env={}))
    assert found is not None and {ep.name for ep in found[0].endpoints} == {"hub", "ui", "logging", "auth"}


# -- explain_listener with a real process ----------------------------------------------------

FAKE_EMULATOR = r"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind(("127.0.0.1", 0))
s.listen(4)
print(s.getsockname()[1], flush=True)
sys.stdin.read()
"""


def _cmdline(pid: int) -> tuple:  # type: ignore[type-arg]
    with open(f"/proc/{pid}/cmdline", "rb") as handle:
        return tuple(part.decode() for part in handle.read().split(b"\0") if part)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/PID/cmdline")
def test_explain_a_stale_emulator_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    tool = tmp_path / "node_modules" / "firebase-tools" / "lib" / "bin" / "firebase.js"
    tool.parent.mkdir(parents=True)
    tool.write_text(FAKE_EMULATOR, encoding="utf-8")  # a stand-in at firebase-tools' own path
    proc = subprocess.Popen([sys.executable, str(tool), "emulators:start"], cwd=tmp_path,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass  # really listening
        listener = Listener("127.0.0.1", port, 4, pid=proc.pid, process="python3", cmdline=_cmdline(proc.pid))
        (tmp_path / "hub-demo-x.json").write_text(json.dumps(
            {"version": "15.34.2", "origins": [f"http://127.0.0.1:{port}", f"http://[::1]:{port}"]}))
        service = Service("firebase", kind="firebase", path=str(tmp_path), details={"project": "demo-x"})
        endpoint = Endpoint("hub", port)
        explanation = firebase.devlint_explain_listener(listener, service, endpoint, "linux")
        assert explanation is not None and explanation.stale
        assert "firebase-tools (`firebase emulators:start`)" in explanation.title
        assert f"pid {proc.pid}" in explanation.why
        assert str(tmp_path / "hub-demo-x.json") in explanation.why
        assert f"kill {proc.pid}" in explanation.fix
        # Next to another kind of service it is not "from an earlier run" of this one, but still
        # a dev server of the user's own, which --kill may offer to stop.
        other = firebase.devlint_explain_listener(listener, Service("api", kind="flask", path=str(tmp_path)),
                                                  endpoint, "linux")
        assert other is not None and other.stale and "earlier run" not in other.why
        # The same process without firebase in its command line is not ours to explain.
        plain = Listener("127.0.0.1", port, 4, pid=proc.pid, cmdline=(sys.executable, "-c", "x"))
        assert firebase.devlint_explain_listener(plain, service, endpoint, "linux") is None
    finally:
        proc.kill()
        proc.wait(timeout=10)


@pytest.mark.parametrize("cmdline,expected", [
    (("java", "-jar", "/home/u/.cache/firebase/emulators/cloud-firestore-emulator-v1.19.7.jar", "--port", "8080"),
     "cloud-firestore-emulator"),
    (("java", "-jar", "firebase-database-emulator-v4.11.2.jar"), "firebase-database-emulator"),
    (("node", "/home/u/.npm/_npx/1/node_modules/.bin/firebase", "emulators:exec", "npm test"), "emulators:exec"),
    (("node", "/home/u/.cache/firebase/emulators/ui-v1.14.0/server/server.mjs"), "downloaded firebase emulator"),
])
def test_recognised_command_lines(cmdline: Sequence[str], expected: str) -> None:
    what = emulator_process(cmdline)
    assert what is not None and expected in what


@pytest.mark.parametrize("cmdline", [None, (), ("node", "server.js"), ("python3", "-m", "flask", "run")])
def test_unrelated_command_lines(cmdline: Optional[Sequence[str]]) -> None:
    assert emulator_process(cmdline) is None


def test_js_parse_int_matches_javascript() -> None:
    cases = {"5001": 5001, " 42": 42, "5001abc": 5001, "abc": None, "": None, "-1": -1,
             "+7": 7, "1e3": 1, True: None, 5000.9: 5000, 8080: 8080, "0x10": 0}
    for value, expected in cases.items():
        assert js_parse_int(value) == expected, value
