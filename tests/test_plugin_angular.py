"""The Angular plugin: what `ng serve` will listen on, where each value came from, and the
proxy targets it will call — read from angular.json and proxy configs without running them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple

import pytest
from devlint_plugins.angular import checks, proxy
from devlint_plugins.angular import hooks as plugin
from hypothesis import given, settings
from hypothesis import strategies as st

from devlint.model import Command, Endpoint, Listener, Service, Severity, Source
from devlint.project import Project
from tests.listeners import child_listener, free_port
from tests.runner import devlint


def workspace(serve: Optional[Dict[str, Any]] = None, name: str = "web", **extra: Any) -> str:
    target = {"builder": "@angular/build:dev-server", **(serve or {})}
    body = {"version": 1, "projects": {name: {"projectType": "application", "root": "",
                                              "architect": {"serve": target}}}, **extra}
    return json.dumps(body, indent=2)


def make(tmp_path: Path, files: Mapping[str, str]) -> Project:
    (tmp_path / ".git").mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return Project(tmp_path, env={})


def run(project: Project, *argv: str, cwd: str = ".", env: Optional[Dict[str, str]] = None) -> Service:
    command = Command(tuple(argv), cwd, env or {}, " ".join(argv))
    services = plugin.devlint_command_services(command, project)
    assert services is not None and len(services) == 1
    return services[0]


def endpoint(service: Service) -> Endpoint:
    assert len(service.endpoints) == 1, service.diagnostics
    return service.endpoints[0]


def codes(service: Service) -> List[str]:
    return [f.code for f in service.diagnostics]




# -- recognising the command -----------------------------------------------------------------


@pytest.mark.parametrize("argv", [
    ("ng", "serve"), ("ng", "s"), ("ng", "dev"), ("node_modules/.bin/ng", "serve"), ("ng.cmd", "serve"),
    ("ng", "run", "web:serve"), ("ng", "run", "web:serve:development"), ("ng", "serve", "web", "--open"),
])
def test_recognises_what_the_angular_cli_accepts(tmp_path: Path, argv: Tuple[str, ...]) -> None:
    project = make(tmp_path, {"angular.json": workspace()})
    service = run(project, *argv)
    assert service.kind == "angular" and endpoint(service).port == 4200


@pytest.mark.parametrize("argv", [
    ("ng", "build"), ("ng", "test"), ("ng",), ("ng", "run", "web:build"), ("ngx", "serve"), ("npx", "serve"),
    ("ng", "--version"),
])
def test_other_commands_are_not_ng_serve(tmp_path: Path, argv: Tuple[str, ...]) -> None:
    project = make(tmp_path, {"angular.json": workspace()})
    assert plugin.devlint_command_services(Command(argv), project) is None


# -- flags, angular.json and their provenance ----------------------------------------------------


@pytest.mark.parametrize(("args", "port", "source"), [
    ((), 4300, "angular.json:9 projects.web.architect.serve.options.port"),
    (("--port", "4400"), 4400, "flag --port 4400"),
    (("--port=4401",), 4401, "flag --port=4401"),
    (("-c", "production"), 4500, "angular.json:16 projects.web.architect.serve.configurations.production.port"),
    (("--configuration=production", "--port", "4402"), 4402, "flag --port 4402"),
])
def test_flags_beat_configurations_beat_options(tmp_path: Path, args: Tuple[str, ...], port: int,
                                                source: str) -> None:
    text = """{
  // Angular accepts comments and trailing commas in angular.json
  "version": 1,
  "projects": {
    "web": {
      "architect": {
        "serve": {
          "builder": "@angular/build:dev-server",
          "options": {"port": 4300, "proxyConfig": "proxy.conf.json",},
          /* production serves elsewhere */
          "configurations": {
            "development": {
              "buildTarget": "web:build:development",
            },
            "production": {
              "port": 4500
            },
          },
          "defaultConfiguration": "development",
        },
      },
    },
  },
}
"""
    project = make(tmp_path, {"angular.json": text, "proxy.conf.json": '{"/api": {"target": "http://localhost:5000"}}'})
    service = run(project, "ng", "serve", *args)
    ep = endpoint(service)
    assert (ep.port, str(ep.port_source)) == (port, source)
    assert ep.host == "localhost" and str(ep.host_source) == "default (ng serve)"
    assert service.origin == f"http://localhost:{port}"
    assert [u.url for u in service.upstreams] == ["http://localhost:5000"]
    assert codes(service) == []


def test_default_configuration_override_and_defaults(tmp_path: Path) -> None:
    """Ports only in configurations (corpus angular/027): plain ng serve takes defaultConfiguration's,
    -c production falls back to the 4200 default."""
    project = make(tmp_path, {"angular.json": workspace({
        "configurations": {"development": {"port": 4203}, "production": {}},
        "defaultConfiguration": "development"})})
    assert endpoint(run(project, "ng", "serve")).port == 4203
    production = endpoint(run(project, "ng", "serve", "-c", "production"))
    assert production.port == 4200 and production.port_source == Source("default", "ng serve")


def test_host_ssl_and_origin(tmp_path: Path) -> None:
    project = make(tmp_path, {"angular.json": workspace({"options": {"host": "0.0.0.0", "ssl": True}})})
    service = run(project, "ng", "serve")
    ep = endpoint(service)
    assert (ep.name, ep.host, ep.port) == ("https", "0.0.0.0", 4200)
    assert service.origin == "https://localhost:4200"  # a wildcard bind is opened as localhost
    plain = run(project, "ng", "serve", "--ssl", "false", "--host", "127.0.0.1")
    assert endpoint(plain).name == "http" and plain.origin == "http://127.0.0.1:4200"
    assert str(endpoint(plain).host_source) == "flag --host 127.0.0.1"
    assert run(project, "ng", "serve", "--no-ssl").origin == "http://localhost:4200"
    assert run(project, "ng", "serve", "--port", "443").origin == "https://localhost"


def test_project_named_after_options_and_boolean_values(tmp_path: Path) -> None:
    """`ng serve --live-reload false app2` (corpus packagejson/016): false is the flag's value,
    app2 is the project."""
    text = json.dumps({"projects": {
        "app1": {"projectType": "application", "root": "projects/app1",
                 "architect": {"serve": {"builder": "@angular/build:dev-server", "options": {"port": 4203}}}},
        "app2": {"projectType": "application", "root": "projects/app2",
                 "architect": {"serve": {"builder": "@angular/build:dev-server", "options": {"port": 4204}}}},
        "lib": {"projectType": "library", "root": "projects/lib", "architect": {"build": {}}},
    }, "defaultProject": "app1"})
    project = make(tmp_path, {"angular.json": text, "projects/app2/src/main.ts": ""})
    assert endpoint(run(project, "ng", "serve", "--live-reload", "false", "app2")).port == 4204
    assert endpoint(run(project, "ng", "serve", "--project=app2")).port == 4204
    assert endpoint(run(project, "ng", "run", "app2:serve")).port == 4204
    service = run(project, "ng", "serve")
    assert endpoint(service).port == 4203 and service.details["project_source"].startswith("angular.json:")
    missing = run(project, "ng", "serve", "nope")
    assert missing.endpoints == () and codes(missing) == ["DL603"]
    assert "project 'nope'" in missing.diagnostics[0].message and "app1" in missing.diagnostics[0].hint
    library = run(project, "ng", "serve", "lib")
    assert library.endpoints == () and "no serve target" in library.diagnostics[0].message


def test_project_by_working_folder_and_ambiguity(tmp_path: Path) -> None:
    """Without defaultProject, ng serve picks the project whose root holds the working folder,
    and stops when none does."""
    projects = {name: {"projectType": "application", "root": f"projects/{name}",
                       "architect": {"serve": {"builder": "@angular/build:dev-server", "options": {"port": port}}}}
                for name, port in (("shop", 4301), ("admin", 4302))}
    project = make(tmp_path, {"angular.json": json.dumps({"projects": projects}), "projects/admin/x": ""})
    assert endpoint(run(project, "ng", "serve", cwd="projects/admin")).port == 4302
    service = run(project, "ng", "serve")
    assert endpoint(service).port == 4301
    (finding,) = service.diagnostics
    assert (finding.code, finding.severity) == ("DL603", Severity.WARNING)
    assert "Cannot determine project" in finding.message


def test_workspace_is_found_walking_up_and_proxy_is_relative_to_it(tmp_path: Path) -> None:
    project = make(tmp_path, {
        "frontend/angular.json": workspace({"options": {"proxyConfig": "src/proxy.conf.json"}}),
        "frontend/src/proxy.conf.json": '{"/api": {"target": "http://127.0.0.1:5001"}}',
        "frontend/src/app/x.ts": ""})
    service = run(project, "ng", "serve", cwd="frontend/src/app")
    assert str(endpoint(service).port_source) == "default (ng serve)"
    (upstream,) = service.upstreams
    assert (upstream.port, str(upstream.source)) == (5001, "frontend/src/proxy.conf.json:1 /api.target")


def test_nx_targets_and_executor(tmp_path: Path) -> None:
    text = json.dumps({"version": 2, "projects": {"app": {"projectType": "application", "targets": {
        "serve": {"executor": "@nx/angular:dev-server", "options": {"port": 4201}}}}}})
    service = run(make(tmp_path, {"angular.json": text}), "ng", "serve")
    assert str(endpoint(service).port_source) == "angular.json:1 projects.app.targets.serve.options.port"


def test_custom_builder_port_is_not_guessed(tmp_path: Path) -> None:
    """A serve target that is not Angular's dev server (corpus angular/019) sets its own port."""
    project = make(tmp_path, {"angular.json": workspace({"builder": "../../:webpack-dev-server",
                                                          "options": {"webpackConfig": "webpack.config.cjs"}})})
    service = run(project, "ng", "serve")
    assert service.endpoints == () and codes(service) == ["DL604"]
    assert "../../:webpack-dev-server" in service.diagnostics[0].message
    assert endpoint(run(project, "ng", "serve", "--port", "8080")).port == 8080


