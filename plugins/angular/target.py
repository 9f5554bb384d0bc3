"""What ng serve serves: the project, its serve target's configurations, and the merged options.

One concern: from a read workspace and the command's ``NgArgs`` to the serve options ng serve
will run with (port, host, proxyConfig, ssl ...), each a ``Sourced`` value naming the line
that set it, and the DL602/DL603 findings where ng serve would stop.

Facts from the Angular CLI (21.x): ``@angular/cli`` ``src/command-builder/architect-command-module.ts``
and ``src/utilities/config.ts`` (the project named, else the only one with a serve target, else
the one whose root holds the working folder: ``findProjectByPath``; Angular < 14 served
``defaultProject``); ``@angular-devkit/architect`` (``options``, then each configuration of
``-c a,b`` or ``defaultConfiguration`` in order); ``@angular/build``
``builders/dev-server/schema.json`` (types, validated by ajv without coercion: ``"port": "4300"``
fails) and ``options.ts`` (``port ?? 4200``, host ``localhost``). Angular CLI 1.x served the
first app (or ``--app``) with ``defaults.serve``.
"""

from __future__ import annotations

import posixpath
from typing import Any, Dict, List, Optional, Sequence, Tuple

from devlint.model import Finding, Severity, Source, Sourced, escape_braces

from .cli import NG_DEFAULT, SERVE_KEYS, NgArgs, split_configurations
from .rules import RULES
from .workspace import NgProject, Workspace, type_problem

DEFAULT_PORT = 4200
DEFAULT_HOST = "localhost"
_LEGACY_DEFAULT = Source("default", "Angular CLI 1.x")


def choose_project(ws: Workspace, args: NgArgs, cwd_in_workspace: str,
                   service: str) -> Tuple[Optional[NgProject], Source, List[Finding]]:
    """The project ng serve serves, where that choice came from, and why it fails if it does."""
    if ws.legacy:
        return _choose_app(ws, args, service)
    if args.project is not None:
        return _named_project(ws, args, service)
    serveable = ws.serveable()
    if not serveable:
        if ws.projects:
            problem = RULES(
                "DL603", f"{service}: no project in {ws.shown} has a serve target "
                f"({', '.join(ws.projects)}); ng serve stops with \"Cannot determine project or "
                "target for command\"", service=service,
                hint="Run the dev server the project really uses, or add a serve target.",
                evidence={"file": ws.shown})
        else:
            problem = RULES("DL603", f"{service}: {ws.shown} has no projects", service=service,
                            evidence={"file": ws.shown})
        return None, NG_DEFAULT, [problem]
    if len(serveable) == 1:
        return ws.projects[serveable[0]], Source("default", "the only project with a serve target"), []
    if ws.default_project is not None and ws.default_project in serveable:
        # Angular < 14 served defaultProject; later versions dropped the key (and its migration
        # deletes it), so a workspace that still has it was made for a CLI that honours it.
        return ws.projects[ws.default_project], ws.source("defaultProject"), []
    by_cwd = _project_by_path(ws, serveable, cwd_in_workspace)
    if by_cwd is not None:
        return ws.projects[by_cwd], Source("default", f"project root {ws.projects[by_cwd].root or '.'} "
                                           "holds the working folder"), []
    first = ws.projects[serveable[0]]
    return first, Source("default", "first project with a serve target"), [RULES(
        "DL603", f"{service}: {ws.shown} has {len(serveable)} projects with a serve target "
        f"({', '.join(serveable)}) and none is named; ng serve stops with \"Cannot determine project "
        f"for command\". devlint checks the first, {first.name}",
        service=service, hint=f"Name the project: `ng serve {first.name}` (or `project = "
        f"\"{first.name}\"` in devlint.toml).", evidence={"projects": serveable}, severity=Severity.WARNING)]


def _named_project(ws: Workspace, args: NgArgs,
                   service: str) -> Tuple[Optional[NgProject], Source, List[Finding]]:
    assert args.project is not None
    found = ws.projects.get(args.project)
    if found is None:
        known = ", ".join(sorted(ws.projects)) or "none"
        return None, args.project_source, [RULES(
            "DL603", f"{service}: project {args.project!r} ({args.project_source}) does not exist in {ws.shown}",
            service=service, hint=f"ng serve stops with \"Project '{args.project}' does not exist\". "
            f"Projects: {known}.", evidence={"project": args.project})]
    if found.serve is None:
        return None, args.project_source, [RULES(
            "DL603", f"{service}: project {found.name!r} in {ws.shown} has no serve target",
            service=service, hint="ng serve cannot serve a library; name an application.",
            evidence={"project": found.name})]
    return found, args.project_source, []


def _choose_app(ws: Workspace, args: NgArgs, service: str) -> Tuple[Optional[NgProject], Source, List[Finding]]:
    """Angular CLI 1.x: `--app` by name or index, else the first app."""
    apps = list(ws.projects.values())
    if not apps:
        return None, NG_DEFAULT, [RULES("DL603", f"{service}: {ws.shown} lists no apps", service=service,
                                        evidence={"file": ws.shown})]
    if args.project is None:
        return apps[0], ws.source("apps", 0), []
    for app in apps:
        if args.project in (app.name, str(app.legacy_index)):
            return app, args.project_source, []
    return None, args.project_source, [RULES(
        "DL603", f"{service}: no app {args.project!r} in {ws.shown} ({args.project_source})",
        service=service, evidence={"project": args.project})]


