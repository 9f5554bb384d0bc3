"""Static checks of a Flask service, and what a `flask run` in the way is.

Facts: Werkzeug's debugger (``werkzeug/debug``: it runs Python code for anyone who reaches
it and gets past its PIN; Flask turns it on with debug mode unless ``--no-debugger``),
Apple's AirPlay Receiver (ControlCenter listens on ``*:5000`` and ``*:7000`` on macOS 12+),
and the Werkzeug reloader (its child process has the parent's command line).
"""

from __future__ import annotations

from typing import Iterable, Optional, Sequence, Union

from devlint.addresses import is_wildcard
from devlint.model import Explanation, Finding, Listener, Service

from .cli import FlaskArgs, is_python, parse_flask_args
from .rules import KIND, RULES

AIRPLAY_PORTS = (5000, 7000)


def check(service: Service, platform: str) -> Iterable[Finding]:
    """DL401 (debugger on a public host) and DL402 (an AirPlay port on macOS)."""
    details = service.details
    if details.get("debug") and details.get("debugger") is not False:
        for ep in service.endpoints:
            if is_wildcard(ep.host):
                yield RULES(
                    "DL401",
                    f"{service.name}: debug mode is on ({details.get('debug_source', 'debug')}) and the server "
                    f"listens on {ep.host or '0.0.0.0'} ({ep.host_source}): the Werkzeug debugger lets anyone "
                    f"who can reach port {ep.port} and get past its PIN run Python code on this machine",
                    service=service.name,
                    hint="Bind 127.0.0.1 while debugging (drop --host 0.0.0.0 / FLASK_RUN_HOST), "
                         "or turn debug off, or pass --no-debugger.",
                    evidence={"host": ep.host, "port": ep.port, "debug_source": details.get("debug_source")},
                )
    if platform == "darwin":
        for ep in service.endpoints:
            if ep.port in AIRPLAY_PORTS:
                other = 5050 if ep.port != 5050 else 5051
                where = ep.fix.format(port=other) if ep.fix else f"use port {other}"
                yield RULES(
                    "DL402",
                    f"{service.name}: port {ep.port} ({ep.port_source}): on macOS the AirPlay Receiver "
                    f"(ControlCenter) listens on *:{ep.port}, and browsers asking for localhost may reach it "
                    "instead of Flask (403 from AirTunes, failed CORS preflights)",
                    service=service.name,
                    hint="Turn it off in System Settings → General → AirDrop & Handoff → AirPlay Receiver, "
                         f"or use another port: {where}.",
                    evidence={"port": ep.port},
                )


def explain(listener: Listener, service: Service) -> Optional[Explanation]:
    """A `flask run` in the way (or its Werkzeug reloader child, which has the same command
    line), recognised at the program position only (`flask run`, `python -m flask run`,
    `/venv/bin/python /venv/bin/flask run`; never `ssh host flask run`, `echo flask run`,
    `sudo flask run` or `python -c ... flask run`), or None.

    It is stale (a dev server of this project, which --kill may offer to stop) only when it
    belongs to the service's folder: its working folder is that folder, or its ``--app``
    file lies inside it. Otherwise (another project, or a folder devlint cannot read) it is
    explained but not stale."""
    args = flask_run(listener.cmdline)
    if args is None:
        return None
    title = "Flask dev server (flask run)"
    project = _project_folder(service)
    where = _belongs(listener.pid, args, project)
    fix = (f"stop it (Ctrl-C in its terminal, or `kill {listener.pid}`)" if listener.pid
           else "stop the other `flask run` (Ctrl-C in its terminal)")
    if where is not True:
        seen = f"started in another folder ({where})" if where else "in a folder devlint cannot read"
        why = f"{listener.owner()} is a Flask dev server (`flask run`) listening on {listener.where()}, {seen}, " \
              f"not {project}"
        return Explanation(title=title, why=why, fix=fix + ", or move this service to another port", stale=False)
    why = f"{listener.owner()} is a Flask dev server (`flask run`) listening on {listener.where()}"
    if service.kind == KIND:
        why += ", probably left over from an earlier run"
    return Explanation(title=title, why=why, fix=fix + (", or run devlint with --kill" if listener.pid else ""),
                       stale=True)


def flask_run(cmdline: Optional[Sequence[str]]) -> Optional[FlaskArgs]:
    """`flask run`'s options when a command line runs it at the program position: the
    executable `flask`, ``python -m flask``, or an interpreter running a script named
    ``flask`` (what a shebang turns `flask run` into); None otherwise."""
    from devlint.process import basename as program_name
    from devlint.process import program

    found = program(cmdline)
    if found is None:
        return None
    if found.kind in ("exe", "script") and program_name(found.value) == "flask":
        return parse_flask_args(found.args, (found.value,))
    if found.kind == "module" and found.value == "flask" and found.interpreter and is_python(found.interpreter):
        return parse_flask_args(found.args, (found.interpreter, "-m", "flask"))
    return None


def _project_folder(service: Service) -> str:
    """The service's folder, resolved (devlint's explainer hands it over absolute: the
    project root joined with the service's path)."""
    import os

    return os.path.realpath(service.path)


def _belongs(pid: Optional[int], args: FlaskArgs, project: str) -> Union[bool, str, None]:
    """True when the process's working folder is `project` or its --app file lies inside it;
    else its working folder (a string), or None when that cannot be read."""
    import os

    from devlint.process import folder

    cwd = folder(pid)
    if cwd is None:
        return None
    if cwd == project:
        return True
    app = args.values.get("app")
    if app is not None:
        path = app.value.split(":", 1)[0]
        if path.endswith(".py") or "/" in path:
            full = os.path.realpath(os.path.join(cwd, path))
            if full.startswith(project.rstrip(os.sep) + os.sep):
                return True
    return cwd