def test_port_zero_is_random_and_not_checked(tmp_path: Path) -> None:
    service = run(make(tmp_path, {"angular.json": workspace()}), "ng", "serve", "--port", "0")
    assert service.endpoints == () and service.origin is None
    (finding,) = service.diagnostics
    assert (finding.code, finding.severity) == ("DL604", Severity.INFO) and "random" in finding.message


# -- broken values are findings, never tracebacks ---------------------------------------------------


def test_string_port_in_angular_json_is_an_error_naming_the_line(tmp_path: Path) -> None:
    """The dev-server schema says number and Angular's ajv does not coerce: ng serve stops."""
    project = make(tmp_path, {"angular.json": workspace({"options": {"port": "4300"}})})
    service = run(project, "ng", "serve")
    (finding,) = service.diagnostics
    assert (finding.code, finding.severity) == ("DL602", Severity.ERROR)
    assert finding.message.startswith("angular.json:11: projects.web.architect.serve.options.port: expected a number")
    assert "without quotes" in finding.message
    assert endpoint(service).port == 4300  # what the user meant is still checked


@pytest.mark.parametrize(("args", "text"), [
    (("--port", "abc"), "'abc'"), (("--port", "70000"), "outside 0-65535"),
    (("--port", "4200.5"), "not a whole number"),
])
def test_bad_port_flags(tmp_path: Path, args: Tuple[str, ...], text: str) -> None:
    service = run(make(tmp_path, {"angular.json": workspace()}), "ng", "serve", *args)
    assert service.endpoints == () and codes(service) == ["DL602"]
    assert text in service.diagnostics[0].message and "flag --port" in service.diagnostics[0].message


