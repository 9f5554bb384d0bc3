"""Flask: which port and host `flask run` / `app.run()` will use, and where that came from.

Everything follows Flask's own code (3.1, ``src/flask/cli.py`` and ``src/flask/app.py``):

- ``flask run``: ``--port/-p`` and ``--host/-h`` flags; then click's auto environment
  variables ``FLASK_RUN_PORT`` / ``FLASK_RUN_HOST`` (an empty one counts as unset); those
  may come from the process environment or from the dotenv files Flask loads first:
  ``-e/--env-file`` (or FLASK_ENV_FILE), then ``.env``, then ``.flaskenv``, each found by
  walking up from the working directory, and never overriding a variable the process
  already has (even an empty one). ``FLASK_SKIP_DOTENV`` turns the default files off.
  Defaults 127.0.0.1:5000.
- ``python app.py`` → ``app.run(host, port)``: only the call's arguments, then the
  ``SERVER_NAME`` config, then 127.0.0.1:5000; ``FLASK_RUN_*`` is ignored there.

User code is read as text and parsed with ``ast``; it is never imported or executed.
Finding codes DL400-DL409 (see ``CODES``).
"""

from __future__ import annotations

import ast
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import (
    Any,
    Callable,
    Dict,
    Iterable,
    List,
    Mapping,
    Optional,
    Sequence,
    Tuple,
)

from devlint import hookimpl
from devlint.model import DEFAULT, Command, Endpoint, Explanation, Finding, Listener, Service, Severity, Source
from devlint.project import FileProblem, Project

KIND = "flask"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 5000
AIRPLAY_PORTS = (5000, 7000)
WILDCARD_HOSTS = ("0.0.0.0", "::", "")

CODES: Mapping[str, str] = {
    "DL400": "error: a Flask file (.flaskenv, .env, the app) cannot be read (not UTF-8, unreadable)",
    "DL401": "warning: debug mode with the Werkzeug debugger on a public host (0.0.0.0 / ::)",
    "DL402": "info: port 5000/7000 on macOS, where the AirPlay Receiver listens",
    "DL403": "error: a port or host value flask would reject (FLASK_RUN_PORT=abc, port 70000)",
    "DL404": "warning: a value in the app source could not be read statically; a default was assumed",
    "DL405": "warning: a dotenv line python-dotenv cannot parse (it skips it)",
    "DL406": "warning: a dotenv file starts with a UTF-8 BOM, so its first variable is ignored "
    "(python-dotenv before 1.2.3)",
    "DL407": "info: FLASK_RUN_PORT/HOST are set but the command (python app.py) ignores them",
    "DL408": "info: flask-cors origins could not be read statically",
    "DL409": "error: a flask setting in devlint.toml has the wrong type",
}

FLASK_APP_KEYS: Mapping[str, str] = {
    "app": "the Flask app, as FLASK_APP / --app name it (module, module:factory or path)",
    "debug": "true/false: run in debug mode, as --debug / --no-debug "
             "(the debugger runs code for anyone who can reach it)",
}

# ast.parse: bad syntax, NUL bytes (ValueError before 3.12), absurd nesting.
_PARSE_ERRORS = (SyntaxError, ValueError, RecursionError, MemoryError)
_PYTHON_NAMES = ("python", "python3", "pythonw", "py")
_GROUP_VALUE_OPTS = {"-e": "env_file", "--env-file": "env_file", "-A": "app", "--app": "app"}
_RUN_VALUE_OPTS = {
    "-h": "host",
    "--host": "host",
    "-p": "port",
    "--port": "port",
    "--cert": "cert",
    "--key": "key",
    "--extra-files": "",
    "--exclude-patterns": "",
}
_PY_VALUE_OPTS = ("-W", "-X", "-Q", "--check-hash-based-pycs")


# -- hooks -------------------------------------------------------------------------------


@hookimpl
def devlint_service_kinds() -> Mapping[str, Mapping[str, str]]:
    return {KIND: FLASK_APP_KEYS}


@hookimpl
def devlint_command_services(command: Command, project: Project) -> Optional[Sequence[Service]]:
    service = service_for_command(command, project)
    return [service] if service is not None else None


@hookimpl
def devlint_resolve_service(service: Service, project: Project) -> Optional[Service]:
    if service.kind != KIND:
        return None
    return resolve_configured(service, project)


@hookimpl
def devlint_detect_services(project: Project) -> Optional[Sequence[Service]]:
    found = detect(project)
    return [found] if found is not None else None


@hookimpl
def devlint_check_service(service: Service, project: Project) -> Optional[Iterable[Finding]]:
    if service.kind != KIND:
        return None
    return list(check(service, project.platform))


@hookimpl
def devlint_explain_listener(
    listener: Listener, service: Service, endpoint: Endpoint, platform: str
) -> Optional[Explanation]:
    """A `flask run` in the way (or its Werkzeug reloader child, which has the same command
    line): a dev server of the user's own, so --kill may offer to stop it."""
    words = [_basename(word) for word in listener.cmdline or ()]
    if not any(word == "flask" and "run" in words[i + 1:] for i, word in enumerate(words)):
        return None
    why = f"{listener.owner()} is a Flask dev server (`flask run`) listening on {listener.where()}"
    if service.kind == KIND:
        why += ", probably left over from an earlier run"
    fix = (f"stop it (Ctrl-C in its terminal, or `kill {listener.pid}`), or run devlint with --kill"
           if listener.pid else "stop the other `flask run` (Ctrl-C in its terminal)")
    return Explanation(title="Flask dev server (flask run)", why=why, fix=fix, stale=True)


# -- values with provenance ------------------------------------------------------------------


@dataclass(frozen=True)
class Value:
    """A setting as Flask will see it, where it came from, and how to change it."""

    text: str
    source: Source
    fix: str = ""  # with "{port}" where a new port goes; other braces doubled


def _braces(text: str) -> str:
    """Text made safe for str.format (fix strings are formatted with port=...)."""
    return text.replace("{", "{{").replace("}", "}}")


def _quote(words: Sequence[str]) -> str:
    import shlex

    return " ".join(shlex.quote(w) for w in words)


# -- the environment flask run sees ------------------------------------------------------------


