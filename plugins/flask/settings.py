"""A devlint.toml service of kind flask: its own keys, and Flask's files for the rest.

Facts: the keys are devlint's (README "devlint.toml"): ``app`` and ``debug`` act like
Flask 3.1's ``--app`` / ``--debug`` group options (``src/flask/cli.py``); ``command`` is
read like a package.json script's command (``VAR=x flask run``, ``python app.py``),
else ``flask run`` in the service's ``path``. ``port`` / ``ports`` / ``host`` set in
devlint.toml win over what Flask's files say (the core has already built those endpoints).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Dict, List, Mapping, Optional, Tuple

from devlint.model import Command, Endpoint, Finding, Service, Source, Sourced, describe
from devlint.project import Project

from .cli import FlaskArgs
from .rules import RULES
from .services import flask_run_service, service_for_command
from .values import quote

FLASK_APP_KEYS: Mapping[str, str] = {
    "app": "the Flask app, as FLASK_APP / --app name it (module, module:factory or path)",
    "debug": "true/false: run in debug mode, as --debug / --no-debug "
             "(the debugger runs code for anyone who can reach it)",
}


def resolve_configured(service: Service, project: Project) -> Service:
    """A devlint.toml service of kind flask: Flask's files fill in what the user left out."""
    settings = service.settings
    defaults, findings = _defaults(service)
    resolved: Optional[Service] = None
    split = _split_command(settings.get("command"))
    if split is not None:
        text = settings["command"] if isinstance(settings["command"], str) else quote(split[0])
        command = Command(split[0], cwd=service.path, env=split[1], text=text)
        resolved = service_for_command(command, project, service.name, defaults)
    if resolved is None:
        command = Command(("flask", "run"), cwd=service.path, text="flask run")
        resolved = flask_run_service(FlaskArgs(), command, project, service.name, defaults)
    return replace(
        service,
        endpoints=_endpoints(service, resolved.endpoints),
        cors_origins=resolved.cors_origins,
        cors_source=resolved.cors_source,
        details=resolved.details,
        diagnostics=(*service.diagnostics, *findings, *resolved.diagnostics),
    )


def _defaults(service: Service) -> Tuple[Dict[str, Sourced[str]], List[Finding]]:
    """The app and debug settings as --app/--debug values, and DL409 for wrong types."""
    settings = service.settings
    table = service.source.key or f"services.{service.name}"
    defaults: Dict[str, Sourced[str]] = {}
    findings: List[Finding] = []
    app = settings.get("app")
    if app is not None:
        if isinstance(app, str) and app.strip():
            defaults["app"] = Sourced(app, _setting_source(service, table, "app"))
        else:
            findings.append(_bad_setting(service, table, "app", 'a string such as "app:create_app"', app))
    debug = settings.get("debug")
    if debug is not None:
        if isinstance(debug, bool):
            defaults["debug"] = Sourced("1" if debug else "0", _setting_source(service, table, "debug"))
        else:
            findings.append(_bad_setting(service, table, "debug", "true or false", debug))
    return defaults, findings


def _endpoints(service: Service, found: Tuple[Endpoint, ...]) -> Tuple[Endpoint, ...]:
    """Flask's endpoint, with devlint.toml's port and host where the user set them."""
    settings = service.settings
    if "port" not in settings and "ports" not in settings and "host" not in settings:
        return found
    if "ports" in settings or not found:
        return service.endpoints
    mine = found[0]
    theirs = service.endpoints[0] if service.endpoints else None
    if theirs is not None and "port" in settings:
        mine = replace(mine, port=theirs.port, port_source=theirs.port_source, fix=theirs.fix)
    if theirs is not None and "host" in settings:
        mine = replace(mine, host=theirs.host, host_source=theirs.host_source)
    return (mine,)


def _setting_source(service: Service, table: str, key: str) -> Source:
    return Source("file", service.source.where, service.source.line, f"{table}.{key}")


def _split_command(command: Any) -> Optional[Tuple[Tuple[str, ...], Dict[str, str]]]:
    """The words and leading VAR=value assignments of a `command` setting (string or list)."""
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


def _bad_setting(service: Service, table: str, key: str, expected: str, got: Any) -> Finding:
    where = service.source.where + (f":{service.source.line}" if service.source.line else "")
    return RULES("DL409", f"{where}: {table}.{key}: expected {expected}, got {describe(got, 'toml')}",
                 service=service.name, evidence={"key": f"{table}.{key}"})