def test_wrong_types_and_missing_blocks(tmp_path: Path) -> None:
    project = make(tmp_path, {"angular.json": workspace({"options": {"host": 5, "ssl": "yes"},
                                                          "configurations": "nope"})})
    service = run(project, "ng", "serve")
    assert codes(service) == ["DL602", "DL602", "DL602"]
    assert endpoint(service).host == "localhost"
    empty = run(make(tmp_path / "empty", {"angular.json": '{"version": 1}'}), "ng", "serve")
    assert codes(empty) == ["DL603"] and "has no projects" in empty.diagnostics[0].message
    # A project or its targets not an object: ng serve goes on with the others, devlint skips it (a warning).
    odd = json.loads(workspace())
    odd["projects"].update({"lib": 5, "tool": {"architect": ["serve"]}})
    service = run(make(tmp_path / "odd", {"angular.json": json.dumps(odd, indent=2)}), "ng", "serve")
    assert endpoint(service).port == 4200
    assert [(f.code, f.severity, dict(f.evidence)) for f in service.diagnostics] == [
        ("DL602", Severity.WARNING, {"file": "angular.json", "line": 13, "key": "projects.lib"}),
        ("DL602", Severity.WARNING, {"file": "angular.json", "line": 15, "key": "projects.tool.architect"}),
    ]