class FlaskEnv:
    """Process environment (the script's variables first), then Flask's dotenv files.

    Mirrors flask.cli.load_dotenv (3.1): ``.flaskenv`` < ``.env`` < ``--env-file``, merged,
    then set only where the process has no such variable. Files are found like
    dotenv.find_dotenv(usecwd=True): in the working directory or the nearest parent.
    """

    def __init__(
        self,
        project: Project,
        cwd: str,
        command: Optional[Command] = None,
        env_file: Optional[Value] = None,
        service: str = KIND,
    ) -> None:
        self.project = project
        self.cwd = cwd
        self.command = command
        self.env_file = env_file
        self.service = service
        self.findings: List[Finding] = []
        self._data: Optional[Dict[str, Tuple[Optional[str], Source, str]]] = None
        self._dotenv_version: Optional[Tuple[int, ...]] = None

    # process environment ------------------------------------------------------------
    def process(self, name: str) -> Optional[Value]:
        if self.command is not None and name in self.command.env:
            text = self.command.text or _quote(self.command.argv)
            return Value(
                self.command.env[name],
                Source("command", text, key=name),
                f"{name}={{port}} in `{_braces(text)}`",
            )
        value = self.project.getenv(name)
        if value is None:
            return None
        return Value(value, Source("env", name), f"{name}={{port}} in the environment")

    def process_value(self, name: str) -> Optional[str]:
        found = self.process(name)
        return found.text if found else None

    # dotenv files ------------------------------------------------------------------------
    def _load(self) -> Dict[str, Tuple[Optional[str], Source, str]]:
        if self._data is not None:
            return self._data
        data: Dict[str, Tuple[Optional[str], Source, str]] = {}
        skip = self.process_value("FLASK_SKIP_DOTENV")
        if not skip or skip.lower() in ("0", "false", "no"):
            for name in (".flaskenv", ".env"):
                path = find_upwards(self.project, name, self.cwd)
                if path is not None:
                    data.update(self.read(path))
        if self.env_file is not None:
            full = os.path.join(self.project.root, self.cwd, self.env_file.text)
            if self.project.exists(full):
                data.update(self.read(full))
            else:
                self.findings.append(
                    Finding(
                        "DL400",
                        Severity.ERROR,
                        f"{self.service}: env file {self.env_file.text!r} ({self.env_file.source}) "
                        "does not exist",
                        service=self.service,
                        hint="flask stops with \"Error: Invalid value for '-e' / '--env-file'\"; fix the path.",
                        evidence={"file": self.env_file.text},
                    )
                )
        self._data = data
        return data

    def dotenv_version(self) -> Tuple[int, ...]:
        """The python-dotenv release the command's Python has (its rules changed in 1.2.3 and 1.2.4)."""
        if self._dotenv_version is None:
            from . import _dotenv

            program = self.command.argv[0] if self.command is not None and self.command.argv else "flask"
            found = _dotenv.installed_version(self.project, program, self.cwd, self.process_value("PATH"))
            self._dotenv_version = found or _dotenv.LATEST
        return self._dotenv_version

    def read(self, full: str) -> Dict[str, Tuple[Optional[str], Source, str]]:
        parsed = read_dotenv(self.project, full, self.process_value, self.service, self.dotenv_version())
        self.findings.extend(parsed.findings)
        shown = parsed.shown
        return {
            key: (
                value,
                Source("file", shown, parsed.lines.get(key), key),
                f"{_braces(shown)}: {_braces(key)}={{port}}",
            )
            for key, value in parsed.values.items()
        }

    # what flask sees ----------------------------------------------------------------------
    def get(self, name: str) -> Optional[Value]:
        """The variable after load_dotenv: the process's own value wins, even when empty."""
        found = self.process(name)
        if found is not None:
            return found
        entry = self._load().get(name)
        if entry is None or entry[0] is None:
            return None
        return Value(entry[0], entry[1], entry[2])

    def option(self, name: str) -> Optional[Value]:
        """Like get, for a click option's auto envvar: an empty value counts as unset."""
        found = self.get(name)
        return found if found is not None and found.text != "" else None


@dataclass
class DotenvRead:
    shown: str
    values: Dict[str, Optional[str]] = field(default_factory=dict)
    lines: Dict[str, int] = field(default_factory=dict)
    findings: List[Finding] = field(default_factory=list)


def find_upwards(project: Project, name: str, cwd: str) -> Optional[str]:
    """The nearest `name` in cwd or a parent folder (dotenv.find_dotenv(usecwd=True))."""
    folder = os.path.abspath(os.path.join(project.root, cwd))
    while True:
        candidate = os.path.join(folder, name)
        if project.exists(candidate):
            return candidate
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


def _starts_with_bom(path: str) -> bool:
    # Project.read_text drops a BOM, but python-dotenv before 1.2.3 keeps it as part of the
    # first key. The file was just read (and recorded) through the Project.
    try:
        with open(path, "rb") as handle:
            return handle.read(3) == b"\xef\xbb\xbf"
    except OSError:
        return False


def read_dotenv(
    project: Project, full: str, environ: Callable[[str], Optional[str]], service: str = KIND,
    version: Optional[Tuple[int, ...]] = None,
) -> DotenvRead:
    """dotenv_values(full) with lines and findings, as the given python-dotenv release reads
    it (default: the latest); an unreadable file reads as empty."""
    from . import _dotenv

    version = version or _dotenv.LATEST
    shown = project.display(Path(full))
    result = DotenvRead(shown)
    try:
        text = project.read_text(full)
    except FileProblem as problem:
        result.findings.append(
            Finding(
                "DL400",
                Severity.ERROR,
                f"{service}: {problem.path} {problem.reason}",
                service=service,
                hint=f"flask run stops with a traceback while loading {shown}; "
                + ("save it as UTF-8." if "UTF-8" in problem.reason else "make it a readable text file."),
                evidence={"file": problem.path},
            )
        )
        return result
    if text is None:
        return result
    values, lines, skipped = _dotenv.values(text, environ, version=version)
    if version < _dotenv.DROPS_BOM and _starts_with_bom(full) and values:
        first = next(iter(values))
        bommed = "\ufeff" + first
        values = {(bommed if k == first else k): v for k, v in values.items()}
        lines[bommed] = lines.pop(first)
        result.findings.append(
            Finding(
                "DL406",
                Severity.WARNING,
                f"{service}: {shown}:1 starts with a UTF-8 byte-order mark, so python-dotenv "
                f"{'.'.join(map(str, version))} reads the first name as '\\ufeff{first}' and Flask ignores {first}",
                service=service,
                hint=f"Save {shown} as UTF-8 without a BOM (python-dotenv 1.2.3 and later skip it).",
                evidence={"file": shown, "line": 1, "key": first},
            )
        )
    for line in skipped:
        result.findings.append(
            Finding(
                "DL405",
                Severity.WARNING,
                f"{service}: {shown}:{line} cannot be parsed by python-dotenv; Flask skips it",
                service=service,
                hint="Write it as KEY=value (quote values with spaces or #).",
                evidence={"file": shown, "line": line},
            )
        )
    result.values, result.lines = values, lines
    return result


# -- command recognition ---------------------------------------------------------------------


@dataclass
class FlaskArgs:
    """`flask ... run ...` options, last one wins (as click does)."""

    values: Dict[str, Value] = field(default_factory=dict)
    debug: Optional[Value] = None
    debugger: Optional[Value] = None


def _basename(word: str) -> str:
    name = word.replace("\\", "/").rsplit("/", 1)[-1].lower()
    return name[:-4] if name.endswith(".exe") else name


def _is_python(word: str) -> bool:
    name = _basename(word)
    if name in _PYTHON_NAMES:
        return True
    import re

    return re.fullmatch(r"python(?:3(?:\.\d+)?t?)?w?", name) is not None


