"""The Angular dev server as a devlint Service: its endpoint, origin and proxy upstreams.

One concern: putting the pieces together for one `ng serve` (a command, a detected workspace or
a devlint.toml service) — workspace file, chosen project and options, command-line flags over
everything, then the port, host, scheme, the origin a browser loads, and the proxy targets.
Never raises: what stops ng serve is a finding on the service.

Facts from the Angular CLI (21.x): ``@angular/build`` ``builders/dev-server/options.ts``
(``normalizeOptions``: ``port ?? 4200``, host ``localhost``; ``PORT`` in the environment is not
read since Angular CLI 6, only 1.x read ``process.env.PORT || defaults.serve.port``),
``utils/check-port.ts`` (port 0 is a random free port; a busy port stops ng serve, it never
moves by itself) and ``utils/load-proxy-config.ts`` (``proxyConfig`` resolved from the workspace
folder); the URL ng serve prints opens a wildcard host as ``localhost``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from typing import Any, Dict, List, Mapping, Optional, Tuple

from devlint.addresses import bracketed, is_wildcard, plain
from devlint.model import Command, Endpoint, Finding, Service, Source, Sourced, Upstream, describe, escape_braces
from devlint.project import FileProblem, Project
from devlint.readers.jsonc import whole

from .cli import NG_DEFAULT, NgArgs, split_configurations
from .proxy import read_proxy
from .rules import KIND, RULES
from .target import DEFAULT_HOST, DEFAULT_PORT, choose_configurations, choose_project, serve_settings
from .workspace import Workspace, find_workspace, parse_workspace

# A decimal number as the CLI's option parser (yargs, `type: number`) reads `--port TEXT`.
_JS_DECIMAL = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


@dataclass
class _Build:
    """One build's inputs and what it has found so far."""

    project: Project
    cwd: str
    args: NgArgs
    name: str
    command: Optional[Command]
    path: str
    findings: List[Finding] = field(default_factory=list)
    details: Dict[str, Any] = field(default_factory=dict)

    def service(self, endpoints: Tuple[Endpoint, ...] = (), origin: Optional[str] = None,
                upstreams: Tuple[Upstream, ...] = (), source: Optional[Source] = None) -> Service:
        command = self.command
        if source is None:
            source = Source("command", command.text or " ".join(command.argv)) if command is not None else Source(
                "default", "ng serve")
        return Service(name=self.name, kind=KIND, endpoints=endpoints, upstreams=upstreams, origin=origin,
                       path=self.path, source=source, details=self.details, diagnostics=tuple(self.findings))


def build(project: Project, cwd: str, args: NgArgs, name: str = KIND,
          command: Optional[Command] = None, path: str = ".", detecting: bool = False,
          config_base: Optional[str] = None) -> Service:
    """The Angular dev server a command (or a configured service) starts: port, host, origin,
    proxy targets, each with where it came from. Never raises."""
    run = _Build(project, cwd, args, name, command, path, details={
        "workspace": None, "project": args.project, "configurations": list(args.configurations or ())})
    text_cmd = (command.text or " ".join(command.argv)) if command is not None else ""
    workspace_dir = str(project.path(".", cwd))
    located, legacy = find_workspace(project, cwd, args.config, config_base or cwd)
    ws: Optional[Workspace] = None
    if located is None:
        run.findings.append(RULES(
            "DL601", f"{name}: no angular.json in {project.display(project.path('.', cwd))} or its parents; "
            "ng serve stops with \"This command is not available when running the Angular CLI "
            "outside a workspace\"", service=name, hint="Run it from the Angular project's folder "
            "(`cd frontend && ng serve`), or set `path` in devlint.toml."))
    else:
        ws, workspace_dir = _read_workspace(run, located, legacy)
        if ws is None or not ws.readable:  # ng serve stops before it binds anything
            return run.service()
    env_port = _env_port(project, command)
    builder: Optional[str] = None
    if ws is not None:
        chosen = _workspace_settings(run, ws, workspace_dir, env_port, detecting)
        if chosen is None:
            return run.service()
        settings, builder = chosen
    else:
        settings = {"port": Sourced(DEFAULT_PORT, NG_DEFAULT), "host": Sourced(DEFAULT_HOST, NG_DEFAULT)}
    for key, flag in args.flags.items():  # command-line flags win over everything
        settings[key] = replace(flag, fix=f"`--port {{port}}` in `{escape_braces(text_cmd)}`" if text_cmd else "")
    endpoint, origin = _endpoint(settings, name, builder, run.findings, ws)
    upstreams = _upstreams(run, settings, workspace_dir, ws, builder)
    ssl = settings.get("ssl")
    run.details["ssl"] = bool(ssl.value) if ssl is not None else False
    if ssl is not None:
        run.details["ssl_source"] = str(ssl.source)
    workspace = run.details["workspace"]
    return run.service((endpoint,) if endpoint else (), origin, upstreams,
                       source=Source("file", workspace) if command is None and workspace else None)