def test_invalid_json_is_a_finding_with_file_line_and_column(tmp_path: Path) -> None:
    project = make(tmp_path, {"angular.json": '{\n  "projects": {\n    "web": {"architect": }\n  }\n}\n'})
    service = run(project, "ng", "serve")
    (finding,) = service.diagnostics
    assert finding.code == "DL601" and finding.message.startswith("angular.json:3:")
    assert service.endpoints == ()


def test_unknown_configuration_stops_ng_serve(tmp_path: Path) -> None:
    service = run(make(tmp_path, {"angular.json": workspace({"configurations": {"production": {}}})}),
                  "ng", "serve", "-c", "staging")
    assert codes(service) == ["DL603"] and "'staging'" in service.diagnostics[0].message
    assert "production" in service.diagnostics[0].hint


def test_no_workspace_is_an_error_but_flags_still_count(tmp_path: Path) -> None:
    service = run(make(tmp_path, {}), "ng", "serve", "--port", "4300")
    assert codes(service) == ["DL601"] and "outside a workspace" in service.diagnostics[0].message
    assert endpoint(service).port == 4300


def test_unreadable_workspace_bytes(tmp_path: Path) -> None:
    (tmp_path / "angular.json").write_bytes(b'{"projects": {}}\n\xff\xfe')
    service = run(Project(tmp_path, env={}), "ng", "serve")
    assert codes(service) == ["DL601"] and "angular.json:2" in service.diagnostics[0].message


# -- PORT in the environment ---------------------------------------------------------------------------


def test_port_env_is_ignored_by_current_angular(tmp_path: Path) -> None:
    """Angular CLI >= 6 reads the port only from angular.json and --port (dev-server
    normalizeOptions: `port ?? 4200`); devlint says PORT is ignored rather than use it."""
    project = make(tmp_path, {"angular.json": workspace()})
    service = run(project, "ng", "serve", env={"PORT": "4999"})
    assert endpoint(service).port == 4200
    (finding,) = service.diagnostics
    assert (finding.code, finding.severity) == ("DL608", Severity.INFO) and "PORT=4999" in finding.message


def test_port_env_counts_for_angular_cli_1(tmp_path: Path) -> None:
    """Angular CLI 1.x (.angular-cli.json): `process.env.PORT || defaults.serve.port`, flags win."""
    legacy = json.dumps({"project": {"name": "old"}, "apps": [{"root": "src"}],
                         "defaults": {"serve": {"port": 4600, "proxyConfig": "proxy.conf.json"}}}, indent=2)
    project = make(tmp_path, {".angular-cli.json": legacy,
                              "proxy.conf.json": '{"/api": {"target": "http://localhost:8081"}}'})
    service = run(project, "ng", "serve")
    assert str(endpoint(service).port_source) == ".angular-cli.json:12 defaults.serve.port"
    assert service.details["project"] == "old" and [u.port for u in service.upstreams] == [8081]
    from_env = run(project, "ng", "serve", env={"PORT": "4700"})
    assert endpoint(from_env).port == 4700 and endpoint(from_env).port_source.kind == "env"
    assert endpoint(run(project, "ng", "serve", "--port", "4800", env={"PORT": "4700"})).port == 4800


