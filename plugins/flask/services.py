"""The service a Flask command starts: its port, host, scheme and debug mode, with sources.

Facts: Flask 3.1 ``src/flask/cli.py`` for ``flask run`` (flags, then ``FLASK_RUN_PORT`` /
``FLASK_RUN_HOST`` / ``FLASK_RUN_CERT`` / ``FLASK_RUN_DEBUGGER``, then 127.0.0.1:5000;
``FLASK_APP``, ``FLASK_DEBUG``), and ``src/flask/app.py`` ``Flask.run`` for ``python app.py``
(only the call's own arguments, then the ``SERVER_NAME`` config, then 127.0.0.1:5000;
``FLASK_RUN_*`` is ignored there, and ``FLASK_DEBUG`` from the dotenv files sets debug unless
``debug=`` is given). The command line is read in ``cli``, the environment in
``environment``, the source in ``source`` / ``evaluate``, flask-cors in ``cors``.
"""

from __future__ import annotations

import ast
import os
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Tuple

from devlint.model import Command, Endpoint, Finding, Service, Source, Sourced, escape_braces
from devlint.project import FileProblem, Project

from .cli import FlaskArgs, read_command
from .cors import CorsResult, cors_for_app, cors_from_files
from .environment import FlaskEnv
from .evaluate import Evaluator
from .rules import KIND, RULES
from .source import RunCall, SourceInfo, analyse, parse_or_problem
from .values import DEFAULT_HOST, DEFAULT_PORT, display_join, parse_port, quote, truthy_debug

_FALSY_ARGS = ("False", "0", "")


def service_for_command(
    command: Command,
    project: Project,
    name: str = KIND,
    defaults: Optional[Mapping[str, Sourced[str]]] = None,
) -> Optional[Service]:
    """The Flask service a command starts, or None when the command is not Flask's.

    defaults: devlint.toml's app/debug settings, applied like --app/--debug flags.
    """
    launch = read_command(command.argv)
    if isinstance(launch, FlaskArgs):
        return flask_run_service(launch, command, project, name, defaults)
    if isinstance(launch, str):
        return script_service(launch, command, project, name)
    return None


# -- flask run -------------------------------------------------------------------------------


def flask_run_service(
    args: FlaskArgs,
    command: Command,
    project: Project,
    name: str = KIND,
    defaults: Optional[Mapping[str, Sourced[str]]] = None,
) -> Service:
    """The service `flask run` starts. defaults: devlint.toml's app/debug, used like flags."""
    findings: List[Finding] = []
    # -e/--env-file is a group option: its auto envvar FLASK_ENV_FILE is read before dotenv files.
    process = FlaskEnv(project, command.cwd, command, service=name).process("FLASK_ENV_FILE")
    env_file = args.values.get("env_file") or (process if process is not None and process.value else None)
    env = FlaskEnv(project, command.cwd, command, env_file, name)
    shown_cmd = escape_braces(command.text or quote(command.argv))
    default_fix = (
        f"{escape_braces(display_join(command.cwd, '.flaskenv'))}: FLASK_RUN_PORT={{port}} "
        f"(or `--port {{port}}` in `{shown_cmd}`)"
    )
    port_value = (
        args.values.get("port")
        or env.option("FLASK_RUN_PORT")
        or Sourced(str(DEFAULT_PORT), Source("default", "flask run"), default_fix)
    )
    host_value = args.values.get("host") or env.option("FLASK_RUN_HOST") or Sourced(
        DEFAULT_HOST, Source("default", "flask run"))
    port = parse_port(port_value, name, findings, "flask run")
    app, details = _run_details(args, defaults or {}, env)
    endpoint = None if port is None else Endpoint(details["scheme"], port, host_value.value, port_value.source,
                                                  host_value.source, fix=port_value.fix or default_fix)
    findings.extend(env.findings)
    cors = cors_for_app(project, command.cwd, app.value if app else None, name)
    return _command_service(name, command, endpoint, cors, details, findings)


def _run_details(args: FlaskArgs, defaults: Mapping[str, Sourced[str]],
                 env: FlaskEnv) -> Tuple[Optional[Sourced[str]], Dict[str, Any]]:
    """The app `flask run` loads, and the service details: runner, app, debug, debugger, scheme."""
    details: Dict[str, Any] = {"runner": "flask run"}
    app = args.values.get("app") or defaults.get("app") or env.option("FLASK_APP")
    if app is not None:
        details["app"], details["app_source"] = app.value, str(app.source)
    debug = args.debug or defaults.get("debug") or env.get("FLASK_DEBUG")
    if debug is not None:
        details["debug"], details["debug_source"] = truthy_debug(debug.value), str(debug.source)
    debugger = args.debugger or env.option("FLASK_RUN_DEBUGGER")
    if debugger is not None:
        details["debugger"] = truthy_debug(debugger.value)
    cert = args.values.get("cert") or env.option("FLASK_RUN_CERT")
    details["scheme"] = "https" if cert is not None else "http"
    if cert is not None:
        details["scheme_source"] = str(cert.source)
    return app, details


def _command_service(name: str, command: Command, endpoint: Optional[Endpoint], cors: CorsResult,
                     details: Dict[str, Any], findings: List[Finding]) -> Service:
    """The service a command starts, with what was found along the way."""
    origins, cors_source, cors_findings = cors
    return Service(
        name=name,
        kind=KIND,
        endpoints=(endpoint,) if endpoint else (),
        path=command.cwd,
        source=Source("command", command.text or quote(command.argv)),
        cors_origins=origins,
        cors_source=cors_source,
        details=details,
        diagnostics=(*findings, *cors_findings),
    )


