"""Angular dev server: the port, host, origin and proxy targets `ng serve` will use.

Everything follows the Angular CLI's own code (21.x: ``@angular/cli`` ``architect-command-module``
and ``utilities/config``; ``@angular/build`` ``builders/dev-server/options.ts``,
``utils/check-port.ts`` and ``utils/load-proxy-config.ts``):

- The workspace file is ``angular.json`` (or ``.angular.json``), found by walking up from the
  working folder; it is JSON with comments and trailing commas (jsonc-parser).
- ``ng serve [project]`` (aliases ``ng s`` and ``ng dev``; also ``ng run project:serve[:config]``)
  serves one project: the one named (positional or ``--project``), else the only project with a
  ``serve`` target, else the one whose root holds the working folder. Workspaces written for
  Angular < 14 name a ``defaultProject``, which those versions used first.
- The serve target (``architect`` or Nx's ``targets``) gives ``options``, then the
  configurations of ``-c/--configuration a,b`` (else ``defaultConfiguration``) override them in
  order, then command-line flags override everything. Defaults: port 4200, host localhost.
- ``PORT`` in the environment is **not** read: since Angular CLI 6 the port comes only from the
  serve target and ``--port`` (``normalizeOptions``: ``port ?? 4200``). Only Angular CLI 1.x
  (``.angular-cli.json``) read it (``process.env.PORT || defaults.serve.port``), so devlint
  honours PORT for such legacy workspaces and says that it is ignored everywhere else.
- ``port 0`` asks for a random free port, which devlint cannot check.
- A busy port: ``checkPort`` binds the port on the host first; without a terminal ng serve exits
  ("Port 4200 is already in use"), with one it asks whether to use another. It never moves by
  itself, so a busy port is an error. It binds the first address the host resolves to, which
  is what devlint assumes for every endpoint without explicit binds.
- Proxy configs (``proxyConfig``, resolved from the workspace folder): ``.json`` is JSONC, in
  object form (``{"/api": {"target": ...}}``) or array form (``[{"context": [...], ...}]``);
  ``.js/.mjs/.cjs`` are read **statically** with a small tokenizer — never run. A value devlint
  cannot read without running code (``process.env.API``, a function call) is reported with its
  file and line rather than guessed.

Finding codes DL601-DL609 (see ``CODES``).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Set, Tuple, Union

from devlint import hookimpl
from devlint.model import (
    Command,
    Endpoint,
    Explanation,
    Finding,
    Listener,
    Service,
    Severity,
    Source,
    Upstream,
)
from devlint.project import FileProblem, Project

KIND = "angular"
DEFAULT_PORT = 4200
DEFAULT_HOST = "localhost"
WORKSPACE_FILES = ("angular.json", ".angular.json")
LEGACY_FILES = (".angular-cli.json", "angular-cli.json")  # Angular CLI 1.x
SERVE_COMMANDS = ("serve", "s", "dev")  # @angular/cli command-config.ts: serve, aliases dev and s
NG_DEFAULT = Source("default", "ng serve")
SERVE_KEYS = ("port", "host", "proxyConfig", "ssl", "sslKey", "sslCert")

CODES: Mapping[str, str] = {
    "DL601": "error: the workspace file (angular.json) is missing, unreadable or not valid JSON",
    "DL602": "error: a serve option of the wrong type (port \"4300\" as a string, port 70000, "
    "--port abc); ng serve stops with a schema validation error",
    "DL603": "error: the project or configuration does not exist, or ng serve cannot tell which "
    "project to serve",
    "DL604": "info: the port cannot be checked (port 0 is random; a custom builder sets its own)",
    "DL605": "error: the proxy config file is missing or not valid JSON; ng serve stops",
    "DL606": "info: a proxy value is computed (process.env, a variable, a function) and cannot be "
    "read without running the file",
    "DL607": "warning: a proxy entry the dev server ignores or cannot use (no target, no scheme, "
    "not an object)",
    "DL608": "info: PORT is set, but ng serve (Angular CLI 6 and later) ignores it",
    "DL609": "error: a proxy target is the dev server itself (every proxied request loops)",
}

# Command-line options of ng serve that take a value (camelCase; kebab-case is accepted too).
_VALUE_OPTS = {
    "port", "host", "proxyConfig", "sslKey", "sslCert", "publicHost", "servePath", "poll",
    "buildTarget", "browserTarget", "baseHref", "deployUrl", "allowedHosts", "define", "headers",
    "configuration", "project", "i18nMissingTranslation", "outputPath", "inspect", "app",
}
_BOOL_OPTS = {
    "ssl", "open", "verbose", "liveReload", "hmr", "watch", "disableHostCheck", "aot", "sourceMap",
    "progress", "prebundle", "forceEsbuild", "optimization", "commonChunk", "vendorChunk",
    "namedChunks", "extractLicenses", "buildOptimizer", "hmrWarning", "help", "prod",
}
_SHORT = {"c": "configuration", "o": "open", "H": "host", "p": "port"}  # -H/-p: Angular CLI 1.x
_NG_NAMES = ("ng", "ng.js", "ng.cmd", "ng.exe", "ng.ps1")
PathKey = Tuple[Union[str, int], ...]


# -- hooks -------------------------------------------------------------------------------


@hookimpl
def devlint_service_kinds() -> Mapping[str, Mapping[str, str]]:
    return {
        KIND: {
            "project": "the angular.json project to serve, like `ng serve PROJECT` "
            "(default: the one ng serve picks)",
            "configuration": "the serve configuration(s), like -c (\"development\" or "
            "\"production,staging\"); default: the target's defaultConfiguration",
            "config": "path of angular.json, relative to the service's path (default: found by "
            "walking up)",
        }
    }


@hookimpl
def devlint_package_binaries() -> Mapping[str, str]:
    return {"@angular/cli": "ng", "@nrwl/cli": "nx", "@nx/cli": "nx"}


@hookimpl
def devlint_command_services(command: Command, project: Project) -> Optional[Sequence[Service]]:
    args = parse_command(command.argv)
    if args is None:
        return None
    return [build(project, command.cwd, args, command=command, path=command.cwd)]


@hookimpl
def devlint_resolve_service(service: Service, project: Project) -> Optional[Service]:
    if service.kind != KIND:
        return None
    return resolve_configured(service, project)


@hookimpl
def devlint_detect_services(project: Project) -> Optional[Sequence[Service]]:
    names = (*WORKSPACE_FILES, *LEGACY_FILES)
    if not any(project.exists(name) for name in names):
        return None
    found = build(project, ".", NgArgs(), detecting=True)
    if not found.endpoints and all(f.code in ("DL603", "DL604") for f in found.diagnostics):
        return None  # a library-only workspace, or a serve target of another tool: nothing to check
    return [found]


@hookimpl
def devlint_check_service(service: Service, project: Project) -> Optional[Iterable[Finding]]:
    if service.kind != KIND:
        return None
    return list(check(service))


@hookimpl
def devlint_explain_listener(
    listener: Listener, service: Service, endpoint: Endpoint, platform: str
) -> Optional[Explanation]:
    if not _is_ng_serve(listener.cmdline):
        return None
    ours = service.kind == KIND
    why = f"{listener.owner()} is an Angular dev server (`ng serve`) listening on {listener.where()}"
    if ours:
        why += ", probably left over from an earlier run"
    fix = (
        f"stop it (Ctrl-C in its terminal, or `kill {listener.pid}`, or run devlint with --kill)"
        if listener.pid
        else "stop the other `ng serve` (Ctrl-C in its terminal)"
    )
    if endpoint.fix:
        fix += f", or move this one: {endpoint.fix.format(port=endpoint.port + 1)}"
    # A dev server of the user's own, whichever stack it belongs to: --kill may offer to stop it.
    return Explanation(title="Angular dev server (ng serve)", why=why, fix=fix, stale=True)


def _is_ng_serve(cmdline: Optional[Sequence[str]]) -> bool:
    if not cmdline:
        return False
    words = [os.path.basename(str(w).replace("\\", "/")).lower() for w in cmdline]
    return any(word in _NG_NAMES and words[i + 1] in SERVE_COMMANDS for i, word in enumerate(words[:-1]))


# -- values with provenance ---------------------------------------------------------------


@dataclass(frozen=True)
class Setting:
    """A serve option as ng serve will see it, and where it came from."""

    value: Any
    source: Source
    fix: str = ""  # how to change it, with "{port}" where a new port goes


def _braces(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


def _describe(value: Any) -> str:
    import json

    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, str):
        return f"the string {json.dumps(value)}"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, Opaque):
        return _code(value.text)
    return "an object" if isinstance(value, dict) else "an array"


def _code(text: str) -> str:
    """Source code quoted for a message (template literals carry their own backticks)."""
    return text if "`" in text else f"`{text}`"


def _where(source: Source) -> str:
    """A source as the start of a message: `angular.json:12` (file) or `flag --port x`."""
    if source.kind == "file":
        return source.where + (f":{source.line}" if source.line else "")
    return str(source)


# -- the workspace file ----------------------------------------------------------------------


@dataclass
class ServeTarget:
    path: Tuple[str, ...]  # ("projects", "web", "architect", "serve")
    builder: Optional[str]
    options: Dict[str, Any]
    configurations: Dict[str, Any]
    default_configuration: Optional[str]

    @property
    def angular_like(self) -> bool:
        """Builders that take the Angular dev server's options and defaults (4200, localhost).
        Others (``@angular-devkit/build-webpack:webpack-dev-server``, a relative builder) take
        their port from somewhere devlint cannot see."""
        if not self.builder:
            return False
        package, _, name = self.builder.rpartition(":")
        if name == "dev-server":
            return not package.startswith(".")
        return name == "webpack-dev-server" and package in ("@nrwl/angular", "@nx/angular")


@dataclass
class NgProject:
    name: str
    project_type: Optional[str]
    root: str
    serve: Optional[ServeTarget]
    legacy_index: Optional[int] = None


@dataclass
class Workspace:
    """angular.json (or a legacy .angular-cli.json) as read, with the line of every value."""

    shown: str
    legacy: bool = False
    projects: Dict[str, NgProject] = field(default_factory=dict)
    default_project: Optional[str] = None
    problems: List[Finding] = field(default_factory=list)
    readable: bool = True
    value: Any = None
    _doc: Any = None

    def line(self, *path: Union[str, int]) -> Optional[int]:
        if self._doc is None:
            return None
        found: Optional[int] = self._doc.line(*path)
        return found

    def source(self, *path: Union[str, int]) -> Source:
        return Source("file", self.shown, self.line(*path), ".".join(str(p) for p in path))

    @property
    def legacy_serve(self) -> Dict[str, Any]:
        defaults = self.value.get("defaults") if isinstance(self.value, dict) else None
        serve = defaults.get("serve") if isinstance(defaults, dict) else None
        return serve if isinstance(serve, dict) else {}

    def serveable(self) -> List[str]:
        return [name for name, proj in self.projects.items() if proj.serve is not None]


def parse_workspace(text: str, shown: str, service: str = KIND, legacy: bool = False) -> Workspace:
    """Parse angular.json text (comments and trailing commas allowed, as the CLI's jsonc-parser
    does). Never raises: problems become findings on the result."""
    from devlint.readers.jsonc import JsoncError, loads

    ws = Workspace(shown, legacy=legacy)
    try:
        doc = loads(text)
    except JsoncError as exc:
        ws.readable = False
        ws.problems.append(Finding(
            "DL601", Severity.ERROR, f"{shown}:{exc.line}:{exc.column}: invalid JSON: {exc.msg}",
            service=service, hint="ng serve cannot start until the workspace file parses; fix the "
            "syntax at that line.", evidence={"file": shown, "line": exc.line, "column": exc.column}))
        return ws
    ws._doc, ws.value = doc, doc.value
    if not isinstance(doc.value, dict):
        ws.readable = False
        ws.problems.append(Finding(
            "DL601", Severity.ERROR, f"{shown}:{doc.line() or 1}: expected a JSON object at the top "
            f"level, got {_describe(doc.value)}", service=service, evidence={"file": shown}))
        return ws
    if legacy:
        _legacy_projects(ws)
        return ws
    default = doc.value.get("defaultProject")
    if isinstance(default, str) and default:
        ws.default_project = default
    projects = doc.value.get("projects")
    if projects is None:
        return ws
    if not isinstance(projects, dict):
        ws.problems.append(_type_problem(ws, ("projects",), projects, "an object of projects", service,
                                         Severity.ERROR, "ng serve finds no project"))
        return ws
    for name, body in projects.items():
        if not isinstance(body, dict):
            ws.problems.append(_type_problem(ws, ("projects", name), body, "a project object", service,
                                             Severity.WARNING, "devlint skips it"))
            continue
        ws.projects[name] = NgProject(
            name=name,
            project_type=body.get("projectType") if isinstance(body.get("projectType"), str) else None,
            root=str(body["root"]) if isinstance(body.get("root"), str) else "",
            serve=_serve_target(ws, name, body, service),
        )
    return ws


def _serve_target(ws: Workspace, name: str, body: Dict[str, Any], service: str) -> Optional[ServeTarget]:
    # The CLI's workspace reader accepts "targets" for "architect"; Nx writes "executor".
    for key in ("architect", "targets"):
        targets = body.get(key)
        if targets is None:
            continue
        path: Tuple[str, ...] = ("projects", name, key)
        if not isinstance(targets, dict):
            ws.problems.append(_type_problem(ws, path, targets, "an object of targets", service,
                                             Severity.WARNING, "ng serve finds no serve target"))
            return None
        serve = targets.get("serve")
        if serve is None:
            continue
        path = (*path, "serve")
        if not isinstance(serve, dict):
            ws.problems.append(_type_problem(ws, path, serve, "a target object", service,
                                             Severity.ERROR, "ng serve cannot run it"))
            return None
        builder = serve.get("builder", serve.get("executor"))
        options = serve.get("options")
        if options is not None and not isinstance(options, dict):
            ws.problems.append(_type_problem(ws, (*path, "options"), options, "an object of options",
                                             service, Severity.ERROR, "ng serve rejects the target"))
        configurations = serve.get("configurations")
        if configurations is not None and not isinstance(configurations, dict):
            ws.problems.append(_type_problem(ws, (*path, "configurations"), configurations,
                                             "an object of configurations", service, Severity.ERROR,
                                             "ng serve rejects the target"))
        default = serve.get("defaultConfiguration")
        return ServeTarget(
            path=path,
            builder=builder if isinstance(builder, str) else None,
            options=options if isinstance(options, dict) else {},
            configurations=configurations if isinstance(configurations, dict) else {},
            default_configuration=default if isinstance(default, str) and default else None,
        )
    return None


def _legacy_projects(ws: Workspace) -> None:
    """Angular CLI 1.x: `apps` is a list; every app is served with `defaults.serve`."""
    apps = ws.value.get("apps")
    if not isinstance(apps, list):
        return
    project = ws.value.get("project")
    project_name = project.get("name") if isinstance(project, dict) else None
    for index, app in enumerate(apps):
        if not isinstance(app, dict):
            continue
        name = app.get("name")
        if not isinstance(name, str) or not name:
            name = project_name if index == 0 and isinstance(project_name, str) and project_name else str(index)
        ws.projects[name] = NgProject(name=name, project_type="application",
                                      root=str(app.get("root") or ""), serve=None, legacy_index=index)


def _type_problem(ws: Workspace, path: Tuple[str, ...], value: Any, expected: str, service: str,
                  severity: Severity, consequence: str) -> Finding:
    line = ws.line(*path)
    where = f"{ws.shown}:{line}" if line else ws.shown
    return Finding("DL602", severity,
                   f"{where}: {'.'.join(path)}: expected {expected}, got {_describe(value)}; {consequence}",
                   service=service, evidence={"file": ws.shown, "line": line, "key": ".".join(path)})


# -- the command line ---------------------------------------------------------------------------


@dataclass
class NgArgs:
    """What an `ng serve` invocation (or a devlint.toml angular service) asks for."""

    project: Optional[str] = None
    project_source: Source = NG_DEFAULT
    configurations: Optional[Tuple[str, ...]] = None
    configuration_source: Source = NG_DEFAULT
    flags: Dict[str, Setting] = field(default_factory=dict)  # port/host/proxyConfig/ssl... as typed
    config: Optional[str] = None  # another workspace file (devlint.toml `config`)


def _camel(name: str) -> str:
    return re.sub(r"-([a-z0-9])", lambda m: m.group(1).upper(), name)


def parse_command(argv: Sequence[str]) -> Optional[NgArgs]:
    """`ng serve|s|dev [project] [flags]` or `ng run project:serve[:config]` → NgArgs."""
    if not argv or os.path.basename(str(argv[0]).replace("\\", "/")).lower() not in _NG_NAMES:
        return None
    words = [str(w) for w in argv[1:]]
    while words and words[0].startswith("-"):
        words.pop(0)  # ng's own flags before the command (--help ...); none take a value
    if not words:
        return None
    args = NgArgs()
    sub, rest = words[0], words[1:]
    if sub == "run":
        spec = next((w for w in rest if not w.startswith("-")), None)
        parts = spec.split(":") if spec else []
        if len(parts) < 2 or parts[1] != "serve":
            return None
        rest = [w for w in rest if w != spec]
        args.project, args.project_source = parts[0] or None, Source("command", f"ng run {spec}")
        if len(parts) > 2 and parts[2]:
            args.configurations = tuple(c.strip() for c in parts[2].split(",") if c.strip())
            args.configuration_source = Source("command", f"ng run {spec}")
    elif sub not in SERVE_COMMANDS:
        return None
    _parse_flags(rest, args, positional_project=sub != "run")
    return args


def _parse_flags(words: Sequence[str], args: NgArgs, positional_project: bool) -> None:
    i = 0
    while i < len(words):
        word = words[i]
        i += 1
        if word == "--":
            break
        if not word.startswith("-") or word == "-":
            if positional_project and args.project is None:
                args.project, args.project_source = word, Source("command", f"ng serve {word}")
            continue
        typed, eq, inline = word.partition("=")
        if typed.startswith("--"):
            name = _camel(typed[2:])
        else:
            name = _SHORT.get(typed[1:2], typed[1:])
            if not eq and len(typed) > 2 and typed[1:2] in _SHORT and _SHORT[typed[1:2]] in _VALUE_OPTS:
                eq, inline = "=", typed[2:]  # -cproduction
        negated = name.startswith("no") and name[2:3].isupper() and _lower_first(name[2:]) in _BOOL_OPTS
        if negated:
            name = _lower_first(name[2:])
        value: Optional[str]
        if eq:
            value = inline
        elif negated:
            value = "false"
        elif name in _BOOL_OPTS:
            value = "true"
            if i < len(words) and words[i] in ("true", "false"):
                value = words[i]
                i += 1
        elif i < len(words) and (name in _VALUE_OPTS or not words[i].startswith("-")):
            value = words[i]
            i += 1
        else:
            value = "true"
        shown = word if eq or negated or (value == "true" and name in _BOOL_OPTS) else f"{typed} {value}"
        source = Source("flag", shown)
        if name == "project":
            args.project, args.project_source = value, source
        elif name == "configuration":
            args.configurations = tuple(c.strip() for c in value.split(",") if c.strip())
            args.configuration_source = source
        elif name == "app":  # Angular CLI 1.x: the app of .angular-cli.json, by name or index
            args.project, args.project_source = value, source
        elif name in SERVE_KEYS:
            parsed: Any = value
            if name == "ssl":
                parsed = value.lower() not in ("false", "0", "")
            args.flags[name] = Setting(parsed, source)


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


# -- which project, which options --------------------------------------------------------------


def choose_project(ws: Workspace, args: NgArgs, cwd_in_workspace: str,
                   service: str) -> Tuple[Optional[NgProject], Source, List[Finding]]:
    """The project ng serve serves, where that choice came from, and why it fails if it does."""
    findings: List[Finding] = []
    if ws.legacy:
        apps = list(ws.projects.values())
        if not apps:
            findings.append(Finding("DL603", Severity.ERROR, f"{service}: {ws.shown} lists no apps",
                                    service=service, evidence={"file": ws.shown}))
            return None, NG_DEFAULT, findings
        if args.project is not None:
            for app in apps:
                if args.project in (app.name, str(app.legacy_index)):
                    return app, args.project_source, findings
            findings.append(Finding("DL603", Severity.ERROR,
                                    f"{service}: no app {args.project!r} in {ws.shown} ({args.project_source})",
                                    service=service, evidence={"project": args.project}))
            return None, args.project_source, findings
        return apps[0], ws.source("apps", 0), findings
    serveable = ws.serveable()
    if args.project is not None:
        found = ws.projects.get(args.project)
        if found is None:
            known = ", ".join(sorted(ws.projects)) or "none"
            findings.append(Finding(
                "DL603", Severity.ERROR,
                f"{service}: project {args.project!r} ({args.project_source}) does not exist in {ws.shown}",
                service=service, hint=f"ng serve stops with \"Project '{args.project}' does not exist\". "
                f"Projects: {known}.", evidence={"project": args.project}))
            return None, args.project_source, findings
        if found.serve is None:
            findings.append(_no_serve(ws, found, service))
            return None, args.project_source, findings
        return found, args.project_source, findings
    if not serveable:
        if ws.projects:
            findings.append(Finding(
                "DL603", Severity.ERROR,
                f"{service}: no project in {ws.shown} has a serve target "
                f"({', '.join(ws.projects)}); ng serve stops with \"Cannot determine project or "
                "target for command\"", service=service,
                hint="Run the dev server the project really uses, or add a serve target.",
                evidence={"file": ws.shown}))
        else:
            findings.append(Finding("DL603", Severity.ERROR, f"{service}: {ws.shown} has no projects",
                                    service=service, evidence={"file": ws.shown}))
        return None, NG_DEFAULT, findings
    if len(serveable) == 1:
        return ws.projects[serveable[0]], Source("default", "the only project with a serve target"), findings
    if ws.default_project in serveable:
        # Angular < 14 served defaultProject; later versions dropped the key (and its migration
        # deletes it), so a workspace that still has it was made for a CLI that honours it.
        assert ws.default_project is not None
        return ws.projects[ws.default_project], ws.source("defaultProject"), findings
    by_cwd = _project_by_path(ws, serveable, cwd_in_workspace)
    if by_cwd is not None:
        return ws.projects[by_cwd], Source("default", f"project root {ws.projects[by_cwd].root or '.'} "
                                           "holds the working folder"), findings
    first = ws.projects[serveable[0]]
    findings.append(Finding(
        "DL603", Severity.WARNING,
        f"{service}: {ws.shown} has {len(serveable)} projects with a serve target "
        f"({', '.join(serveable)}) and none is named; ng serve stops with \"Cannot determine project "
        f"for command\". devlint checks the first, {first.name}",
        service=service, hint=f"Name the project: `ng serve {first.name}` (or `project = "
        f"\"{first.name}\"` in devlint.toml).", evidence={"projects": serveable}))
    return first, Source("default", "first project with a serve target"), findings


def _no_serve(ws: Workspace, proj: NgProject, service: str) -> Finding:
    return Finding(
        "DL603", Severity.ERROR,
        f"{service}: project {proj.name!r} in {ws.shown} has no serve target",
        service=service, hint="ng serve cannot serve a library; name an application.",
        evidence={"project": proj.name})


def _project_by_path(ws: Workspace, names: Sequence[str], cwd: str) -> Optional[str]:
    """@angular/cli findProjectByPath: the deepest project root that holds the working folder."""
    import posixpath

    cwd = posixpath.normpath(cwd.replace("\\", "/") or ".")
    best: Optional[Tuple[int, str]] = None
    for name in names:
        root = posixpath.normpath(ws.projects[name].root.replace("\\", "/") or ".")
        rel = posixpath.relpath(cwd, root) if not root.startswith("/") else ".."
        if rel == ".." or rel.startswith("../"):
            continue
        depth = 0 if root == "." else len(root)
        if best is None or depth > best[0]:
            best = (depth, name)
    return best[1] if best else None


def serve_settings(ws: Workspace, proj: NgProject, configurations: Sequence[str],
                   configuration_source: Source, service: str,
                   env_port: Optional[Setting]) -> Tuple[Dict[str, Setting], List[Finding]]:
    """Defaults, then options, then each configuration in order, as the architect merges them."""
    findings: List[Finding] = []
    result: Dict[str, Setting] = {}
    if ws.legacy:
        result["port"] = Setting(DEFAULT_PORT, Source("default", "Angular CLI 1.x"))
        result["host"] = Setting(DEFAULT_HOST, Source("default", "Angular CLI 1.x"))
        for key in SERVE_KEYS:
            if key in ws.legacy_serve:
                _take(ws, ("defaults", "serve", key), ws.legacy_serve[key], key, result, findings, service)
        if env_port is not None:  # `process.env.PORT || defaults.serve.port`
            result["port"] = env_port
        return result, findings
    target = proj.serve
    assert target is not None
    if target.angular_like:
        result["port"] = Setting(DEFAULT_PORT, NG_DEFAULT)
        result["host"] = Setting(DEFAULT_HOST, NG_DEFAULT)
    for key, value in target.options.items():
        if key in SERVE_KEYS:
            _take(ws, (*target.path, "options", key), value, key, result, findings, service)
    for name in configurations:
        body = target.configurations.get(name)
        if body is None:
            known = ", ".join(target.configurations) or "none"
            findings.append(Finding(
                "DL603", Severity.ERROR,
                f"{service}: configuration {name!r} ({configuration_source}) is not set for "
                f"{'.'.join(target.path)} in {ws.shown}",
                service=service, hint=f"ng serve stops (\"Configuration '{name}' is not set in the "
                f"workspace\"). Configurations: {known}.", evidence={"configuration": name}))
            continue
        if not isinstance(body, dict):
            findings.append(_type_problem(ws, (*target.path, "configurations", name), body,
                                          "an object of options", service, Severity.ERROR,
                                          "ng serve rejects the target"))
            continue
        for key, value in body.items():
            if key in SERVE_KEYS:
                _take(ws, (*target.path, "configurations", name, key), value, key, result, findings, service)
    return result, findings


def _take(ws: Workspace, path: Tuple[str, ...], value: Any, key: str, result: Dict[str, Setting],
          findings: List[Finding], service: str) -> None:
    """One option from the workspace file, type-checked as the builder's schema does (ajv,
    no type coercion: "port": "4300" fails validation and ng serve does not start)."""
    source = ws.source(*path)
    fix = f"{_braces(ws.shown)}: {_braces('.'.join(path))} = {{port}}"
    if key == "port":
        if isinstance(value, int) and not isinstance(value, bool):
            result[key] = Setting(value, source, fix)
            return
        intended = value.strip() if isinstance(value, str) and value.strip().isdigit() else None
        findings.append(_type_problem(
            ws, path, value, "a number", service, Severity.ERROR,
            "ng serve stops with \"Schema validation failed ... must be number\""
            + (f"; write {int(intended)} without quotes" if intended is not None else "")))
        if intended is not None:
            result[key] = Setting(int(intended), source, fix)
        return
    expected_type: Any = bool if key == "ssl" else str
    if not isinstance(value, expected_type):
        findings.append(_type_problem(ws, path, value, "a boolean" if key == "ssl" else "a string",
                                      service, Severity.ERROR,
                                      "ng serve stops with \"Schema validation failed\""))
        return
    result[key] = Setting(value, source)


# -- building the service ------------------------------------------------------------------------


def _find_workspace(project: Project, cwd: str, explicit: Optional[str],
                    config_base: str) -> Tuple[Optional[Tuple[str, str]], bool]:
    """((relative name, folder), legacy) of the workspace file: the CLI's findUp from cwd."""
    if explicit:
        base = os.path.basename(explicit)
        return (explicit, config_base), base in LEGACY_FILES
    start = project.path(".", cwd).resolve()
    for folder in (start, *start.parents):
        for name in WORKSPACE_FILES:
            if project.exists(name, str(folder)):
                return (name, str(folder)), False
        for name in LEGACY_FILES:
            if project.exists(name, str(folder)):
                return (name, str(folder)), True
    return None, False