def parse_flask_args(args: Sequence[str], prefix: Sequence[str]) -> Optional[FlaskArgs]:
    """Options of `flask [group options] run [run options]`; None when not `run`."""
    result = FlaskArgs()
    words = list(args)
    i = 0
    in_run = False

    def flag_fix(index: int, attached: Optional[str]) -> str:
        shown = list(prefix) + words
        at = len(prefix) + index
        quoted = [_braces(_quote([w])) for w in shown]
        if attached is None:
            quoted[at + 1] = "{port}"
        else:
            quoted[at] = _braces(attached) + "{port}"
        return " ".join(quoted)

    while i < len(words):
        word = words[i]
        options = _RUN_VALUE_OPTS if in_run else _GROUP_VALUE_OPTS
        if not in_run and not word.startswith("-"):
            if word != "run":
                return None
            in_run = True
            i += 1
            continue
        if word in ("--debug", "--no-debug"):
            result.debug = Value("1" if word == "--debug" else "0", Source("flag", word))
            i += 1
            continue
        if in_run and word in ("--debugger", "--no-debugger"):
            result.debugger = Value("1" if word == "--debugger" else "0", Source("flag", word))
            i += 1
            continue
        name, value, attached = None, None, None
        if word in options and i + 1 < len(words):
            name, value = options[word], words[i + 1]
            shown = f"{word} {value}"
            fix = flag_fix(i, None)
            step = 2
        elif word.startswith("--") and "=" in word and word.split("=", 1)[0] in options:
            opt, value = word.split("=", 1)
            name, shown, step, attached = options[opt], word, 1, opt + "="
            fix = flag_fix(i, attached)
        elif len(word) > 2 and word[:2] in options and not word.startswith("--"):
            name, value, shown, step, attached = options[word[:2]], word[2:], word, 1, word[:2]
            fix = flag_fix(i, attached)
        else:
            i += 1  # a flag without a value, or one devlint does not need
            continue
        if name:
            result.values[name] = Value(value, Source("flag", shown), fix)
        i += step
    return result if in_run else None


def service_for_command(
    command: Command,
    project: Project,
    name: str = KIND,
    defaults: Optional[Mapping[str, Value]] = None,
) -> Optional[Service]:
    """The Flask service a command starts, or None when the command is not Flask's.

    defaults: devlint.toml's app/debug settings, applied like --app/--debug flags.
    """
    argv = list(command.argv)
    if not argv:
        return None
    if _basename(argv[0]) == "flask":
        parsed = parse_flask_args(argv[1:], argv[:1])
        return (
            None if parsed is None else flask_run_service(parsed, command, project, name, defaults)
        )
    if not _is_python(argv[0]):
        return None
    i = 1
    while i < len(argv):
        word = argv[i]
        if (word == "-m" and i + 1 < len(argv)) or (word.startswith("-m") and len(word) > 2):
            module = argv[i + 1] if word == "-m" else word[2:]
            rest = argv[i + 2 :] if word == "-m" else argv[i + 1 :]
            if module != "flask":
                return None
            parsed = parse_flask_args(rest, argv[: len(argv) - len(rest)])
            return (
                None
                if parsed is None
                else flask_run_service(parsed, command, project, name, defaults)
            )
        if word in ("-c", "-"):
            return None
        if word in _PY_VALUE_OPTS:
            i += 2
            continue
        if word.startswith("-"):
            i += 1
            continue
        return script_service(word, command, project, name)
    return None


# -- flask run -------------------------------------------------------------------------------


def _parse_port(value: Value, service: str, findings: List[Finding], what: str) -> Optional[int]:
    try:
        port = int(value.text)
    except ValueError:
        findings.append(
            Finding(
                "DL403",
                Severity.ERROR,
                f"{service}: port {value.text!r} ({value.source}) is not a valid integer",
                service=service,
                hint=f"{what} stops with \"Invalid value for '--port' / '-p': {value.text!r} is not a valid "
                     'integer". Give a number such as 5000.',
                evidence={"value": value.text, "source": str(value.source)},
            )
        )
        return None
    if port == 0:
        findings.append(
            Finding(
                "DL404",
                Severity.WARNING,
                f"{service}: port 0 ({value.source}) makes the server pick a random free port; "
                "devlint cannot check it",
                service=service,
                hint="Give a fixed port.",
                evidence={"value": value.text},
            )
        )
        return None
    if not 0 < port < 65536:
        findings.append(
            Finding(
                "DL403",
                Severity.ERROR,
                f"{service}: port {port} ({value.source}) is outside 1-65535",
                service=service,
                hint=f'{what} fails with "OverflowError: bind(): port must be 0-65535".',
                evidence={"value": value.text},
            )
        )
        return None
    return port


def _truthy_debug(text: str) -> bool:
    """flask.helpers.get_debug_flag."""
    return bool(text and text.lower() not in ("0", "false", "no"))


def flask_run_service(
    args: FlaskArgs,
    command: Command,
    project: Project,
    name: str = KIND,
    defaults: Optional[Mapping[str, Value]] = None,
) -> Service:
    """The service `flask run` starts. defaults: devlint.toml's app/debug, used like flags."""
    findings: List[Finding] = []
    defaults = defaults or {}
    # -e/--env-file is a group option: its auto envvar FLASK_ENV_FILE is read before dotenv files.
    process = FlaskEnv(project, command.cwd, command, service=name).process("FLASK_ENV_FILE")
    env_file = args.values.get("env_file") or (
        process if process is not None and process.text else None
    )
    env = FlaskEnv(project, command.cwd, command, env_file, name)
    shown_cmd = _braces(command.text or _quote(command.argv))
    default_fix = (
        f"{_braces(_display_join(command.cwd, '.flaskenv'))}: FLASK_RUN_PORT={{port}} "
        f"(or `--port {{port}}` in `{shown_cmd}`)"
    )

    port_value = (
        args.values.get("port")
        or env.option("FLASK_RUN_PORT")
        or Value(str(DEFAULT_PORT), Source("default", "flask run"), default_fix)
    )
    host_value = (
        args.values.get("host")
        or env.option("FLASK_RUN_HOST")
        or Value(DEFAULT_HOST, Source("default", "flask run"))
    )
    port = _parse_port(port_value, name, findings, "flask run")

    details: Dict[str, Any] = {"runner": "flask run"}
    app = args.values.get("app") or defaults.get("app") or env.option("FLASK_APP")
    if app is not None:
        details["app"], details["app_source"] = app.text, str(app.source)
    debug = args.debug or defaults.get("debug") or env.get("FLASK_DEBUG")
    if debug is not None:
        details["debug"], details["debug_source"] = _truthy_debug(debug.text), str(debug.source)
    debugger = args.debugger or env.option("FLASK_RUN_DEBUGGER")
    if debugger is not None:
        details["debugger"] = _truthy_debug(debugger.text)
    cert = args.values.get("cert") or env.option("FLASK_RUN_CERT")
    scheme = "https" if cert is not None else "http"
    details["scheme"] = scheme
    if cert is not None:
        details["scheme_source"] = str(cert.source)

    endpoint = None if port is None else Endpoint(scheme, port, host_value.text, port_value.source,
                                                  host_value.source, fix=port_value.fix or default_fix)
    findings.extend(env.findings)
    cors = cors_for_app(project, command.cwd, app.text if app else None, name)
    return _command_service(name, command, endpoint, cors, details, findings)