# -- proxy configs ------------------------------------------------------------------------------------------


def proxied(tmp_path: Path, name: str, text: str, builder: str = "@angular/build:dev-server") -> Service:
    project = make(tmp_path, {"angular.json": workspace({"builder": builder, "options": {"proxyConfig": name}}),
                              name: text})
    return run(project, "ng", "serve")


def test_proxy_json_object_and_array_forms(tmp_path: Path) -> None:
    text = """[
  // the backends
  {"context": ["/api", "/auth"], "target": "http://localhost:5000", "secure": false,},
  {"context": ["/files"], "target": {"host": "127.0.0.1", "port": 9199, "protocol": "http:"}},
  {"context": ["/remote"], "target": "https://api.example.com"},
]"""
    service = proxied(tmp_path, "proxy.conf.json", text)
    got = [(u.context, u.host, u.port, str(u.source)) for u in service.upstreams]
    assert got == [("/api, /auth", "localhost", 5000, "proxy.conf.json:3 [0].target"),
                   ("/files", "127.0.0.1", 9199, "proxy.conf.json:4 [1].target"),
                   ("/remote", "api.example.com", 443, "proxy.conf.json:5 [2].target")]
    assert codes(service) == []


def test_proxy_problems_are_named_with_file_and_line(tmp_path: Path) -> None:
    text = """{
  "/api": {"target": "localhost:5000"},
  "changeOrigin": true,
  "/nothing": {"changeOrigin": true},
  "/short": "http://localhost:5002"
}"""
    service = proxied(tmp_path, "proxy.conf.json", text)
    messages = [(f.code, f.message) for f in service.diagnostics]
    assert messages[0][0] == "DL607" and messages[0][1].startswith("proxy.conf.json:2: proxy /api: the target")
    assert "no scheme" in messages[0][1]
    assert messages[1][0] == "DL607" and messages[1][1].startswith("proxy.conf.json:3: 'changeOrigin' is true")
    assert messages[2][0] == "DL607" and "proxy.conf.json:4: proxy /nothing has no target" in messages[2][1]
    assert [u.port for u in service.upstreams] == [5002]  # a bare string is Vite's target shorthand


def test_proxy_invalid_or_missing_is_an_error(tmp_path: Path) -> None:
    broken = proxied(tmp_path / "a", "proxy.conf.json", '{\n  "/api": {"target": "http://localhost:5000"\n}\n')
    (finding,) = broken.diagnostics
    assert (finding.code, finding.severity) == ("DL605", Severity.ERROR)
    assert finding.message.startswith("proxy.conf.json:4:") and "invalid JSON" in finding.message
    project = make(tmp_path / "b", {"angular.json": workspace({"options": {"proxyConfig": "nope.json"}})})
    (missing,) = run(project, "ng", "serve").diagnostics
    assert missing.code == "DL605" and "nope.json" in missing.message and "does not exist" in missing.message
    assert "angular.json:11" in missing.message  # which line names the file


def test_string_context_in_array_form_is_ignored_by_angular_build(tmp_path: Path) -> None:
    text = '[{"context": "/api", "target": "http://localhost:5000"}]'
    vite = proxied(tmp_path / "a", "proxy.conf.json", text)
    assert vite.upstreams == () and codes(vite) == ["DL607"]
    webpack = proxied(tmp_path / "b", "proxy.conf.json", text, "@angular-devkit/build-angular:dev-server")
    assert [u.port for u in webpack.upstreams] == [5000] and codes(webpack) == []