def build(project: Project, cwd: str, args: NgArgs, name: str = KIND,
          command: Optional[Command] = None, path: str = ".", detecting: bool = False,
          config_base: Optional[str] = None) -> Service:
    """The Angular dev server a command (or a configured service) starts: port, host, origin,
    proxy targets, each with where it came from. Never raises."""
    findings: List[Finding] = []
    details: Dict[str, Any] = {"workspace": None, "project": args.project,
                               "configurations": list(args.configurations or ())}
    text_cmd = command.text if command is not None and command.text else (
        " ".join(command.argv) if command is not None else "")
    located, legacy = _find_workspace(project, cwd, args.config, config_base or cwd)
    ws: Optional[Workspace] = None
    workspace_dir = str(project.path(".", cwd))
    if located is None:
        findings.append(Finding(
            "DL601", Severity.ERROR,
            f"{name}: no angular.json in {project.display(project.path('.', cwd))} or its parents; "
            "ng serve stops with \"This command is not available when running the Angular CLI "
            "outside a workspace\"", service=name, hint="Run it from the Angular project's folder "
            "(`cd frontend && ng serve`), or set `path` in devlint.toml."))
    else:
        relative, folder = located
        full = project.path(relative, folder)
        shown = project.display(full)
        details["workspace"] = shown
        workspace_dir = str(full.parent)
        try:
            text = project.read_text(relative, folder)
        except FileProblem as exc:
            text = None
            findings.append(Finding("DL601", Severity.ERROR, f"{exc.path} {exc.reason}", service=name,
                                    evidence={"file": exc.path}))
        else:
            if text is None:
                findings.append(Finding("DL601", Severity.ERROR, f"{name}: {shown} does not exist",
                                        service=name, evidence={"file": shown}))
        if text is not None:
            ws = parse_workspace(text, shown, name, legacy)
            findings.extend(ws.problems)
            details["legacy"] = legacy
        if ws is None or not ws.readable:  # ng serve stops before it binds anything
            return _service(name, path, command, details, findings, (), None, ())

    settings: Dict[str, Setting] = {}
    builder: Optional[str] = None
    env_port = _env_port(project, command)
    if ws is not None:
        cwd_in_ws = os.path.relpath(str(project.path(".", cwd).resolve()), str(project.path(workspace_dir).resolve()))
        proj, proj_source, problems = choose_project(ws, args, cwd_in_ws, name)
        findings.extend(problems)
        if proj is None:
            return _service(name, path, command, details, findings, (), None, ())
        details["project"], details["project_source"] = proj.name, str(proj_source)
        details["projects"] = ws.serveable() if not ws.legacy else list(ws.projects)
        configurations: Tuple[str, ...] = ()
        config_source = NG_DEFAULT
        if args.configurations is not None:
            configurations, config_source = args.configurations, args.configuration_source
        elif proj.serve is not None and proj.serve.default_configuration:
            configurations = tuple(c.strip() for c in proj.serve.default_configuration.split(",") if c.strip())
            config_source = ws.source(*proj.serve.path, "defaultConfiguration")
        details["configurations"] = list(configurations)
        details["configuration_source"] = str(config_source) if configurations else None
        if proj.serve is not None:
            builder = proj.serve.builder
            details["builder"] = builder
        settings, problems = serve_settings(ws, proj, configurations, config_source, name,
                                            env_port if ws.legacy else None)
        findings.extend(problems)
        if not ws.legacy and env_port is not None and not detecting:
            findings.append(Finding(
                "DL608", Severity.INFO,
                f"{name}: PORT={env_port.value} ({env_port.source}) is set, but ng serve ignores it "
                "(only Angular CLI 1.x read PORT); it uses the port of angular.json or --port",
                service=name, hint=f"Pass `--port {env_port.value}` to ng serve if that is the port you want.",
                evidence={"port": env_port.value}))
    else:
        settings = {"port": Setting(DEFAULT_PORT, NG_DEFAULT), "host": Setting(DEFAULT_HOST, NG_DEFAULT)}

    for key, flag in args.flags.items():  # command-line flags win over everything
        settings[key] = replace(flag, fix=f"`--port {{port}}` in `{_braces(text_cmd)}`" if text_cmd else "")

    endpoint, origin = _endpoint(settings, name, builder, findings, ws, text_cmd)
    upstreams: Tuple[Upstream, ...] = ()
    proxy = settings.get("proxyConfig")
    if proxy is not None and isinstance(proxy.value, str) and proxy.value:
        details["proxy_config"], details["proxy_source"] = proxy.value, str(proxy.source)
        # Angular resolves proxyConfig from the workspace root (the CLI 1.x too); flags given
        # without a workspace are relative to the working folder.
        base = workspace_dir if proxy.source.kind == "file" or ws is not None else str(project.path(".", cwd))
        read = read_proxy(project, proxy.value, base, name, proxy.source, builder)
        upstreams = tuple(read.upstreams)
        findings.extend(read.findings)
    ssl = settings.get("ssl")
    details["ssl"] = bool(ssl.value) if ssl is not None else False
    if ssl is not None:
        details["ssl_source"] = str(ssl.source)
    return _service(name, path, command, details, findings, (endpoint,) if endpoint else (), origin, upstreams,
                    source=Source("file", details["workspace"]) if command is None and details["workspace"] else None)


