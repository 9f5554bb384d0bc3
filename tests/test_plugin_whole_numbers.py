"""Whole-number floats are numbers: `"port": 4304.0` is port 4304 (issue 11).

JSON and JavaScript have one number type, so `4304.0` and `4.304e3` are the number 4304 to
firebase-tools, to the Angular CLI's schema check and to Node's `listen`. A port with a
fraction is another matter: Node refuses it (ERR_SOCKET_BAD_PORT, `+port !== (+port >>> 0)`),
so ng serve and http-proxy fail, while firebase-tools reads ports with parseInt (4304.5 → 4304).
Real files in temporary folders; one real listener for the end-to-end case.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import List

import pytest
from devlint_plugins.angular import hooks as angular
from devlint_plugins.firebase import hooks as firebase

from devlint.model import Command, Service, Severity
from devlint.project import Project
from devlint.readers.js import read_export
from devlint.readers.jsonc import loads
from tests.listeners import free_port, open_listener
from tests.runner import devlint

WORKSPACE = """{
  "version": 1,
  "projects": {
    "web": {
      "projectType": "application",
      "root": "",
      "architect": {
        "serve": {
          "builder": "@angular/build:dev-server",
          "options": {"port": PORT}
        }
      }
    }
  }
}
"""


def _project(tmp_path: Path, files: dict[str, str]) -> Project:
    (tmp_path / ".git").mkdir(exist_ok=True)
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    return Project(tmp_path, env={})


def _one(services: object) -> Service:
    assert isinstance(services, list) and len(services) == 1, services
    service = services[0]
    assert isinstance(service, Service)
    return service


def _codes(service: Service) -> List[str]:
    return [f.code for f in service.diagnostics]


@pytest.mark.parametrize(("text", "value"), [("4304.0", 4304), ("4.304e3", 4304), ("1e3", 1000), ("-0.0", 0),
                                              ("4304.5", 4304.5)])
def test_json_and_js_readers_give_whole_numbers_as_int(text: str, value: object) -> None:
    from_json = loads('{"port": NUMBER}'.replace("NUMBER", text)).value["port"]
    from_js = read_export("module.exports = {port: NUMBER};".replace("NUMBER", text))[0]["port"]
    for got in (from_json, from_js):
        assert got == value and type(got) is type(value)


@pytest.mark.parametrize("spelling", ["{port}.0", "{port}e0", "{port}.000"])
def test_check_finds_the_port_of_a_whole_float_in_angular_json_held(tmp_path: Path, spelling: str) -> None:
    port = free_port()
    (tmp_path / ".git").mkdir()
    (tmp_path / "angular.json").write_text(WORKSPACE.replace("PORT", spelling.format(port=port)))
    (tmp_path / "devlint.toml").write_text('[services.web]\nkind = "angular"\n')
    with open_listener("127.0.0.1", port):
        result = devlint(tmp_path, "check", "--format", "json")
    assert "Traceback" not in result.stderr
    findings = json.loads(result.stdout)["findings"]
    assert [f["code"] for f in findings] == ["DL101"], findings
    assert findings[0]["evidence"]["port"] == port
    assert findings[0]["evidence"]["port_source"] == "angular.json:10 projects.web.architect.serve.options.port"


def test_a_fractional_port_in_angular_json_is_an_error_naming_file_and_key(tmp_path: Path) -> None:
    project = _project(tmp_path, {"angular.json": WORKSPACE.replace("PORT", "4304.5")})
    service = _one(angular.devlint_command_services(Command(("ng", "serve"), "."), project))
    (finding,) = service.diagnostics
    assert (finding.code, finding.severity) == ("DL602", Severity.ERROR)
    assert finding.message.startswith("angular.json:10: projects.web.architect.serve.options.port: "
                                      "expected a whole number from 0 to 65535, got the number 4304.5")
    assert "ERR_SOCKET_BAD_PORT" in finding.message
    assert [ep.port for ep in service.endpoints if ep.port in (4304, 4305)] == []  # not rounded either way


@pytest.mark.parametrize(("flag", "port"), [("4304.0", 4304), ("4.304e3", 4304)])
def test_port_flags_the_cli_reads_as_whole_numbers(tmp_path: Path, flag: str, port: int) -> None:
    project = _project(tmp_path, {"angular.json": WORKSPACE.replace("PORT", "4200")})
    service = _one(angular.devlint_command_services(Command(("ng", "serve", "--port", flag), "."), project))
    assert _codes(service) == [] and [ep.port for ep in service.endpoints] == [port]


@pytest.mark.parametrize(("spelling", "port", "codes"), [("9199.0", 9199, []), ("9.199e3", 9199, []),
                                                         ("9199.5", 9199, ["DL502"])])
def test_firebase_ports_whole_floats_are_numbers_fractions_are_parse_int(
        tmp_path: Path, spelling: str, port: int, codes: List[str]) -> None:
    firebase_json = '{\n  "emulators": {\n    "auth": {"port": PORT}\n  }\n}\n'.replace("PORT", spelling)
    project = _project(tmp_path, {"firebase.json": firebase_json})
    service = _one(firebase.devlint_command_services(
        Command(("firebase", "emulators:start", "--project", "demo-x"), "."), project))
    auth = next(ep for ep in service.endpoints if ep.name == "auth")
    assert auth.port == port and _codes(service) == codes
    if codes:
        finding = service.diagnostics[0]
        assert finding.severity == Severity.WARNING
        assert "firebase.json:3" in finding.message and "emulators.auth.port" in finding.message
        assert "parseInt" in finding.message


@pytest.mark.parametrize("name", ["proxy.conf.json", "proxy.conf.js"])
def test_proxy_target_object_ports(tmp_path: Path, name: str) -> None:
    text = ('{\n  "/a": {"target": {"host": "127.0.0.1", "port": 5001.0}},\n'
            '  "/b": {"target": {"host": "127.0.0.1", "port": 5002.5}},\n'
            '  "/c": {"target": {"host": "127.0.0.1", "port": "http"}}\n}\n')
    if name.endswith(".js"):
        text = "module.exports = " + text
    workspace = WORKSPACE.replace('{"port": PORT}', f'{{"port": 4200, "proxyConfig": "{name}"}}')
    project = _project(tmp_path, {"angular.json": workspace, name: text})
    service = _one(angular.devlint_command_services(Command(("ng", "serve"), "."), project))
    assert [(u.context, u.port) for u in service.upstreams] == [("/a", 5001)]
    found = [(f.code, f.message.split(": proxy")[0]) for f in service.diagnostics]
    assert found == [("DL607", f"{name}:3"), ("DL607", f"{name}:4")]
    assert "the number 5002.5 is not a port" in service.diagnostics[0].message
    assert 'the string "http" is not a port' in service.diagnostics[1].message