def _project_by_path(ws: Workspace, names: Sequence[str], cwd: str) -> Optional[str]:
    """@angular/cli findProjectByPath: the deepest project root that holds the working folder."""
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


def choose_configurations(ws: Workspace, proj: NgProject, args: NgArgs) -> Tuple[Tuple[str, ...], Source]:
    """The configurations applied, in order: `-c a,b`, else the target's defaultConfiguration."""
    if args.configurations is not None:
        return args.configurations, args.configuration_source
    if proj.serve is not None and proj.serve.default_configuration:
        return (split_configurations(proj.serve.default_configuration),
                ws.source(*proj.serve.path, "defaultConfiguration"))
    return (), NG_DEFAULT


def serve_settings(ws: Workspace, proj: NgProject, configurations: Sequence[str],
                   configuration_source: Source, service: str,
                   env_port: Optional[Sourced[Any]]) -> Tuple[Dict[str, Sourced[Any]], List[Finding]]:
    """Defaults, then options, then each configuration in order, as the architect merges them."""
    findings: List[Finding] = []
    result: Dict[str, Sourced[Any]] = {}
    if ws.legacy:
        result["port"] = Sourced(DEFAULT_PORT, _LEGACY_DEFAULT)
        result["host"] = Sourced(DEFAULT_HOST, _LEGACY_DEFAULT)
        for key in SERVE_KEYS:
            if key in ws.legacy_serve:
                _take(ws, ("defaults", "serve", key), ws.legacy_serve[key], key, result, findings, service)
        if env_port is not None:  # `process.env.PORT || defaults.serve.port`
            result["port"] = env_port
        return result, findings
    target = proj.serve
    assert target is not None
    if target.angular_like:
        result["port"] = Sourced(DEFAULT_PORT, NG_DEFAULT)
        result["host"] = Sourced(DEFAULT_HOST, NG_DEFAULT)
    _merge(ws, (*target.path, "options"), target.options, result, findings, service)
    for name in configurations:
        body = target.configurations.get(name)
        path = (*target.path, "configurations", name)
        if body is None:
            known = ", ".join(target.configurations) or "none"
            findings.append(RULES(
                "DL603", f"{service}: configuration {name!r} ({configuration_source}) is not set for "
                f"{'.'.join(target.path)} in {ws.shown}",
                service=service, hint=f"ng serve stops (\"Configuration '{name}' is not set in the "
                f"workspace\"). Configurations: {known}.", evidence={"configuration": name}))
        elif not isinstance(body, dict):
            findings.append(type_problem(ws, path, body, "an object of options", service,
                                         "ng serve rejects the target"))
        else:
            _merge(ws, path, body, result, findings, service)
    return result, findings


def _merge(ws: Workspace, path: Tuple[str, ...], options: Dict[str, Any], result: Dict[str, Sourced[Any]],
           findings: List[Finding], service: str) -> None:
    """The serve options of one object of the workspace file, over those merged so far."""
    for key, value in options.items():
        if key in SERVE_KEYS:
            _take(ws, (*path, key), value, key, result, findings, service)


def _take(ws: Workspace, path: Tuple[str, ...], value: Any, key: str, result: Dict[str, Sourced[Any]],
          findings: List[Finding], service: str) -> None:
    """One option from the workspace file, type-checked as the builder's schema does (ajv,
    no type coercion: "port": "4300" fails validation and ng serve does not start)."""
    source = ws.source(*path)
    fix = f"{escape_braces(ws.shown)}: {escape_braces('.'.join(path))} = {{port}}"
    if key == "port":
        if isinstance(value, int) and not isinstance(value, bool):  # 4304.0 is read as 4304 (jsonc.whole)
            result[key] = Sourced(value, source, fix)
            return
        if isinstance(value, float):  # a number to the schema, but no port to Node's listen()
            findings.append(type_problem(
                ws, path, value, "a whole number from 0 to 65535", service,
                "ng serve stops: Node refuses the port (ERR_SOCKET_BAD_PORT)"))
            return
        intended = value.strip() if isinstance(value, str) and value.strip().isdigit() else None
        findings.append(type_problem(
            ws, path, value, "a number", service,
            "ng serve stops with \"Schema validation failed ... must be number\""
            + (f"; write {int(intended)} without quotes" if intended is not None else "")))
        if intended is not None:
            result[key] = Sourced(int(intended), source, fix)
        return
    expected_type: Any = bool if key == "ssl" else str
    if not isinstance(value, expected_type):
        findings.append(type_problem(ws, path, value, "a boolean" if key == "ssl" else "a string", service,
                                     "ng serve stops with \"Schema validation failed\""))
        return
    result[key] = Sourced(value, source)