def _service(name: str, path: str, command: Optional[Command], details: Dict[str, Any],
             findings: List[Finding], endpoints: Tuple[Endpoint, ...], origin: Optional[str],
             upstreams: Tuple[Upstream, ...], source: Optional[Source] = None) -> Service:
    if source is None:
        source = Source("command", command.text or " ".join(command.argv)) if command is not None else Source(
            "default", "ng serve")
    return Service(name=name, kind=KIND, endpoints=endpoints, upstreams=upstreams, origin=origin, path=path,
                   source=source, details=details, diagnostics=tuple(findings))


def _env_port(project: Project, command: Optional[Command]) -> Optional[Setting]:
    """PORT as the ng process would see it: set by the script, else inherited."""
    if command is not None and "PORT" in command.env:
        raw: Optional[str] = command.env["PORT"]
        source = Source("env", "PORT (set by the script)")
    else:
        raw = project.getenv("PORT")
        source = Source("env", "PORT")
    if raw is None or not raw.strip():
        return None
    value: Any = int(raw.strip()) if raw.strip().isdigit() else raw.strip()
    return Setting(value, source, "PORT={port}")


def _endpoint(settings: Mapping[str, Setting], service: str, builder: Optional[str], findings: List[Finding],
              ws: Optional[Workspace], text_cmd: str) -> Tuple[Optional[Endpoint], Optional[str]]:
    port_setting = settings.get("port")
    host_setting = settings.get("host") or Setting(DEFAULT_HOST, NG_DEFAULT)
    host = host_setting.value if isinstance(host_setting.value, str) and host_setting.value else DEFAULT_HOST
    if port_setting is None:
        findings.append(Finding(
            "DL604", Severity.INFO,
            f"{service}: the serve target uses the builder {builder or '(none)'}, which sets its own port; "
            "devlint cannot tell which, so it checks none",
            service=service, hint="Give the port in devlint.toml (`port = N`) to have it checked.",
            evidence={"builder": builder}))
        return None, None
    port = _port_value(port_setting, service, findings)
    if port is None:
        return None, None
    if port == 0:
        findings.append(Finding(
            "DL604", Severity.INFO,
            f"{service}: port 0 ({port_setting.source}) makes ng serve pick a random free port; devlint cannot "
            "check it", service=service, hint="Give a fixed port to have it checked.", evidence={"port": 0}))
        return None, None
    fix = port_setting.fix
    if not fix:
        if ws is not None and port_setting.source.kind == "default":
            fix = f"`ng serve --port {{port}}`, or \"port\": {{port}} in the serve options of {_braces(ws.shown)}"
        else:
            fix = "`ng serve --port {port}`"
    ssl = settings.get("ssl")
    scheme = "https" if ssl is not None and ssl.value is True else "http"
    endpoint = Endpoint(scheme, port, host, port_setting.source, host_setting.source, fix=fix)
    return endpoint, _origin(scheme, host, port)


