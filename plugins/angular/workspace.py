"""The workspace file: angular.json (or a legacy .angular-cli.json), found and read as ng does.

One concern: which projects a workspace declares and their serve targets, with the line of
every value, type-checked where a wrong type stops ng serve. Choosing among them is
``target.py``'s job.

Facts from the Angular CLI (21.x): ``@angular/cli`` ``src/utilities/config.ts`` (the file names
``angular.json`` and ``.angular.json``, found by walking up from the working folder) and
``@angular-devkit/core`` ``src/workspace/json/reader.ts`` (JSON with comments and trailing
commas, read with jsonc-parser; ``projects``, ``architect`` or its alias ``targets``, ``builder``,
``options``, ``configurations``, ``defaultConfiguration``; Nx writes ``executor``). Angular < 14
workspaces name a ``defaultProject``. Angular CLI 1.x read ``.angular-cli.json``: a list of
``apps``, all served with ``defaults.serve``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple, Union

from devlint.model import Finding, Severity, Source, describe
from devlint.project import Project
from devlint.readers.jsonc import Document, JsoncError, loads

from .rules import KIND, RULES

WORKSPACE_FILES = ("angular.json", ".angular.json")
LEGACY_FILES = (".angular-cli.json", "angular-cli.json")  # Angular CLI 1.x


@dataclass
class ServeTarget:
    """A project's `serve` target: its builder, options and named configurations."""

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
    """A project of the workspace (or an app of a legacy .angular-cli.json, by its index)."""

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
    _doc: Optional[Document] = None

    def line(self, *path: Union[str, int]) -> Optional[int]:
        return self._doc.line(*path) if self._doc is not None else None

    def source(self, *path: Union[str, int]) -> Source:
        return Source("file", self.shown, self.line(*path), ".".join(str(p) for p in path))

    @property
    def legacy_serve(self) -> Dict[str, Any]:
        defaults = self.value.get("defaults") if isinstance(self.value, dict) else None
        serve = defaults.get("serve") if isinstance(defaults, dict) else None
        return serve if isinstance(serve, dict) else {}

    def serveable(self) -> List[str]:
        return [name for name, proj in self.projects.items() if proj.serve is not None]


def find_workspace(project: Project, cwd: str, explicit: Optional[str],
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


def invalid_json(code: str, shown: str, exc: JsoncError, service: str, hint: str) -> Finding:
    """A JSON file ng serve cannot parse (the workspace file, a proxy config), at line:column."""
    return RULES(code, f"{shown}:{exc.line}:{exc.column}: invalid JSON: {exc.msg}", service=service, hint=hint,
                 evidence={"file": shown, "line": exc.line, "column": exc.column})


def parse_workspace(text: str, shown: str, service: str = KIND, legacy: bool = False) -> Workspace:
    """Parse angular.json text (comments and trailing commas allowed, as the CLI's jsonc-parser
    does). Never raises: problems become findings on the result."""
    ws = Workspace(shown, legacy=legacy)
    try:
        doc = loads(text)
    except JsoncError as exc:
        ws.readable = False
        ws.problems.append(invalid_json("DL601", shown, exc, service, "ng serve cannot start until the "
                                        "workspace file parses; fix the syntax at that line."))
        return ws
    ws._doc, ws.value = doc, doc.value
    if not isinstance(doc.value, dict):
        ws.readable = False
        ws.problems.append(RULES(
            "DL601", f"{shown}:{doc.line() or 1}: expected a JSON object at the top level, got "
            f"{describe(doc.value)}", service=service, evidence={"file": shown}))
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
        ws.problems.append(type_problem(ws, ("projects",), projects, "an object of projects", service,
                                        "ng serve finds no project"))
        return ws
    for name, body in projects.items():
        if not isinstance(body, dict):
            ws.problems.append(type_problem(ws, ("projects", name), body, "a project object", service,
                                            "devlint skips it", Severity.WARNING))
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
            ws.problems.append(type_problem(ws, path, targets, "an object of targets", service,
                                            "ng serve finds no serve target", Severity.WARNING))
            return None
        serve = targets.get("serve")
        if serve is None:
            continue
        path = (*path, "serve")
        if not isinstance(serve, dict):
            ws.problems.append(type_problem(ws, path, serve, "a target object", service, "ng serve cannot run it"))
            return None
        return _read_target(ws, path, serve, service)
    return None


def _read_target(ws: Workspace, path: Tuple[str, ...], serve: Dict[str, Any], service: str) -> ServeTarget:
    builder = serve.get("builder", serve.get("executor"))
    options = serve.get("options")
    if options is not None and not isinstance(options, dict):
        ws.problems.append(type_problem(ws, (*path, "options"), options, "an object of options", service,
                                        "ng serve rejects the target"))
    configurations = serve.get("configurations")
    if configurations is not None and not isinstance(configurations, dict):
        ws.problems.append(type_problem(ws, (*path, "configurations"), configurations,
                                        "an object of configurations", service, "ng serve rejects the target"))
    default = serve.get("defaultConfiguration")
    return ServeTarget(
        path=path,
        builder=builder if isinstance(builder, str) else None,
        options=options if isinstance(options, dict) else {},
        configurations=configurations if isinstance(configurations, dict) else {},
        default_configuration=default if isinstance(default, str) and default else None,
    )


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


def type_problem(ws: Workspace, path: Tuple[str, ...], value: Any, expected: str, service: str,
                 consequence: str, severity: Optional[Severity] = None) -> Finding:
    """DL602: a value of the workspace file has the wrong type (a warning where ng serve goes on
    and devlint only skips the part it cannot read)."""
    line = ws.line(*path)
    where = f"{ws.shown}:{line}" if line else ws.shown
    return RULES("DL602", f"{where}: {'.'.join(path)}: expected {expected}, got {describe(value)}; {consequence}",
                 service=service, evidence={"file": ws.shown, "line": line, "key": ".".join(path)},
                 severity=severity)