def _read_workspace(run: _Build, located: Tuple[str, str], legacy: bool) -> Tuple[Optional[Workspace], str]:
    """The workspace file found, parsed (None when it cannot be read), and its folder."""
    relative, folder = located
    full = run.project.path(relative, folder)
    shown = run.project.display(full)
    run.details["workspace"] = shown
    try:
        text = run.project.read_text(relative, folder)
    except FileProblem as exc:
        run.findings.append(RULES("DL601", f"{exc.path} {exc.reason}", service=run.name,
                                  evidence={"file": exc.path}))
        return None, str(full.parent)
    if text is None:
        run.findings.append(RULES("DL601", f"{run.name}: {shown} does not exist", service=run.name,
                                  evidence={"file": shown}))
        return None, str(full.parent)
    ws = parse_workspace(text, shown, run.name, legacy)
    run.findings.extend(ws.problems)
    run.details["legacy"] = legacy
    return ws, str(full.parent)


def _workspace_settings(run: _Build, ws: Workspace, workspace_dir: str, env_port: Optional[Sourced[Any]],
                        detecting: bool) -> Optional[Tuple[Dict[str, Sourced[Any]], Optional[str]]]:
    """The serve options of the project ng serve picks, and its builder; None when ng serve
    cannot pick one."""
    project, details = run.project, run.details
    cwd_in_ws = os.path.relpath(str(project.path(".", run.cwd).resolve()), str(project.path(workspace_dir).resolve()))
    proj, proj_source, problems = choose_project(ws, run.args, cwd_in_ws, run.name)
    run.findings.extend(problems)
    if proj is None:
        return None
    details["project"], details["project_source"] = proj.name, str(proj_source)
    details["projects"] = ws.serveable() if not ws.legacy else list(ws.projects)
    configurations, config_source = choose_configurations(ws, proj, run.args)
    details["configurations"] = list(configurations)
    details["configuration_source"] = str(config_source) if configurations else None
    builder: Optional[str] = None
    if proj.serve is not None:
        builder = details["builder"] = proj.serve.builder
    settings, problems = serve_settings(ws, proj, configurations, config_source, run.name,
                                        env_port if ws.legacy else None)
    run.findings.extend(problems)
    if not ws.legacy and env_port is not None and not detecting:
        run.findings.append(RULES(
            "DL608", f"{run.name}: PORT={env_port.value} ({env_port.source}) is set, but ng serve ignores it "
            "(only Angular CLI 1.x read PORT); it uses the port of angular.json or --port",
            service=run.name, hint=f"Pass `--port {env_port.value}` to ng serve if that is the port you want.",
            evidence={"port": env_port.value}))
    return settings, builder


def _upstreams(run: _Build, settings: Mapping[str, Sourced[Any]], workspace_dir: str, ws: Optional[Workspace],
               builder: Optional[str]) -> Tuple[Upstream, ...]:
    """The proxy config's targets, read from the file proxyConfig names."""
    proxy = settings.get("proxyConfig")
    if proxy is None or not isinstance(proxy.value, str) or not proxy.value:
        return ()
    run.details["proxy_config"], run.details["proxy_source"] = proxy.value, str(proxy.source)
    # Angular resolves proxyConfig from the workspace root (the CLI 1.x too); flags given
    # without a workspace are relative to the working folder.
    base = workspace_dir if proxy.source.kind == "file" or ws is not None else str(run.project.path(".", run.cwd))
    read = read_proxy(run.project, proxy.value, base, run.name, proxy.source, builder)
    run.findings.extend(read.findings)
    return tuple(read.upstreams)


def _env_port(project: Project, command: Optional[Command]) -> Optional[Sourced[Any]]:
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
    return Sourced(value, source, "PORT={port}")


def _endpoint(settings: Mapping[str, Sourced[Any]], service: str, builder: Optional[str],
              findings: List[Finding], ws: Optional[Workspace]) -> Tuple[Optional[Endpoint], Optional[str]]:
    port_setting = settings.get("port")
    host_setting = settings.get("host") or Sourced(DEFAULT_HOST, NG_DEFAULT)
    host = host_setting.value if isinstance(host_setting.value, str) and host_setting.value else DEFAULT_HOST
    if port_setting is None:
        findings.append(RULES(
            "DL604", f"{service}: the serve target uses the builder {builder or '(none)'}, which sets its own "
            "port; devlint cannot tell which, so it checks none",
            service=service, hint="Give the port in devlint.toml (`port = N`) to have it checked.",
            evidence={"builder": builder}))
        return None, None
    port = _port_value(port_setting, service, findings)
    if port is None:
        return None, None
    if port == 0:
        findings.append(RULES(
            "DL604", f"{service}: port 0 ({port_setting.source}) makes ng serve pick a random free port; devlint "
            "cannot check it", service=service, hint="Give a fixed port to have it checked.", evidence={"port": 0}))
        return None, None
    fix = port_setting.fix
    if not fix:
        if ws is not None and port_setting.source.kind == "default":
            fix = f"`ng serve --port {{port}}`, or \"port\": {{port}} in the serve options of {escape_braces(ws.shown)}"
        else:
            fix = "`ng serve --port {port}`"
    ssl = settings.get("ssl")
    scheme = "https" if ssl is not None and ssl.value is True else "http"
    endpoint = Endpoint(scheme, port, host, port_setting.source, host_setting.source, fix=fix)
    return endpoint, _origin(scheme, host, port)