def _port_value(setting: Setting, service: str, findings: List[Finding]) -> Optional[int]:
    value = setting.value
    if isinstance(value, str):
        text = value.strip()
        if not text.isdigit():
            findings.append(Finding(
                "DL602", Severity.ERROR,
                f"{service}: port {value!r} ({setting.source}) is not a number; ng serve stops with "
                "\"Schema validation failed ... must be number\"", service=service,
                hint="Give a number such as 4200.", evidence={"value": value, "source": str(setting.source)}))
            return None
        value = int(text)
    if not isinstance(value, int) or isinstance(value, bool):
        return None
    if not 0 <= value <= 65535:
        findings.append(Finding(
            "DL602", Severity.ERROR,
            f"{service}: port {value} ({setting.source}) is outside 0-65535; ng serve stops "
            "(ERR_SOCKET_BAD_PORT)", service=service, hint="Give a port from 1 to 65535.",
            evidence={"value": value}))
        return None
    return value


def _origin(scheme: str, host: str, port: int) -> str:
    """The URL a browser loads the app from: what ng serve prints (a wildcard bind is opened
    as localhost)."""
    from devlint.addresses import WILDCARDS
    from devlint.addresses import plain as normalise

    address = normalise(host)
    if address in WILDCARDS or address == "":
        address = "localhost"
    shown = f"[{address}]" if ":" in address else address
    default = 443 if scheme == "https" else 80
    return f"{scheme}://{shown}" + ("" if port == default else f":{port}")