def _command_service(name: str, command: Command, endpoint: Optional[Endpoint], cors: CorsResult,
                     details: Dict[str, Any], findings: List[Finding]) -> Service:
    """The service a command starts, with what was found along the way."""
    origins, cors_source, cors_findings = cors
    return Service(
        name=name,
        kind=KIND,
        endpoints=(endpoint,) if endpoint else (),
        path=command.cwd,
        source=Source("command", command.text or _quote(command.argv)),
        cors_origins=origins,
        cors_source=cors_source,
        details=details,
        diagnostics=(*findings, *cors_findings),
    )


def _display_join(cwd: str, name: str) -> str:
    path = os.path.normpath(os.path.join(cwd, name))
    return path.replace(os.sep, "/")


# -- python app.py ---------------------------------------------------------------------------


def script_service(
    script: str, command: Command, project: Project, name: str = KIND
) -> Optional[Service]:
    """`python app.py`: a Flask service when the file calls app.run() / socketio.run()."""
    full = os.path.join(project.root, command.cwd, script)
    shown = _display_join(command.cwd, script)
    try:
        text = project.read_text(full)
    except FileProblem:
        return None  # cannot tell whether it is a Flask app at all
    if text is None:
        return None
    try:
        tree = ast.parse(text, filename=shown)
    except _PARSE_ERRORS:
        return None
    info = analyse(tree)
    if not info.runs:
        return None
    run = sorted(info.runs, key=lambda r: (not r.in_main, r.line))[0]
    findings: List[Finding] = []
    env = FlaskEnv(project, command.cwd, command, service=name)
    script_dir = os.path.dirname(os.path.normpath(os.path.join(command.cwd, script))) or "."
    evaluator = Evaluator(info, project, env, shown, script_dir, command.cwd, name)
    where = f"{shown}:{run.line}"
    call = f"{run.receiver}.run"

    def arg(key: str) -> Optional[ast.expr]:
        return run.args.get(key)

    port_value: Optional[Value] = None
    port_expr = arg("port")
    if port_expr is not None:
        port_value = evaluator.value(port_expr, f"{call}(port=)", run.line, findings, "port")
    if port_value is None and info.server_name and ":" in info.server_name[0]:
        sn, line = info.server_name
        port_value = Value(
            sn.partition(":")[2],
            Source("file", shown, line, "SERVER_NAME"),
            f"{_braces(where)}: {_braces(call)}(port={{port}})",
        )
    if port_value is None or port_value.text in ("", "None"):
        port_value = Value(
            str(DEFAULT_PORT),
            Source("default", f"{call}()"),
            f"{_braces(where)}: {_braces(call)}(port={{port}})",
        )
    host_value: Optional[Value] = None
    host_expr = arg("host")
    if host_expr is not None:
        host_value = evaluator.value(host_expr, f"{call}(host=)", run.line, findings, "host")
    if (
        host_value is None or not host_value.text or host_value.text == "None"
    ) and info.server_name:
        sn, line = info.server_name
        if sn.partition(":")[0]:
            host_value = Value(sn.partition(":")[0], Source("file", shown, line, "SERVER_NAME"))
    if host_value is None or not host_value.text or host_value.text == "None":
        host_value = Value(DEFAULT_HOST, Source("default", f"{call}()"))
    port = _parse_port(port_value, name, findings, f"`{command.text or _quote(command.argv)}`")

    details: Dict[str, Any] = {"runner": "app.run"}
    # app.run loads .flaskenv/.env itself; FLASK_DEBUG from there sets debug unless debug= is given.
    debug_expr = arg("debug")
    debug: Optional[Value] = None
    if debug_expr is not None:
        debug = evaluator.value(debug_expr, f"{call}(debug=)", run.line, findings, "debug")
        if debug is not None:
            debug = Value(
                "1" if debug.text not in ("False", "0", "", "None") else "0", debug.source
            )
    if debug is None:
        debug = env.get("FLASK_DEBUG")
    if debug is not None:
        details["debug"], details["debug_source"] = _truthy_debug(debug.text), str(debug.source)
    if arg("use_debugger") is not None:
        flag = evaluator.value(
            run.args["use_debugger"], f"{call}(use_debugger=)", run.line, [], "debug"
        )
        if flag is not None:
            details["debugger"] = flag.text not in ("False", "0", "")
    scheme = (
        "https"
        if arg("ssl_context") is not None and not _is_none(run.args["ssl_context"])
        else "http"
    )
    details["scheme"] = scheme
    if scheme == "https":
        details["scheme_source"] = str(Source("file", shown, run.line, f"{call}(ssl_context=)"))

    for var in ("FLASK_RUN_PORT", "FLASK_RUN_HOST"):
        ignored = env.option(var)
        if ignored is not None:
            findings.append(
                Finding(
                    "DL407",
                    Severity.INFO,
                    f"{name}: {var}={ignored.text} ({ignored.source}) is ignored: "
                    f"`{command.text or _quote(command.argv)}` starts the server through {call}() ({where}), "
                    "which reads only its own arguments",
                    service=name,
                    hint=f"Only `flask run` reads {var}. Set the value in {call}(...) or start with `flask run`.",
                    evidence={"variable": var, "value": ignored.text},
                )
            )
    findings.extend(env.findings)
    fix = port_value.fix or f"{_braces(where)}: {_braces(call)}(port={{port}})"
    endpoint = None if port is None else Endpoint(scheme, port, host_value.text, port_value.source,
                                                  host_value.source, fix=fix)
    return _command_service(name, command, endpoint, cors_from_files(project, [full], name), details, findings)


def _is_none(expr: ast.expr) -> bool:
    return isinstance(expr, ast.Constant) and expr.value is None


# -- reading Python source (ast only) -----------------------------------------------------------


@dataclass
class RunCall:
    receiver: str
    line: int
    args: Dict[str, ast.expr]
    in_main: bool


@dataclass
class SourceInfo:
    runs: List[RunCall] = field(default_factory=list)
    constants: Dict[str, ast.expr] = field(default_factory=dict)
    server_name: Optional[Tuple[str, int]] = None
    imports_flask: Optional[int] = None  # the line of the first flask import
    load_dotenv: Optional[ast.Call] = None
    os_names: Dict[str, str] = field(
        default_factory=dict
    )  # local name → os / os.environ / os.getenv


_APP_RUN_PARAMS = ("host", "port", "debug", "load_dotenv")
_SOCKETIO_RUN_PARAMS = ("app", "host", "port")