BOOBY_TRAPPED_PROXY = """// Running this file leaves a marker: devlint must only read it.
require('fs').writeFileSync({marker}, 'executed');
const BACKEND = "http://localhost:5001";
const PROXY_CONFIG = [
  {{
    context: ["/api", '/auth'],
    target: BACKEND,
    secure: false,
    bypass: function (req) {{ if (/\\.html$/.test(req.url)) {{ return "/index.html"; }} }},
  }},
  {{ context: [`/files`], target: process.env.FILES_URL || "http://localhost:9199" }},
];
module.exports = PROXY_CONFIG;
"""


def test_proxy_js_is_read_statically_and_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    root = tmp_path / "app"
    make(root, {"angular.json": workspace({"options": {"proxyConfig": "proxy.conf.js"}}),
                "proxy.conf.js": BOOBY_TRAPPED_PROXY.format(marker=json.dumps(str(marker)))})
    result = devlint(root, "config", "--format", "json")
    assert result.returncode == 0, result.stderr
    (service,) = json.loads(result.stdout)["services"]
    assert [(u["context"], u["url"], u["source"]) for u in service["upstreams"]] == [
        ("/api, /auth", "http://localhost:5001", "proxy.conf.js:7 [0].target")]
    check = devlint(root, "check", "--format", "json")
    found = {f["code"]: f["message"] for f in json.loads(check.stdout)["findings"]}
    assert found["DL606"].startswith("proxy.conf.js:11: proxy /files: the target is computed")
    assert "process.env.FILES_URL" in found["DL606"]
    assert not marker.exists(), "devlint executed proxy.conf.js"


@pytest.mark.parametrize(("name", "text", "expected"), [
    ("proxy.conf.mjs", "export default {\n  '/api': { target: 'http://127.0.0.1:8000', changeOrigin: true },\n};\n",
     [("/api", 8000, "proxy.conf.mjs:2 /api.target")]),
    ("proxy.conf.cjs", "module.exports = {\n  \"/ws\": {\n    target: `ws://localhost:7000`,\n    ws: true,\n  }\n}\n",
     [("/ws", 7000, "proxy.conf.cjs:3 /ws.target")]),
    ("proxy.conf.js", "const target = { host: 'localhost', port: 5005 };\nmodule.exports = { '/x': { target } }",
     [("/x", 5005, "proxy.conf.js:2 /x.target")]),
])
def test_proxy_js_module_forms(tmp_path: Path, name: str, text: str, expected: List[Tuple[str, int, str]]) -> None:
    service = proxied(tmp_path, name, text)
    assert [(u.context, u.port, str(u.source)) for u in service.upstreams] == expected
    assert codes(service) == []


@pytest.mark.parametrize(("text", "says"), [
    ("module.exports = require('./proxy.base')", "computed (`require('./proxy.base')`)"),
    ("const P = {};\n['/a'].forEach(c => { P[c] = {target: 'http://localhost:1'}; });\nmodule.exports = P;",
     "code at line 2 changes it"),
    ("console.log('no export')", "no `module.exports = ...`"),
    ("module.exports = {'/api': {target: 'http://' + HOST + ':5000'}}", "'http://' + HOST + ':5000'"),
])
def test_proxy_js_values_that_need_running_are_reported(tmp_path: Path, text: str, says: str) -> None:
    service = proxied(tmp_path, "proxy.conf.js", text)
    assert codes(service) == ["DL606"] and says in service.diagnostics[0].message
    assert service.diagnostics[0].message.startswith("proxy.conf.js:")


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("{}[](),:;'\"`/\\*=.+-$ \nab1_\u00e9")), max_size=120))
def test_js_reader_never_crashes(text: str) -> None:
    read = proxy.parse_proxy_js("module.exports = " + text, "p.js", "web", proxy.ProxyRead("p.js"))
    assert all(f.code.startswith("DL60") for f in read.findings)


# -- checks and explanations ----------------------------------------------------------------------------


def test_proxy_loop_to_itself(tmp_path: Path) -> None:
    service = proxied(tmp_path, "proxy.conf.json", '{"/api": {"target": "http://localhost:4200"}}')
    (finding,) = checks.check(service)
    assert finding.code == "DL609" and "own port 4200" in finding.message