def resolve_configured(service: Service, project: Project) -> Service:
    """A devlint.toml service of kind angular: angular.json fills in what the user left out."""
    settings = service.settings
    table = service.source.key or f"services.{service.name}"
    problems: List[Finding] = []
    args = NgArgs()

    def toml_source(key: str) -> Source:
        return Source("file", service.source.where, service.source.line, f"{table}.{key}")

    for key in ("project", "configuration", "config"):
        value = settings.get(key)
        if value is None:
            continue
        if not isinstance(value, str) or not value.strip():
            where = service.source.where + (f":{service.source.line}" if service.source.line else "")
            problems.append(Finding("DL602", Severity.ERROR,
                                    f"{where}: {table}.{key}: expected a string, got {_describe(value)}",
                                    service=service.name, evidence={"key": f"{table}.{key}"}))
            continue
        if key == "project":
            args.project, args.project_source = value, toml_source(key)
        elif key == "configuration":
            args.configurations = tuple(c.strip() for c in value.split(",") if c.strip())
            args.configuration_source = toml_source(key)
        else:
            args.config = value
    built = build(project, service.path, args, name=service.name, path=service.path)
    endpoints = built.endpoints
    origin = built.origin
    if service.endpoints and ("port" in settings or "ports" in settings or "host" in settings):
        if "ports" in settings or not endpoints:
            endpoints = service.endpoints
        else:
            mine, theirs = endpoints[0], service.endpoints[0]
            if "port" in settings:
                mine = replace(mine, port=theirs.port, port_source=theirs.port_source,
                               fix=f"{_braces(_where(theirs.port_source))}: port = {{port}}")
            if "host" in settings:
                mine = replace(mine, host=theirs.host, host_source=theirs.host_source)
            endpoints = (mine,)
        first = endpoints[0]
        origin = _origin(first.name if first.name in ("http", "https") else "http", first.host, first.port)
    return replace(built, source=service.source, settings=settings, endpoints=endpoints, origin=origin,
                   diagnostics=tuple(problems) + built.diagnostics)


# -- checks ---------------------------------------------------------------------------------------


def check(service: Service) -> Iterable[Finding]:
    """A proxy target that is the dev server itself: every proxied request comes back in."""
    from devlint.addresses import LOOPBACKS, WILDCARDS
    from devlint.addresses import plain as normalise

    own = {ep.port for ep in service.endpoints}
    for upstream in service.upstreams:
        host = normalise(upstream.host)
        if upstream.port in own and host in ("localhost", *LOOPBACKS, *WILDCARDS):
            yield Finding(
                "DL609", Severity.ERROR,
                f"{service.name}: proxy {upstream.context} → {upstream.url} ({upstream.source}) points at the "
                f"dev server's own port {upstream.port}",
                service=service.name, hint="Every request to that path is proxied back to ng serve itself "
                "(a loop, then 504s). Point the target at the backend's port.",
                evidence={"target": upstream.url, "port": upstream.port})


# -- proxy configs -------------------------------------------------------------------------------------


@dataclass
class ProxyRead:
    shown: str
    format: Optional[str] = None  # "object" | "array"
    upstreams: List[Upstream] = field(default_factory=list)
    findings: List[Finding] = field(default_factory=list)
    routes: List[Dict[str, Any]] = field(default_factory=list)  # for tests and `devlint config`


def read_proxy(project: Project, relative: str, base: str, service: str = KIND,
               referenced: Optional[Source] = None, builder: Optional[str] = None) -> ProxyRead:
    """Every target of a proxy config file, each with its file, line and key. Never runs it."""
    full = project.path(relative, base)
    shown = project.display(full)
    read = ProxyRead(shown)
    by = f" ({referenced})" if referenced is not None else ""
    try:
        text = project.read_text(relative, base)
    except FileProblem as exc:
        read.findings.append(Finding("DL605", Severity.ERROR, f"{service}: proxy config {exc.path}{by} {exc.reason}",
                                     service=service, evidence={"file": exc.path}))
        return read
    if text is None:
        read.findings.append(Finding(
            "DL605", Severity.ERROR, f"{service}: proxy config {shown}{by} does not exist",
            service=service, hint="ng serve stops with \"Proxy configuration file ... does not exist\". "
            "Fix the path (it is relative to the folder of angular.json).", evidence={"file": shown}))
        return read
    if full.suffix.lower() == ".json":
        parse_proxy_json(text, shown, service, read, builder)
    else:
        parse_proxy_js(text, shown, service, read, builder)
    return read