def _call_name(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _looks_like_app(name: str) -> bool:
    lowered = name.lower()
    return "app" in lowered or lowered in ("server", "application")


def analyse(tree: ast.Module) -> SourceInfo:
    """What devlint needs from a module: app.run calls, constants, SERVER_NAME, imports."""
    info = SourceInfo()
    flask_classes = {"Flask"}
    socketio_classes = {"SocketIO"}
    modules: set[str] = set()
    apps: set[str] = set()
    socketios: set[str] = set()
    assigned: Dict[str, int] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                local = alias.asname or alias.name.split(".")[0]
                modules.add(local)
                if alias.name.split(".")[0] in ("flask", "flask_socketio"):
                    info.imports_flask = info.imports_flask or node.lineno
                if alias.name == "os":
                    info.os_names[local] = "os"
        elif isinstance(node, ast.ImportFrom):
            mod = node.module or ""
            if mod.split(".")[0] in ("flask", "flask_socketio"):
                info.imports_flask = info.imports_flask or node.lineno
            for alias in node.names:
                local = alias.asname or alias.name
                if mod == "flask" and alias.name == "Flask":
                    flask_classes.add(local)
                elif mod == "flask_socketio" and alias.name == "SocketIO":
                    socketio_classes.add(local)
                elif mod == "os" and alias.name in ("environ", "getenv"):
                    info.os_names[local] = f"os.{alias.name}"
                elif _looks_like_app(local):
                    apps.add(local)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            value = node.value
            for target in targets:
                if isinstance(target, ast.Name):
                    assigned[target.id] = assigned.get(target.id, 0) + 1
                    if isinstance(value, ast.Call):
                        cname = _call_name(value.func)
                        if (
                            cname in flask_classes
                            or cname in ("Flask", "create_app", "make_app")
                            or "app" in cname.lower()
                        ):
                            apps.add(target.id)
                        elif cname in socketio_classes:
                            socketios.add(target.id)
                if (
                    isinstance(target, ast.Subscript)
                    and _is_config(target.value)
                    and _subscript_key(target) == "SERVER_NAME"
                    and isinstance(value, ast.Constant)
                    and isinstance(value.value, str)
                ):
                    info.server_name = (value.value, node.lineno)
    for stmt in tree.body:  # module-level constants: NAME = literal, assigned once
        if (
            isinstance(stmt, ast.Assign)
            and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], ast.Name)
        ):
            info.constants[stmt.targets[0].id] = stmt.value
    for name in list(info.constants):
        if assigned.get(name, 0) > 1:
            del info.constants[name]
    main_lines = _main_guard_lines(tree)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if _call_name(func) in ("load_dotenv",) and info.load_dotenv is None:
            info.load_dotenv = node
        if isinstance(func, ast.Attribute) and func.attr == "update" and _is_config(func.value):
            for kw in node.keywords:
                if (
                    kw.arg == "SERVER_NAME"
                    and isinstance(kw.value, ast.Constant)
                    and isinstance(kw.value.value, str)
                ):
                    info.server_name = (kw.value.value, node.lineno)
        if not (
            isinstance(func, ast.Attribute)
            and func.attr == "run"
            and isinstance(func.value, ast.Name)
        ):
            continue
        receiver = func.value.id
        if receiver in socketios:
            params: Sequence[str] = _SOCKETIO_RUN_PARAMS
        elif receiver in apps and receiver not in modules:
            params = _APP_RUN_PARAMS
        else:
            continue
        args: Dict[str, ast.expr] = {}
        for index, positional in enumerate(node.args):
            if index < len(params) and not isinstance(positional, ast.Starred):
                args[params[index]] = positional
        for kw in node.keywords:
            if kw.arg:
                args[kw.arg] = kw.value
        info.runs.append(
            RunCall(receiver, node.lineno, args, any(a <= node.lineno <= b for a, b in main_lines))
        )
    return info


def _is_config(expr: ast.expr) -> bool:
    return isinstance(expr, ast.Attribute) and expr.attr == "config"


def _subscript_key(node: ast.Subscript) -> Optional[str]:
    key = node.slice
    if isinstance(key, ast.Constant) and isinstance(key.value, str):
        return key.value
    return None


def _main_guard_lines(tree: ast.Module) -> List[Tuple[int, int]]:
    spans = []
    for stmt in tree.body:
        if isinstance(stmt, ast.If) and any(
            isinstance(n, ast.Constant) and n.value == "__main__" for n in ast.walk(stmt.test)
        ):
            spans.append((stmt.lineno, getattr(stmt, "end_lineno", None) or 10**9))
    return spans


class _NotStatic(Exception):
    pass