def test_stale_ng_serve_is_explained() -> None:
    listener = Listener("127.0.0.1", 4200, 4, pid=42, process="node",
                        cmdline=("node", "/app/node_modules/.bin/ng", "serve", "--port", "4200"))
    mine = Service("web", kind="angular")
    ep = Endpoint("http", 4200, fix="`--port {port}` in `ng serve`")
    explained = plugin.devlint_explain_listener(listener, mine, ep, "linux")
    # pid 42 is no process in the service's folder: recognised as ng serve, but not stale
    # (tests/test_kill_plugins.py runs the stale case with a real process in the project)
    assert explained is not None and not explained.stale and "ng serve" in explained.title
    assert plugin.devlint_explain_listener(Listener("::", 4200, 6, cmdline=("python3", "-m", "http.server")),
                                           mine, ep, "linux") is None


# -- devlint.toml and zero-config ------------------------------------------------------------------------


def test_configured_service_keys_and_overrides(tmp_path: Path) -> None:
    text = json.dumps({"projects": {
        "a": {"projectType": "application", "architect": {"serve": {"builder": "@angular/build:dev-server",
                                                                     "options": {"port": 4301}}}},
        "b": {"projectType": "application", "architect": {"serve": {
            "builder": "@angular/build:dev-server", "options": {"port": 4302},
            "configurations": {"staging": {"port": 4303, "ssl": True}}}}}}}, indent=2)
    make(tmp_path, {"web/workspace.json": text, "devlint.toml": (
        '[services.web]\nkind = "angular"\npath = "web"\nproject = "b"\nconfiguration = "staging"\n'
        'config = "workspace.json"\n\n[services.other]\nkind = "angular"\npath = "web"\nconfig = "workspace.json"\n'
        'project = "a"\nport = 4310\n\n[services.bad]\nkind = "angular"\npath = "web"\nconfig = "workspace.json"\n'
        'project = 5\nconfiguration = true\n')})
    result = devlint(tmp_path, "config", "--format", "json")
    assert result.returncode == 0, result.stderr
    services = {s["name"]: s for s in json.loads(result.stdout)["services"]}
    web = services["web"]["endpoints"][0]
    assert (web["name"], web["port"], web["port_source"]) == (
        "https", 4303, "web/workspace.json:24 projects.b.architect.serve.configurations.staging.port")
    assert services["web"]["origin"] == "https://localhost:4303"
    other = services["other"]["endpoints"][0]
    assert (other["port"], other["port_source"]) == (4310, "devlint.toml:13 services.other.port")
    check = devlint(tmp_path, "check", "bad")
    assert check.returncode == 1
    assert "error DL602 devlint.toml:15: services.bad.project: expected a string, got the number 5" in check.stdout
    # devlint.toml values in TOML words (angular.json's in JSON words)
    assert "error DL602 devlint.toml:15: services.bad.configuration: expected a string, got the boolean true" \
        in check.stdout
    assert "DL601" not in check.stdout


def test_zero_config_detects_angular_json_and_skips_libraries(tmp_path: Path) -> None:
    app = make(tmp_path / "app", {"angular.json": workspace({"options": {"port": free_port()}})})
    (found,) = plugin.devlint_detect_services(app) or ()
    assert found.kind == "angular" and found.source.where == "angular.json"
    library = json.dumps({"projects": {"lib": {"projectType": "library", "architect": {"build": {}}}}})
    assert plugin.devlint_detect_services(make(tmp_path / "lib", {"angular.json": library})) is None
    assert plugin.devlint_detect_services(make(tmp_path / "none", {})) is None


def test_config_shows_every_value_with_provenance(tmp_path: Path) -> None:
    make(tmp_path, {"angular.json": workspace({"options": {"port": 4300, "proxyConfig": "proxy.conf.json"}}),
                    "proxy.conf.json": '{"/api": {"target": "http://127.0.0.1:5000"}}'})
    text = devlint(tmp_path, "config").stdout
    assert "localhost:4300   port: angular.json:11 projects.web.architect.serve.options.port; host: default " \
           "(ng serve)" in text
    assert "origin               http://localhost:4300" in text
    assert "proxy /api           → http://127.0.0.1:5000  [proxy.conf.json:1 /api.target]" in text