def parse_proxy_json(text: str, shown: str, service: str, read: ProxyRead,
                     builder: Optional[str] = None) -> ProxyRead:
    from devlint.readers.jsonc import JsoncError, loads

    try:
        doc = loads(text)
    except JsoncError as exc:
        read.findings.append(Finding(
            "DL605", Severity.ERROR, f"{shown}:{exc.line}:{exc.column}: invalid JSON: {exc.msg}",
            service=service, hint="ng serve stops with \"Proxy configuration file ... contains parse errors\".",
            evidence={"file": shown, "line": exc.line, "column": exc.column}))
        return read
    _routes(doc.value, lambda path: doc.line(*path), shown, service, read, builder)
    return read


def parse_proxy_js(text: str, shown: str, service: str, read: ProxyRead,
                   builder: Optional[str] = None) -> ProxyRead:
    exported, reader, problem = read_js_export(text)
    if problem is not None:
        read.findings.append(Finding(
            "DL606", Severity.INFO, f"{shown}:{problem[1]}: {problem[0]}; devlint does not run proxy "
            "files, so it cannot check these proxy targets", service=service,
            hint="Use a proxy.conf.json, or literal targets, to have them checked.",
            evidence={"file": shown, "line": problem[1]}))
        if exported is None:
            return read
    _routes(exported, lambda path: reader.lines.get(path), shown, service, read, builder)
    return read


_SCHEME_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def _routes(value: Any, line_of: Callable[[PathKey], Optional[int]], shown: str, service: str,
            read: ProxyRead, builder: Optional[str]) -> None:
    def where(path: PathKey) -> str:
        line = line_of(path)
        return f"{shown}:{line}" if line else shown

    def info(path: PathKey, message: str, code: str = "DL606", severity: Severity = Severity.INFO,
             hint: str = "") -> None:
        read.findings.append(Finding(code, severity, f"{where(path)}: {message}", service=service, hint=hint,
                                     evidence={"file": shown, "line": line_of(path)}))

    if isinstance(value, Opaque):
        info((), f"the exported proxy config is computed ({_code(value.text)}); devlint cannot read it without "
             "running the file")
        return
    if isinstance(value, dict):
        read.format = "object"
        for context, entry in value.items():
            path: PathKey = (context,)
            if isinstance(entry, Opaque):
                info(path, f"proxy {context}: its options are computed ({_code(entry.text)})")
            elif isinstance(entry, str):  # Vite and webpack-dev-server 4 take a bare target string
                _target(entry, path, str(context), line_of, shown, service, read)
            elif isinstance(entry, dict):
                _entry(entry, path, str(context), line_of, shown, service, read)
            else:
                info(path, f"{context!r} is {_describe(entry)}, not a proxy entry (an object with a "
                     "target); the dev server cannot use it", "DL607", Severity.WARNING,
                     "Move options such as changeOrigin inside a route's object.")
        return
    if isinstance(value, list):
        read.format = "array"
        for index, entry in enumerate(value):
            path = (index,)
            if isinstance(entry, Opaque):
                info(path, f"proxy entry {index} is computed ({_code(entry.text)})")
                continue
            if not isinstance(entry, dict):
                info(path, f"proxy entry {index} is {_describe(entry)}, not an object; it is ignored",
                     "DL607", Severity.WARNING)
                continue
            context = entry.get("context")
            if isinstance(context, Opaque):
                info((index, "context"), f"proxy entry {index}: its context is computed ({_code(context.text)})")
                contexts = [context.text]
            elif isinstance(context, str):
                contexts = [context]
                if builder and builder.startswith("@angular/build:"):
                    info((index, "context"), f"proxy entry {index}: context is a string; {builder} uses "
                         "array entries only when context is a list, so this one is ignored",
                         "DL607", Severity.WARNING, f"Write \"context\": [{context!r}].".replace("'", '"'))
                    continue
            elif isinstance(context, list) and context:
                contexts = [c.text if isinstance(c, Opaque) else str(c) for c in context]
            else:
                info(path, f"proxy entry {index} has no context (the paths it proxies); it is ignored",
                     "DL607", Severity.WARNING)
                continue
            _entry(entry, path, ", ".join(contexts), line_of, shown, service, read)
        return
    if value is None:
        return
    info((), f"the proxy config is {_describe(value)}, not an object or array of routes", "DL607",
         Severity.WARNING)


def _entry(entry: Dict[str, Any], path: PathKey, context: str, line_of: Callable[[PathKey], Optional[int]],
           shown: str, service: str, read: ProxyRead) -> None:
    target = entry.get("target")
    if target is None or target == "":
        line = line_of(path)
        if "router" in entry:
            read.findings.append(Finding(
                "DL606", Severity.INFO, f"{shown}:{line}: proxy {context}: a router function picks the target "
                "at run time", service=service, evidence={"file": shown, "line": line}))
            return
        read.findings.append(Finding(
            "DL607", Severity.WARNING, f"{shown}:{line}: proxy {context} has no target", service=service,
            hint="Add \"target\": \"http://localhost:PORT\".", evidence={"file": shown, "line": line}))
        return
    _target(target, (*path, "target"), context, line_of, shown, service, read)