def _port_value(setting: Sourced[Any], service: str, findings: List[Finding]) -> Optional[int]:
    value = setting.value
    if isinstance(value, str):
        text = value.strip()
        if not _JS_DECIMAL.fullmatch(text):
            findings.append(RULES(
                "DL602", f"{service}: port {value!r} ({setting.source}) is not a number; ng serve stops with "
                "\"Schema validation failed ... must be number\"", service=service,
                hint="Give a number such as 4200.", evidence={"value": value, "source": str(setting.source)}))
            return None
        value = whole(float(text))  # the CLI reads `--port 4304.0` and `--port 4.3e3` as numbers
    if isinstance(value, float):
        findings.append(RULES(
            "DL602", f"{service}: port {value} ({setting.source}) is not a whole number; ng serve stops "
            "(ERR_SOCKET_BAD_PORT)", service=service, hint="Give a port from 1 to 65535.",
            evidence={"value": value, "source": str(setting.source)}))
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        return None
    if not 0 <= value <= 65535:
        findings.append(RULES(
            "DL602", f"{service}: port {value} ({setting.source}) is outside 0-65535; ng serve stops "
            "(ERR_SOCKET_BAD_PORT)", service=service, hint="Give a port from 1 to 65535.",
            evidence={"value": value}))
        return None
    return value


def _origin(scheme: str, host: str, port: int) -> str:
    """The URL a browser loads the app from: what ng serve prints (a wildcard bind is opened
    as localhost)."""
    address = "localhost" if is_wildcard(host) else plain(host)
    default = 443 if scheme == "https" else 80
    return f"{scheme}://{bracketed(address)}" + ("" if port == default else f":{port}")


# -- a devlint.toml service of kind angular -------------------------------------------------------


def resolve_configured(service: Service, project: Project) -> Service:
    """A devlint.toml service of kind angular: angular.json fills in what the user left out."""
    args, problems = _toml_args(service)
    built = build(project, service.path, args, name=service.name, path=service.path)
    settings = service.settings
    endpoints = built.endpoints
    origin = built.origin
    if service.endpoints and ("port" in settings or "ports" in settings or "host" in settings):
        if "ports" in settings or not endpoints:
            endpoints = service.endpoints
        else:
            mine, theirs = endpoints[0], service.endpoints[0]
            if "port" in settings:
                mine = replace(mine, port=theirs.port, port_source=theirs.port_source,
                               fix=f"{escape_braces(_where(theirs.port_source))}: port = {{port}}")
            if "host" in settings:
                mine = replace(mine, host=theirs.host, host_source=theirs.host_source)
            endpoints = (mine,)
        first = endpoints[0]
        origin = _origin(first.name if first.name in ("http", "https") else "http", first.host, first.port)
    return replace(built, source=service.source, settings=settings, endpoints=endpoints, origin=origin,
                   diagnostics=tuple(problems) + built.diagnostics)


def _toml_args(service: Service) -> Tuple[NgArgs, List[Finding]]:
    """The `project`, `configuration` and `config` keys of the service's devlint.toml table."""
    table = service.source.key or f"services.{service.name}"
    problems: List[Finding] = []
    args = NgArgs()
    for key in ("project", "configuration", "config"):
        value = service.settings.get(key)
        if value is None:
            continue
        if not isinstance(value, str) or not value.strip():
            problems.append(RULES("DL602", f"{_file_line(service.source)}: {table}.{key}: expected a string, got "
                                  f"{describe(value, 'toml')}", service=service.name,
                                  evidence={"key": f"{table}.{key}"}))
            continue
        source = Source("file", service.source.where, service.source.line, f"{table}.{key}")
        if key == "project":
            args.project, args.project_source = value, source
        elif key == "configuration":
            args.configurations, args.configuration_source = split_configurations(value), source
        else:
            args.config = value
    return args, problems


def _file_line(source: Source) -> str:
    return source.where + (f":{source.line}" if source.line else "")


def _where(source: Source) -> str:
    """A source as the start of a message: `angular.json:12` (file) or `flag --port x`."""
    return _file_line(source) if source.kind == "file" else str(source)