def test_zero_config_frontend_alone_warns_about_unknown_backend(tmp_path: Path) -> None:
    """In the frontend's folder the backend is undeclared, not absent: a warning, not a block."""
    make(tmp_path, {"angular.json": workspace({"options": {"port": free_port(), "proxyConfig": "p.json"}}),
                    "p.json": '{"/api": {"target": "http://127.0.0.1:5999"}}'})
    result = devlint(tmp_path, "check")
    assert result.returncode == 0, result.stdout
    assert "warning DL202" in result.stdout and "port 5999" in result.stdout


def test_stack_proxy_to_a_port_no_backend_uses_is_an_error(tmp_path: Path) -> None:
    web_port = free_port()
    make(tmp_path, {
        "devlint.toml": '[services.api]\nkind = "flask"\npath = "api"\n\n'
                        '[services.web]\nkind = "angular"\npath = "web"\n',
        "api/.flaskenv": "FLASK_RUN_PORT=5001\n",
        "api/app.py": "from flask import Flask\nfrom flask_cors import CORS\napp = Flask(__name__)\n"
                      "CORS(app, origins=['http://localhost:4200'])\n",
        "web/angular.json": workspace({"options": {"port": web_port, "proxyConfig": "proxy.conf.json"}}),
        "web/proxy.conf.json": '{"/api": {"target": "http://localhost:5000"}}'})
    result = devlint(tmp_path, "check", "--format", "json")
    assert result.returncode == 1
    found = {f["code"]: f for f in json.loads(result.stdout)["findings"]}
    assert found["DL202"]["severity"] == "error"
    assert "web/proxy.conf.json:1 /api.target" in found["DL202"]["message"]
    assert "api/.flaskenv:1 FLASK_RUN_PORT" in found["DL202"]["hint"]
    assert found["DL204"]["evidence"]["origin"] == f"http://localhost:{web_port}"


# -- real sockets: a held port blocks the launch -------------------------------------------------------------


def test_run_refuses_when_the_port_is_held_and_names_the_pid(tmp_path: Path) -> None:
    port = free_port()
    make(tmp_path, {"angular.json": workspace(),
                    "package.json": json.dumps({"scripts": {"start": f"ng serve --host 127.0.0.1 --port {port}"}})})
    with child_listener("127.0.0.1", port) as holder:
        direct = devlint(tmp_path, "run", "--", "ng", "serve", "--host", "127.0.0.1", "--port", str(port))
        script = devlint(tmp_path, "run", "--", "npm", "start")
    for result in (direct, script):
        said = result.stdout + result.stderr
        assert result.returncode == 1, said
        assert "error DL101" in said and f"pid {holder.pid}" in said
        assert f"127.0.0.1:{port}" in said and "not starting" in said
    assert f"flag --port {port}" in direct.stderr  # the fix points at the flag that set the port


def test_run_on_localhost_is_blocked_by_either_family(tmp_path: Path) -> None:
    """ng serve binds the first address localhost resolves to; a listener on the other one
    shadows it. Either way the launch is refused and the holder is named."""
    port = free_port()
    make(tmp_path, {"angular.json": workspace({"options": {"port": port}})})
    for address in ("127.0.0.1", "::1"):
        with child_listener(address, port) as holder:
            result = devlint(tmp_path, "--format", "json", "run", "--", "ng", "serve")
        assert result.returncode == 1, result.stdout + result.stderr
        report, _ = json.JSONDecoder().raw_decode(result.stderr)  # stdout belongs to the command
        (finding,) = report["findings"]
        assert finding["code"] in ("DL101", "DL102") and f"pid {holder.pid}" in finding["message"]
        assert finding["evidence"]["port_source"] == "angular.json:11 projects.web.architect.serve.options.port"