def _target(target: Any, path: PathKey, context: str,
            line_of: Callable[[PathKey], Optional[int]], shown: str, service: str, read: ProxyRead) -> None:
    from urllib.parse import urlsplit

    line = line_of(path)
    key = ".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in path).replace(".[", "[")
    source = Source("file", shown, line, key)

    def problem(message: str, code: str = "DL607", severity: Severity = Severity.WARNING, hint: str = "") -> None:
        read.findings.append(Finding(code, severity, f"{shown}:{line}: proxy {context}: {message}",
                                     service=service, hint=hint, evidence={"file": shown, "line": line, "key": key}))

    if isinstance(target, Opaque):
        at = f" at line {target.line}" if target.line != line else ""
        problem(f"the target is computed ({_code(target.text)}{at}); devlint cannot read it without running the file",
                "DL606", Severity.INFO, "Write the target as a literal to have it checked.")
        return
    if isinstance(target, dict):  # http-proxy's {host, port, protocol}
        host, port, protocol = target.get("host"), target.get("port"), target.get("protocol", "http:")
        for part in (host, port, protocol):
            if isinstance(part, Opaque):
                problem(f"the target's {part.text} is computed; devlint cannot read it", "DL606", Severity.INFO)
                return
        if not isinstance(host, str) or not host:
            problem("the target object has no host")
            return
        scheme = str(protocol).rstrip(":").lower() or "http"
        if isinstance(port, int) and not isinstance(port, bool):
            number, inferred = port, False
        elif isinstance(port, str) and port.strip().isdigit():
            number, inferred = int(port), False
        else:
            number, inferred = _SCHEME_PORTS.get(scheme, 80), True
        shown_host = f"[{host}]" if ":" in host and not host.startswith("[") else host
        url = f"{scheme}://{shown_host}:{number}"
        _add(read, url, host, number, source, context, scheme, inferred)
        return
    if not isinstance(target, str):
        problem(f"the target is {_describe(target)}, not a URL")
        return
    text = target.strip()
    if "://" not in text:
        problem(f"the target {text!r} has no scheme; http-proxy cannot connect to it",
                hint=f"Write \"http://{text}\".")
        return
    try:
        parts = urlsplit(text)
        explicit = parts.port
    except ValueError:
        problem(f"the target {text!r} is not a valid URL (bad port)")
        return
    scheme = parts.scheme.lower()
    host = parts.hostname or ""
    if not host:
        problem(f"the target {text!r} has no host")
        return
    if scheme not in _SCHEME_PORTS:
        problem(f"the target {text!r} has the scheme {scheme}:, not http(s) or ws(s)")
        return
    number = explicit if explicit is not None else _SCHEME_PORTS[scheme]
    _add(read, text, host, number, source, context, scheme, explicit is None)


def _add(read: ProxyRead, url: str, host: str, port: int, source: Source, context: str, scheme: str,
         inferred: bool) -> None:
    read.upstreams.append(Upstream(url=url, host=host, port=port, source=source, context=context))
    read.routes.append({"context": context, "target": url, "host": host, "port": port, "scheme": scheme,
                        "port_inferred_from_scheme": inferred})


# -- JavaScript, read statically ------------------------------------------------------------------------


@dataclass(frozen=True)
class Opaque:
    """A JavaScript expression devlint does not evaluate (process.env.X, a variable, a call)."""

    text: str
    line: int


@dataclass(frozen=True)
class _Tok:
    kind: str  # str num name punc tmpl regex eof
    value: str
    line: int
    start: int
    end: int
    subst: bool = False  # a template literal with ${...}


_PUNCTS = ("...", "===", "!==", ">>>", "**=", "<<=", ">>=", "=>", "==", "!=", "<=", ">=", "&&", "||", "??",
           "?.", "++", "--", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "**", "<<", ">>")
_REGEX_AFTER = {"return", "typeof", "case", "do", "else", "in", "of", "new", "delete", "void", "throw",
                "instanceof", "yield", "await"}
_ESC = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}
_NUMBER = re.compile(r"(?:0[xXoObB][0-9a-fA-F_]+|\d[\d_]*(?:\.[\d_]*)?(?:[eE][+-]?\d+)?|\.\d[\d_]*(?:[eE][+-]?\d+)?)n?")
# A JavaScript identifier: ASCII letters, _ and $, or any non-ASCII BMP character. Written
# as alternations because a class mixing \w with a wide range costs ~7 ms to compile.
_BMP_NON_ASCII = r"[^\x00-\x7f\U00010000-\U0010ffff]"
_NAME = re.compile(rf"(?:[A-Za-z_$]|{_BMP_NON_ASCII})(?:[\w$]|{_BMP_NON_ASCII})*")
_MAX_NESTING = 64


def js_tokens(text: str) -> List[_Tok]:
    """Strings, numbers, names and punctuation of JavaScript source, comments dropped."""
    toks: List[_Tok] = []
    i, n, line = 0, len(text), 1
    while i < n:
        char = text[i]
        if char == "\n":
            line += 1
            i += 1
            continue
        if char in " \t\r\ufeff\u00a0\u2028\u2029":
            i += 1
            continue
        if text.startswith("//", i) or (text.startswith("#!", i) and i == 0):
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        if text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end < 0 else end + 2
            line += text.count("\n", i, end)
            i = end
            continue
        start, start_line = i, line
        if char in "'\"":
            value, i = _js_string(text, i, char)
            toks.append(_Tok("str", value, start_line, start, i))
            continue
        if char == "`":
            value, i, subst = _js_template(text, i)
            line += text.count("\n", start, i)
            toks.append(_Tok("tmpl", value, start_line, start, i, subst))
            continue
        if char.isdigit() or (char == "." and text[i + 1:i + 2].isdigit()):
            match = _NUMBER.match(text, i)
            i = match.end() if match else i + 1
            toks.append(_Tok("num", text[start:i], line, start, i))
            continue
        match = _NAME.match(text, i)
        if match:
            i = match.end()
            toks.append(_Tok("name", match.group(), line, start, i))
            continue
        if char == "/" and _regex_allowed(toks[-1] if toks else None):
            i = _js_regex(text, i)
            toks.append(_Tok("regex", text[start:i], line, start, i))
            continue
        op = next((p for p in _PUNCTS if text.startswith(p, i)), char)
        i += len(op)
        toks.append(_Tok("punc", op, line, start, i))
    toks.append(_Tok("eof", "", line, n, n))
    return toks


def _regex_allowed(prev: Optional[_Tok]) -> bool:
    if prev is None:
        return True
    if prev.kind == "punc":
        return prev.value not in (")", "]", "}", "++", "--")
    return prev.kind == "name" and prev.value in _REGEX_AFTER


def _js_string(text: str, i: int, quote: str) -> Tuple[str, int]:
    parts: List[str] = []
    i += 1
    n = len(text)
    while i < n:
        char = text[i]
        if char == quote:
            return "".join(parts), i + 1
        if char == "\n":
            return "".join(parts), i  # unterminated: stop at the line's end
        if char == "\\" and i + 1 < n:
            parts.append(_escape(text, i))
            i = _escape_end(text, i)
            continue
        parts.append(char)
        i += 1
    return "".join(parts), n


def _escape(text: str, i: int) -> str:
    nxt = text[i + 1]
    if nxt in _ESC:
        return _ESC[nxt]
    if nxt == "\n":
        return ""
    if nxt == "x" and re.fullmatch(r"[0-9a-fA-F]{2}", text[i + 2:i + 4]):
        return chr(int(text[i + 2:i + 4], 16))
    if nxt == "u":
        match = re.match(r"\{([0-9a-fA-F]{1,6})\}|([0-9a-fA-F]{4})", text[i + 2:i + 10])
        if match:
            code = int(match.group(1) or match.group(2), 16)
            return chr(code) if code <= 0x10FFFF else ""
    return nxt


def _escape_end(text: str, i: int) -> int:
    nxt = text[i + 1]
    if nxt == "x" and re.fullmatch(r"[0-9a-fA-F]{2}", text[i + 2:i + 4]):
        return i + 4
    if nxt == "u":
        match = re.match(r"\{[0-9a-fA-F]{1,6}\}|[0-9a-fA-F]{4}", text[i + 2:i + 10])
        if match:
            return i + 2 + match.end()
    return i + 2


def _js_template(text: str, i: int) -> Tuple[str, int, bool]:
    parts: List[str] = []
    subst = False
    i += 1
    n = len(text)
    while i < n:
        char = text[i]
        if char == "`":
            return "".join(parts), i + 1, subst
        if char == "\\" and i + 1 < n:
            parts.append(_escape(text, i))
            i = _escape_end(text, i)
            continue
        if text.startswith("${", i):
            subst = True
            depth, i = 1, i + 2
            while i < n and depth:
                if text[i] == "{":
                    depth += 1
                elif text[i] == "}":
                    depth -= 1
                elif text[i] in "'\"`":
                    close = text.find(text[i], i + 1)
                    i = n if close < 0 else close
                i += 1
            parts.append("${…}")
            continue
        parts.append(char)
        i += 1
    return "".join(parts), n, subst


def _js_regex(text: str, i: int) -> int:
    n = len(text)
    i += 1
    in_class = False
    while i < n and text[i] != "\n":
        char = text[i]
        if char == "\\":
            i += 2
            continue
        if char == "[":
            in_class = True
        elif char == "]":
            in_class = False
        elif char == "/" and not in_class:
            i += 1
            while i < n and (text[i].isalnum() or text[i] == "_"):
                i += 1
            return i
        i += 1
    return i


class JsReader:
    """Literal values of JavaScript source: objects, arrays, strings, numbers, booleans, and
    identifiers bound by a top-level `const NAME = literal`. Anything else is an Opaque."""

    def __init__(self, text: str, tokens: Sequence[_Tok]) -> None:
        self.text = text
        self.toks = tokens
        self.consts: Dict[str, Tuple[int, int]] = {}  # name → token range of its initialiser
        self.lines: Dict[PathKey, int] = {}
        self._active: Set[str] = set()

    # -- token helpers ------------------------------------------------------------
    def mark(self, path: PathKey, line: int) -> None:
        self.lines[path] = line

    def tok(self, i: int) -> _Tok:
        return self.toks[min(i, len(self.toks) - 1)]

    def is_punc(self, i: int, *values: str) -> bool:
        t = self.tok(i)
        return t.kind == "punc" and t.value in values

    def text_of(self, start: int, end: int) -> str:
        if end <= start:
            return self.tok(start).value
        raw = self.text[self.tok(start).start:self.tok(end - 1).end]
        raw = " ".join(raw.split())
        return raw if len(raw) <= 80 else raw[:77] + "..."

    def ends(self, i: int) -> bool:
        """Is token i where an expression stops (a separator, a closer, or a new statement)?"""
        t = self.tok(i)
        if t.kind == "eof" or self.is_punc(i, ",", "}", "]", ")", ";", ":"):
            return True
        return self.new_statement(i)

    def expr_end(self, i: int) -> int:
        """The first token after the expression starting at i (brackets balanced)."""
        depth = 0
        start = i
        while self.tok(i).kind != "eof":
            t = self.tok(i)
            if depth == 0 and i > start and self.new_statement(i):
                return i
            if t.kind == "punc":
                if t.value in "([{":
                    depth += 1
                elif t.value in ")]}":
                    if depth == 0:
                        return i
                    depth -= 1
                elif depth == 0 and t.value in (",", ";"):
                    return i
            i += 1
        return i

    def new_statement(self, i: int) -> bool:
        """Automatic semicolon insertion, roughly: a value-like token on a new line after a
        token that can end an expression starts the next statement."""
        t, prev = self.tok(i), self.tok(i - 1)
        return t.line > prev.line and t.kind in ("name", "str", "num", "tmpl") and (
            prev.kind != "punc" or prev.value in (")", "]", "}"))

    def skip_group(self, i: int) -> int:
        """The token after the bracket group opening at i."""
        depth = 0
        while self.tok(i).kind != "eof":
            if self.is_punc(i, "(", "[", "{"):
                depth += 1
            elif self.is_punc(i, ")", "]", "}"):
                depth -= 1
                if depth <= 0:
                    return i + 1
            i += 1
        return i

    # -- values -------------------------------------------------------------------------
    def value(self, i: int, path: PathKey, depth: int = 0) -> Tuple[Any, int]:
        t = self.tok(i)
        self.lines[path] = t.line
        start = i
        result: Any
        if depth > _MAX_NESTING:
            end = self.expr_end(i)
            return Opaque(self.text_of(start, end), t.line), end
        if self.is_punc(i, "{"):
            result, i = self.obj(i, path, depth)
        elif self.is_punc(i, "["):
            result, i = self.array(i, path, depth)
        elif t.kind == "str" or (t.kind == "tmpl" and not t.subst):
            result, i = t.value, i + 1
        elif t.kind == "num" or (self.is_punc(i, "-") and self.tok(i + 1).kind == "num"):
            negative = t.kind == "punc"
            number = self.number(self.tok(i + 1 if negative else i).value)
            if number is None:
                end = self.expr_end(i)
                return Opaque(self.text_of(start, end), t.line), end
            result, i = (-number if negative else number), i + (2 if negative else 1)
        elif t.kind == "name" and t.value in ("true", "false", "null", "undefined"):
            result, i = {"true": True, "false": False, "null": None, "undefined": None}[t.value], i + 1
        elif t.kind == "name" and t.value in self.consts and t.value not in self._active and self.ends(i + 1):
            begin, _ = self.consts[t.value]
            self._active.add(t.value)
            try:
                result, _ = self.value(begin, path, depth + 1)
            finally:
                self._active.discard(t.value)
            self.lines[path] = t.line
            return result, i + 1
        else:
            end = self.expr_end(i)
            return Opaque(self.text_of(start, end), t.line), max(end, i + 1)
        if not self.ends(i):  # `'http://' + host`, `{...}.x`: more expression follows
            end = self.expr_end(i)
            return Opaque(self.text_of(start, end), t.line), end
        return result, i

    @staticmethod
    def number(raw: str) -> Optional[Union[int, float]]:
        clean = raw.replace("_", "").rstrip("n")
        try:
            if clean[:2].lower() in ("0x", "0o", "0b"):
                return int(clean, 0)
            return int(clean) if clean.isdigit() else float(clean)
        except ValueError:
            return None

    def obj(self, i: int, path: PathKey, depth: int) -> Tuple[Dict[Any, Any], int]:
        result: Dict[Any, Any] = {}
        i += 1
        while True:
            t = self.tok(i)
            if t.kind == "eof":
                return result, i
            if self.is_punc(i, "}"):
                return result, i + 1
            if self.is_punc(i, ","):
                i += 1
                continue
            if self.is_punc(i, "..."):
                end = self.expr_end(i + 1)
                spread = "..." + self.text_of(i + 1, end)
                result[spread] = Opaque(spread, t.line)
                self.mark((*path, spread), t.line)
                i = end
                continue
            computed = False
            if self.is_punc(i, "["):
                after = self.skip_group(i)
                key: Any = "[" + self.text_of(i + 1, after - 1) + "]"
                computed = True
                key_at, i = i, after
            elif t.kind in ("str", "name", "num", "tmpl"):
                if t.kind == "name" and t.value in ("get", "set", "async") and self.tok(i + 1).kind in ("name", "str"):
                    i += 1
                    t = self.tok(i)
                key = t.value
                key_at, i = i, i + 1
            elif self.is_punc(i, "*"):
                i += 1
                continue
            else:  # something no object literal holds: skip to the next property
                i = max(self.expr_end(i), i + 1)
                continue
            if self.is_punc(i, ":"):
                value, i = self.value(i + 1, (*path, key), depth + 1)
            elif self.is_punc(i, "("):  # a method: `bypass(req) { ... }`
                after = self.skip_group(i)
                if self.is_punc(after, "{"):
                    after = self.skip_group(after)
                value = Opaque(self.text_of(key_at, after), self.tok(key_at).line)
                self.mark((*path, key), self.tok(key_at).line)
                i = after
            elif self.is_punc(i, ",", "}") and self.tok(key_at).kind == "name":  # shorthand `{ target }`
                value, _ = self.value(key_at, (*path, key), depth + 1)
            else:
                end = max(self.expr_end(i), i + 1)
                value = Opaque(self.text_of(key_at, end), self.tok(key_at).line)
                i = end
            if computed:
                value = Opaque(f"{key}: ...", self.tok(key_at).line)
                self.mark((*path, key), self.tok(key_at).line)
            result[key] = value
            if not self.is_punc(i, ",", "}"):
                i = max(self.expr_end(i), i + 1) if self.tok(i).kind != "eof" else i

    def array(self, i: int, path: PathKey, depth: int) -> Tuple[List[Any], int]:
        result: List[Any] = []
        i += 1
        expect_value = True
        while True:
            t = self.tok(i)
            if t.kind == "eof":
                return result, i
            if self.is_punc(i, "]"):
                return result, i + 1
            if self.is_punc(i, ","):
                if expect_value:
                    result.append(None)  # a hole
                expect_value = True
                i += 1
                continue
            if self.is_punc(i, "..."):
                end = self.expr_end(i + 1)
                self.mark((*path, len(result)), t.line)
                result.append(Opaque("..." + self.text_of(i + 1, end), t.line))
                i = end
            else:
                value, i = self.value(i, (*path, len(result)), depth + 1)
                result.append(value)
            expect_value = False
            if not self.is_punc(i, ",", "]") and self.tok(i).kind != "eof":
                i = max(self.expr_end(i), i + 1)


def read_js_export(text: str) -> Tuple[Any, JsReader, Optional[Tuple[str, int]]]:
    """(the exported value, the reader with its line table, a problem (message, line) or None).

    Looks at top-level `const|let|var NAME = ...`, `module.exports = ...` and `export default ...`;
    nothing is run, so values built by code (a loop filling an object, process.env) are Opaque.
    """
    toks = js_tokens(text)
    reader = JsReader(text, toks)
    exported: Any = None
    export_at: Optional[int] = None
    declared: Dict[str, int] = {}
    depth, i = 0, 0
    while reader.tok(i).kind != "eof":
        t = reader.tok(i)
        if t.kind == "punc" and t.value in "([{":
            depth += 1
        elif t.kind == "punc" and t.value in ")]}":
            depth = max(0, depth - 1)
        elif depth == 0 and t.kind == "name":
            if (t.value in ("const", "let", "var") and reader.tok(i + 1).kind == "name"
                    and reader.is_punc(i + 2, "=")):
                name = reader.tok(i + 1).value
                end = reader.expr_end(i + 3)
                reader.consts[name] = (i + 3, end)
                declared[name] = i + 1
                i = max(end, i + 3)
                continue
            if (t.value == "module" and reader.is_punc(i + 1, ".") and reader.tok(i + 2).value == "exports"
                    and reader.is_punc(i + 3, "=")):
                export_at = i + 4
            elif t.value == "export" and reader.tok(i + 1).value == "default":
                export_at = i + 2
            if export_at is not None and export_at > i:
                exported, i = reader.value(export_at, (), 0)
                continue
        i += 1
    if export_at is None:
        return None, reader, ("no `module.exports = ...` or `export default ...` that devlint can read", 1)
    root = reader.tok(export_at)
    if root.kind == "name" and root.value in declared:
        changed = _changed_later(reader, root.value, declared[root.value], export_at)
        if changed is not None:
            return exported, reader, (
                f"{root.value} is exported, but code at line {changed} changes it after its declaration; "
                "devlint reads only its literal value", changed)
    return exported, reader, None


def _changed_later(reader: JsReader, name: str, declared_at: int, export_at: int) -> Optional[int]:
    """The line of a use of `name` that may change it (`name[k] = ...`, `name.push(...)`, `name = ...`)."""
    for i, t in enumerate(reader.toks):
        if t.kind != "name" or t.value != name or i in (declared_at, export_at):
            continue
        if reader.is_punc(i - 1, "."):
            continue  # someone else's property of the same name
        if reader.is_punc(i + 1, ".", "[", "=", "+=") or reader.tok(i - 1).value in ("assign", "("):
            return t.line
    return None