def _unreadable_script(problem: FileProblem, command: Command, name: str) -> Service:
    """`python SCRIPT` whose file is there but cannot be read (not UTF-8, a FIFO, over the size
    cap): a service with no endpoints and DL400, so `run` does not start it as if checked."""
    typed = f"`{command.text or quote(command.argv)}`"
    return Service(name=name, kind=KIND, path=command.cwd, source=Source("command", typed.strip("`")),
                   diagnostics=(RULES(
                       "DL400", f"{name}: {problem.path} {problem.reason}, so devlint cannot tell whether {typed} "
                       "starts a Flask server: its ports are not checked", service=name,
                       hint="Make it a readable UTF-8 file (Python needs a coding declaration otherwise), "
                            "or declare the service in devlint.toml.",
                       evidence={"file": problem.path}),))


# -- python app.py ---------------------------------------------------------------------------


def script_service(script: str, command: Command, project: Project, name: str = KIND) -> Optional[Service]:
    """`python app.py`: a Flask service when the file calls app.run() / socketio.run()."""
    full = os.path.join(project.root, command.cwd, script)
    shown = display_join(command.cwd, script)
    try:
        tree = parse_or_problem(project, full, shown)
    except FileProblem as problem:  # cannot tell whether it is a Flask app at all: say so
        return _unreadable_script(problem, command, name)
    info = analyse(tree) if tree is not None else None
    if info is None or not info.runs:
        return None
    env = FlaskEnv(project, command.cwd, command, service=name)
    script_dir = os.path.dirname(os.path.normpath(os.path.join(command.cwd, script))) or "."
    app_run = _AppRun(min(info.runs, key=lambda r: (not r.in_main, r.line)), info, shown,
                      Evaluator(info, project, env, shown, script_dir, command.cwd, name))
    port_value, host_value = app_run.port(), app_run.host()
    shown_cmd = f"`{command.text or quote(command.argv)}`"
    port = parse_port(port_value, name, app_run.findings, shown_cmd)
    details = app_run.details(env)
    for var in ("FLASK_RUN_PORT", "FLASK_RUN_HOST"):
        ignored = env.option(var)
        if ignored is not None:
            app_run.findings.append(RULES(
                "DL407", f"{name}: {var}={ignored.value} ({ignored.source}) is ignored: {shown_cmd} starts the "
                         f"server through {app_run.call}() ({app_run.where}), which reads only its own arguments",
                service=name,
                hint=f"Only `flask run` reads {var}. Set the value in {app_run.call}(...) or start with `flask run`.",
                evidence={"variable": var, "value": ignored.value},
            ))
    findings = [*app_run.findings, *env.findings]
    endpoint = None if port is None else Endpoint(details["scheme"], port, host_value.value, port_value.source,
                                                  host_value.source, fix=port_value.fix or app_run.port_fix)
    return _command_service(name, command, endpoint, cors_from_files(project, [full], name), details, findings)


@dataclass
class _AppRun:
    """The ``app.run(...)`` call a script makes, and what its arguments say."""

    run: RunCall
    info: SourceInfo
    shown: str
    evaluator: Evaluator

    def __post_init__(self) -> None:
        self.findings: List[Finding] = []
        self.call = f"{self.run.receiver}.run"
        self.where = f"{self.shown}:{self.run.line}"
        self.port_fix = f"{escape_braces(self.where)}: {escape_braces(self.call)}(port={{port}})"

    def arg(self, key: str, what: str, findings: Optional[List[Finding]] = None) -> Optional[Sourced[str]]:
        """The argument's value, None when it is not given or not static (a DL404 finding)."""
        expr = self.run.args.get(key)
        if expr is None:
            return None
        found = self.findings if findings is None else findings
        return self.evaluator.value(expr, f"{self.call}({key}=)", self.run.line, found, what)

    def server_name(self, part: int) -> Optional[Sourced[str]]:
        """The host (part 0) or port (part 2) of a literal SERVER_NAME, when it has one."""
        if self.info.server_name is None:
            return None
        text, line = self.info.server_name
        value = text.partition(":")[part]
        if not value:
            return None
        return Sourced(value, Source("file", self.shown, line, "SERVER_NAME"), self.port_fix if part else "")

    def port(self) -> Sourced[str]:
        value = self.arg("port", "port")
        if value is None:
            value = self.server_name(2)
        if value is None or value.value in ("", "None"):
            return Sourced(str(DEFAULT_PORT), Source("default", f"{self.call}()"), self.port_fix)
        return value

    def host(self) -> Sourced[str]:
        value = self.arg("host", "host")
        if value is None or value.value in ("", "None"):
            value = self.server_name(0) or value
        if value is None or value.value in ("", "None"):
            return Sourced(DEFAULT_HOST, Source("default", f"{self.call}()"))
        return value

    def details(self, env: FlaskEnv) -> Dict[str, Any]:
        """runner, debug (the debug= argument, else FLASK_DEBUG from the env), debugger, scheme."""
        details: Dict[str, Any] = {"runner": "app.run"}
        debug = self.arg("debug", "debug")
        if debug is not None:
            debug = Sourced("1" if debug.value not in (*_FALSY_ARGS, "None") else "0", debug.source)
        else:
            debug = env.get("FLASK_DEBUG")  # app.run loads .flaskenv/.env itself
        if debug is not None:
            details["debug"], details["debug_source"] = truthy_debug(debug.value), str(debug.source)
        flag = self.arg("use_debugger", "debug", findings=[])
        if flag is not None:
            details["debugger"] = flag.value not in _FALSY_ARGS
        ssl = self.run.args.get("ssl_context")
        https = ssl is not None and not (isinstance(ssl, ast.Constant) and ssl.value is None)
        details["scheme"] = "https" if https else "http"
        if https:
            details["scheme_source"] = str(Source("file", self.shown, self.run.line, f"{self.call}(ssl_context=)"))
        return details