class Evaluator:
    """Literal values of app.run(...) arguments, following a few idioms statically:
    module constants, int()/str(), os.getenv / os.environ.get / os.environ[...] and `or`.

    Environment reads use the process environment; a module that calls load_dotenv()
    also gets that .env (found from the script's folder, as python-dotenv does), since
    the arguments are evaluated before app.run() loads .flaskenv itself.
    """

    def __init__(
        self,
        info: SourceInfo,
        project: Project,
        env: FlaskEnv,
        shown: str,
        script_dir: str,
        cwd: str,
        service: str,
    ) -> None:
        self.info, self.project, self.env, self.shown = info, project, env, shown
        self.script_dir, self.cwd, self.service = script_dir, cwd, service
        self._dotenv: Optional[Dict[str, Tuple[Optional[str], Source, str]]] = None
        self._override = False

    def value(
        self, expr: ast.expr, label: str, line: int, findings: List[Finding], what: str
    ) -> Optional[Value]:
        fix = f"{_braces(self.shown)}:{line}: {_braces(label).replace('=)', '={port})')}"
        try:
            result, source, rfix = self._eval(expr, 0)
        except _NotStatic:
            default = (
                str(DEFAULT_PORT) if what == "port" else DEFAULT_HOST if what == "host" else "off"
            )
            findings.append(
                Finding(
                    "DL404",
                    Severity.WARNING,
                    f"{self.service}: {self.shown}:{getattr(expr, 'lineno', line)}: {label} is "
                    f"`{_unparse(expr)}`, which devlint cannot read without running the code; "
                    f"it assumed the default ({default})",
                    service=self.service,
                    hint=f"Write a literal {what} there, or set {what} in devlint.toml.",
                    evidence={"file": self.shown, "line": line, "expression": _unparse(expr)},
                )
            )
            return None
        if result is None:
            return Value("None", source, fix)
        text = str(result)
        if source.kind == "default":
            source = Source("file", self.shown, getattr(expr, "lineno", line), label)
        return Value(text, source, rfix or fix)

    def _eval(self, expr: ast.expr, depth: int) -> Tuple[Any, Source, str]:
        if depth > 8:
            raise _NotStatic
        if (
            isinstance(expr, ast.Constant)
            and isinstance(expr.value, (int, str, bool, type(None)))
            and not isinstance(expr.value, bytes)
        ):
            return expr.value, DEFAULT, ""
        if isinstance(expr, ast.Name):
            if expr.id in self.info.constants:
                return self._eval(self.info.constants[expr.id], depth + 1)
            raise _NotStatic
        if isinstance(expr, ast.BoolOp) and isinstance(expr.op, ast.Or):
            last: Tuple[Any, Source, str] = (None, DEFAULT, "")
            for part in expr.values:
                last = self._eval(part, depth + 1)
                if last[0]:
                    return last
            return last
        if isinstance(expr, ast.Call):
            name = _dotted(expr.func)
            if name in ("int", "str") and len(expr.args) == 1 and not expr.keywords:
                value, source, fix = self._eval(expr.args[0], depth + 1)
                try:
                    return (int(value) if name == "int" else str(value)), source, fix
                except (TypeError, ValueError):
                    raise _NotStatic from None
            if self._is_env_get(name) and expr.args and not expr.keywords:
                key, _, _ = self._eval(expr.args[0], depth + 1)
                if not isinstance(key, str):
                    raise _NotStatic
                found = self._environ(key)
                if found is not None:
                    return found
                if len(expr.args) > 1:
                    return self._eval(expr.args[1], depth + 1)
                return None, DEFAULT, ""
        if isinstance(expr, ast.Subscript) and self._is_environ(_dotted(expr.value)):
            key = _subscript_key(expr)
            if key is not None:
                found = self._environ(key)
                if found is not None:
                    return found
        raise _NotStatic

    def _is_environ(self, name: str) -> bool:
        return any(
            name == local + suffix
            for local, kind in self.info.os_names.items()
            for suffix in ((".environ",) if kind == "os" else ("",))
            if kind in ("os", "os.environ")
        )

    def _is_env_get(self, name: str) -> bool:
        for local, kind in self.info.os_names.items():
            if kind == "os" and name in (f"{local}.getenv", f"{local}.environ.get"):
                return True
            if kind == "os.environ" and name == f"{local}.get":
                return True
            if kind == "os.getenv" and name == local:
                return True
        return False

    def _environ(self, key: str) -> Optional[Tuple[Any, Source, str]]:
        dotenv = self._load_dotenv()
        if self._override and key in dotenv and dotenv[key][0] is not None:
            value, source, fix = dotenv[key]
            return value, source, fix
        found = self.env.process(key)
        if found is not None:
            return found.text, found.source, found.fix
        if key in dotenv and dotenv[key][0] is not None:
            value, source, fix = dotenv[key]
            return value, source, fix
        return None

    def _load_dotenv(self) -> Dict[str, Tuple[Optional[str], Source, str]]:
        if self._dotenv is not None:
            return self._dotenv
        self._dotenv = {}
        call = self.info.load_dotenv
        if call is None:
            return self._dotenv
        for kw in call.keywords:
            if kw.arg == "override" and isinstance(kw.value, ast.Constant):
                self._override = bool(kw.value.value)
        target = (
            call.args[0]
            if call.args
            else next((kw.value for kw in call.keywords if kw.arg == "dotenv_path"), None)
        )
        path: Optional[str] = None
        if isinstance(target, ast.Constant) and isinstance(target.value, str):
            candidate = os.path.join(self.project.root, self.cwd, target.value)
            path = candidate if self.project.exists(candidate) else None
        elif target is None or (
            isinstance(target, ast.Call) and _call_name(target.func) == "find_dotenv"
        ):
            path = find_upwards(self.project, ".env", self.script_dir)
        if path is not None:
            self._dotenv = self.env.read(path)
        return self._dotenv


def _dotted(expr: ast.expr) -> str:
    if isinstance(expr, ast.Name):
        return expr.id
    if isinstance(expr, ast.Attribute):
        inner = _dotted(expr.value)
        return f"{inner}.{expr.attr}" if inner else ""
    return ""


def _unparse(expr: ast.expr) -> str:
    try:
        text = ast.unparse(expr)
    except Exception:  # pragma: no cover - ast.unparse handles every expression node
        return "..."
    return text if len(text) <= 80 else text[:77] + "..."


# -- flask-cors -------------------------------------------------------------------------------

CorsResult = Tuple[Optional[Tuple[str, ...]], Source, List[Finding]]


def app_files(project: Project, cwd: str, app: Optional[str]) -> List[str]:
    """The files FLASK_APP / --app names, or Flask's defaults wsgi.py and app.py."""
    import re

    base = os.path.join(project.root, cwd)
    if not app:
        return [os.path.join(base, name) for name in ("wsgi.py", "app.py")]
    target = re.split(r":(?![\\/])", app, maxsplit=1)[0]
    if target.endswith(".py"):
        return [os.path.join(base, target)]
    if target in (".", ""):
        return [os.path.join(base, "__init__.py")]
    rel = target.replace(".", "/")
    return [os.path.join(base, rel + ".py"), os.path.join(base, rel, "__init__.py")]


def cors_for_app(project: Project, cwd: str, app: Optional[str], service: str) -> CorsResult:
    return cors_from_files(project, app_files(project, cwd, app), service)


def cors_from_files(project: Project, candidates: Sequence[str], service: str) -> CorsResult:
    """flask-cors origins of the app: its files and the local modules they import."""
    findings: List[Finding] = []
    queue: List[Tuple[str, int]] = []
    for path in candidates:
        if project.exists(path):
            queue.append((path, 0))
            break
    seen: set[str] = set()
    trees: List[Tuple[ast.Module, str]] = []
    while queue and len(seen) < 12:
        path, depth = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        shown = project.display(Path(path))
        try:
            text = project.read_text(path)
        except FileProblem as problem:
            findings.append(
                Finding(
                    "DL400",
                    Severity.ERROR,
                    f"{service}: {problem.path} {problem.reason}",
                    service=service,
                    hint="Python cannot import it either (without a coding declaration); save it "
                         "as UTF-8.",
                    evidence={"file": problem.path},
                )
            )
            continue
        if text is None:
            continue
        try:
            tree = ast.parse(text, filename=shown)
        except _PARSE_ERRORS as exc:
            line = getattr(exc, "lineno", None)
            findings.append(
                Finding(
                    "DL404",
                    Severity.WARNING,
                    f"{service}: {shown}{f':{line}' if line else ''} cannot be parsed ({type(exc).__name__}: "
                    f"{getattr(exc, 'msg', exc)}); devlint skipped its CORS settings",
                    service=service,
                    evidence={"file": shown, "line": line},
                )
            )
            continue
        trees.append((tree, shown))
        if depth == 0:
            for module, level in _local_imports(tree):
                found = _module_file(project, os.path.dirname(path), module, level)
                if found:
                    queue.append((found, 1))
    collector = _CorsCollector()
    for tree, _ in trees:  # `cors = CORS()` may live in another module than init_app
        collector.prepare(tree)
    for tree, shown in trees:
        collector.visit(tree, shown)
    origins, source, unreadable = collector.result()
    if unreadable is not None:
        shown, line, text = unreadable
        findings.append(
            Finding(
                "DL408",
                Severity.INFO,
                f"{service}: flask-cors origins at {shown}:{line} (`{text}`) cannot be read "
                "without running the code; devlint does not check CORS for this service",
                service=service,
                hint="Use a literal list of origins to let devlint check them.",
                evidence={"file": shown, "line": line},
            )
        )
    return origins, source, findings


def _local_imports(tree: ast.Module) -> List[Tuple[str, int]]:
    found: List[Tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.module:
                found.append((node.module, node.level))
            elif node.level:
                found.extend((alias.name, node.level) for alias in node.names)
        elif isinstance(node, ast.Import):
            found.extend((alias.name, 0) for alias in node.names)
    return found


def _module_file(project: Project, folder: str, module: str, level: int) -> Optional[str]:
    base = folder
    for _ in range(max(level - 1, 0)):
        base = os.path.dirname(base)
    rel = module.replace(".", "/")
    for candidate in (os.path.join(base, rel + ".py"), os.path.join(base, rel, "__init__.py")):
        if project.exists(candidate):
            return candidate
    return None


def _is_named(expr: ast.expr, names: set[str], modules: set[str], attr: str) -> bool:
    dotted = _dotted(expr)
    return dotted in names or any(dotted == f"{m}.{attr}" for m in modules)


class _CorsCollector:
    """CORS(app, ...), cors.init_app(app, ...), @cross_origin(...) with literal options."""

    def __init__(self) -> None:
        self.origins: List[str] = []
        self.source: Optional[Source] = None
        self.unreadable: Optional[Tuple[str, int, str]] = None
        self.pending: Dict[
            str, Dict[str, ast.expr]
        ] = {}  # cors = CORS(origins=...) → init_app later
        self.config_origins: Optional[ast.expr] = None
        self.applied = False

    @staticmethod
    def _names(tree: ast.Module) -> Tuple[set[str], set[str], set[str], bool]:
        cors_names, cross_names, modules = {"CORS"}, {"cross_origin"}, {"flask_cors"}
        uses = False
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "flask_cors":
                uses = True
                for alias in node.names:
                    if alias.name == "CORS":
                        cors_names.add(alias.asname or "CORS")
                    elif alias.name == "cross_origin":
                        cross_names.add(alias.asname or "cross_origin")
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name == "flask_cors":
                        uses = True
                        modules.add(alias.asname or "flask_cors")
        return cors_names, cross_names, modules, uses

    def prepare(self, tree: ast.Module) -> None:
        """First pass: CORS() objects configured later with init_app, CORS_ORIGINS config."""
        cors_names, _, modules, uses = self._names(tree)
        for node in ast.walk(tree):
            if (
                uses
                and isinstance(node, (ast.Assign, ast.AnnAssign))
                and isinstance(node.value, ast.Call)
                and _is_named(node.value.func, cors_names, modules, "CORS")
            ):
                call = node.value
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if not call.args and not any(kw.arg == "app" for kw in call.keywords):
                    for target in targets:
                        if isinstance(target, ast.Name):
                            self.pending[target.id] = {
                                kw.arg: kw.value for kw in call.keywords if kw.arg
                            }
            if (
                isinstance(node, ast.Assign)
                and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Subscript)
                and _is_config(node.targets[0].value)
                and _subscript_key(node.targets[0]) == "CORS_ORIGINS"
            ):
                self.config_origins = node.value

    def visit(self, tree: ast.Module, shown: str) -> None:
        """Second pass: where CORS is applied to the app, and with which origins."""
        cors_names, cross_names, modules, uses = self._names(tree)
        if not uses and not self.pending:
            return
        consts: Dict[str, ast.expr] = {}
        for stmt in tree.body:
            if (
                isinstance(stmt, ast.Assign)
                and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], ast.Name)
            ):
                consts[stmt.targets[0].id] = stmt.value

        def is_cors(func: ast.expr) -> bool:
            return uses and _is_named(func, cors_names, modules, "CORS")

        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for deco in node.decorator_list:
                    if uses and _is_named(deco, cross_names, modules, "cross_origin"):
                        self.add({}, shown, deco.lineno, consts, "@cross_origin")
            if not isinstance(node, ast.Call):
                continue
            if is_cors(node.func) and (node.args or any(kw.arg == "app" for kw in node.keywords)):
                self.call(node, {}, shown, consts, "CORS")
            elif (
                isinstance(node.func, ast.Attribute)
                and node.func.attr == "init_app"
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id in self.pending
            ):
                self.call(node, self.pending[node.func.value.id], shown, consts, "init_app")
            elif uses and _is_named(node.func, cross_names, modules, "cross_origin"):
                self.call(node, {}, shown, consts, "cross_origin")

    def call(
        self,
        node: ast.Call,
        defaults: Mapping[str, ast.expr],
        shown: str,
        consts: Mapping[str, ast.expr],
        label: str,
    ) -> None:
        options: Dict[str, ast.expr] = dict(defaults)
        for kw in node.keywords:
            if kw.arg is None:
                self._unreadable(shown, node.lineno, "**" + _unparse(kw.value))
                return
            options[kw.arg] = kw.value
        self.add(options, shown, node.lineno, consts, label)

    def add(
        self,
        options: Mapping[str, ast.expr],
        shown: str,
        line: int,
        consts: Mapping[str, ast.expr],
        label: str,
    ) -> None:
        self.applied = True
        if self.source is None:
            self.source = Source("file", shown, line, f"{label}(origins=)")
        default = options.get("origins", self.config_origins)
        resources = options.get("resources")
        if isinstance(resources, ast.Dict):
            for value in resources.values:
                if isinstance(value, ast.Dict):
                    keys = [k.value if isinstance(k, ast.Constant) else None for k in value.keys]
                    if None in keys:
                        self._unreadable(shown, line, _unparse(value))
                        return
                    if "origins" in keys:
                        self._origins(value.values[keys.index("origins")], shown, line, consts)
                        continue
                    self._origins(default, shown, line, consts)
                else:
                    self._unreadable(shown, line, _unparse(value))
                    return
            return
        if resources is not None and not isinstance(resources, (ast.Constant, ast.List, ast.Tuple)):
            self._unreadable(shown, line, _unparse(resources))
            return
        self._origins(default, shown, line, consts)

    def _origins(
        self, expr: Optional[ast.expr], shown: str, line: int, consts: Mapping[str, ast.expr]
    ) -> None:
        if expr is None:
            self._extend(["*"])
            return
        seen = 0
        while isinstance(expr, ast.Name) and expr.id in consts and seen < 5:
            expr, seen = consts[expr.id], seen + 1
        items: List[ast.expr]
        items = list(expr.elts) if isinstance(expr, (ast.List, ast.Tuple, ast.Set)) else [expr]
        found: List[str] = []
        for item in items:
            if isinstance(item, ast.Call) and _call_name(item.func) == "compile" and item.args:
                item = item.args[0]
            if isinstance(item, ast.Constant) and isinstance(item.value, str):
                found.append(item.value)
            else:
                self._unreadable(shown, getattr(item, "lineno", line), _unparse(expr))
                return
        self._extend(found)

    def _extend(self, origins: Iterable[str]) -> None:
        for origin in origins:
            if origin not in self.origins:
                self.origins.append(origin)

    def _unreadable(self, shown: str, line: int, text: str) -> None:
        if self.unreadable is None:
            self.unreadable = (shown, line, text)

    def result(self) -> Tuple[Optional[Tuple[str, ...]], Source, Optional[Tuple[str, int, str]]]:
        if self.unreadable is not None or not self.applied:
            return None, DEFAULT, self.unreadable
        return tuple(self.origins), self.source or DEFAULT, None


# -- devlint.toml services and zero-config detection ----------------------------------------------


def _split_command(command: Any) -> Optional[Tuple[Tuple[str, ...], Dict[str, str]]]:
    import re
    import shlex

    if isinstance(command, list):
        words = [str(w) for w in command]
    elif isinstance(command, str):
        try:
            words = shlex.split(command)
        except ValueError:
            return None
    else:
        return None
    env: Dict[str, str] = {}
    while words and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", words[0]):
        key, _, value = words.pop(0).partition("=")
        env[key] = value
    return (tuple(words), env) if words else None


def resolve_configured(service: Service, project: Project) -> Service:
    """A devlint.toml service of kind flask: Flask's files fill in what the user left out."""
    settings = service.settings
    findings: List[Finding] = []
    defaults: Dict[str, Value] = {}
    table = service.source.key or f"services.{service.name}"
    app = settings.get("app")
    if app is not None:
        if isinstance(app, str) and app.strip():
            defaults["app"] = Value(
                app, Source("file", service.source.where, service.source.line, f"{table}.app")
            )
        else:
            findings.append(
                _bad_setting(service, table, "app", 'a string such as "app:create_app"', app)
            )
    debug = settings.get("debug")
    if debug is not None:
        if isinstance(debug, bool):
            defaults["debug"] = Value(
                "1" if debug else "0",
                Source("file", service.source.where, service.source.line, f"{table}.debug"),
            )
        else:
            findings.append(_bad_setting(service, table, "debug", "true or false", debug))

    resolved: Optional[Service] = None
    split = _split_command(settings.get("command"))
    if split is not None:
        text = settings["command"] if isinstance(settings["command"], str) else _quote(split[0])
        command = Command(split[0], cwd=service.path, env=split[1], text=text)
        resolved = service_for_command(command, project, service.name, defaults)
    if resolved is None:
        command = Command(("flask", "run"), cwd=service.path, text="flask run")
        resolved = flask_run_service(FlaskArgs(), command, project, service.name, defaults)

    endpoints = resolved.endpoints
    if "port" in settings or "ports" in settings or "host" in settings:
        if "ports" in settings or not endpoints:
            endpoints = service.endpoints
        else:
            mine = endpoints[0]
            theirs = service.endpoints[0] if service.endpoints else None
            if theirs is not None and "port" in settings:
                mine = replace(
                    mine, port=theirs.port, port_source=theirs.port_source, fix=theirs.fix
                )
            if theirs is not None and "host" in settings:
                mine = replace(mine, host=theirs.host, host_source=theirs.host_source)
            endpoints = (mine,)
    return replace(
        service,
        endpoints=endpoints,
        cors_origins=resolved.cors_origins,
        cors_source=resolved.cors_source,
        details=resolved.details,
        diagnostics=(*service.diagnostics, *findings, *resolved.diagnostics),
    )


def _bad_setting(service: Service, table: str, key: str, expected: str, got: Any) -> Finding:
    from devlint.config import describe

    where = service.source.where + (f":{service.source.line}" if service.source.line else "")
    return Finding(
        "DL409",
        Severity.ERROR,
        f"{where}: {table}.{key}: expected {expected}, got {describe(got)}",
        service=service.name,
        evidence={"key": f"{table}.{key}"},
    )


def detect(project: Project) -> Optional[Service]:
    """Zero-config: a .flaskenv naming the app or FLASK_RUN_*, or app.py/wsgi.py importing flask."""
    source: Optional[Source] = None
    full = os.path.join(project.root, ".flaskenv")
    if project.exists(full):
        parsed = read_dotenv(project, full, project.getenv)
        keys = [k for k in parsed.values if k == "FLASK_APP" or k.startswith("FLASK_RUN_")]
        if keys:
            source = Source("file", ".flaskenv", parsed.lines.get(keys[0]), keys[0])
    if source is None:
        for name in ("wsgi.py", "app.py"):
            try:
                text = project.read_text(name)
            except FileProblem:
                continue
            if text is None:
                continue
            try:
                info = analyse(ast.parse(text, filename=name))
            except _PARSE_ERRORS:
                continue
            if info.imports_flask:
                source = Source("file", name, info.imports_flask, "import flask")
                break
    if source is None:
        return None
    command = Command(("flask", "run"), cwd=".", text="flask run")
    found = flask_run_service(FlaskArgs(), command, project)
    return replace(found, source=source)


# -- checks ------------------------------------------------------------------------------------


def check(service: Service, platform: str) -> Iterable[Finding]:
    details = service.details
    if details.get("debug") and details.get("debugger") is not False:
        for ep in service.endpoints:
            host = ep.host.strip().strip("[]").lower()
            if host in WILDCARD_HOSTS:
                yield Finding(
                    "DL401",
                    Severity.WARNING,
                    f"{service.name}: debug mode is on ({details.get('debug_source', 'debug')}) and the server "
                    f"listens on {ep.host or '0.0.0.0'} ({ep.host_source}): the Werkzeug debugger lets anyone "
                    f"who can reach port {ep.port} and get past its PIN run Python code on this machine",
                    service=service.name,
                    hint="Bind 127.0.0.1 while debugging (drop --host 0.0.0.0 / FLASK_RUN_HOST), "
                         "or turn debug off, or pass --no-debugger.",
                    evidence={
                        "host": ep.host,
                        "port": ep.port,
                        "debug_source": details.get("debug_source"),
                    },
                )
    if platform == "darwin":
        for ep in service.endpoints:
            if ep.port in AIRPLAY_PORTS:
                other = 5050 if ep.port != 5050 else 5051
                where = ep.fix.format(port=other) if ep.fix else f"use port {other}"
                yield Finding(
                    "DL402",
                    Severity.INFO,
                    f"{service.name}: port {ep.port} ({ep.port_source}): on macOS the AirPlay Receiver "
                    f"(ControlCenter) listens on *:{ep.port}, and browsers asking for localhost may reach it "
                    "instead of Flask (403 from AirTunes, failed CORS preflights)",
                    service=service.name,
                    hint="Turn it off in System Settings → General → AirDrop & Handoff → AirPlay Receiver, "
                         f"or use another port: {where}.",
                    evidence={"port": ep.port},
                )
