"""The Flask plugin's hooks: which port and host `flask run` / `app.run()` will use, and where
that came from (Flask 3.1 ``src/flask/cli.py`` and ``src/flask/app.py``).

Only the ``@hookimpl`` functions live here; each hands over to the module of its concern:
``services`` (a command → the service it starts, via ``cli``, ``environment``, ``source``,
``evaluate`` and ``cors``), ``settings`` (devlint.toml), ``detect`` (zero-config), ``checks``
and ``rules`` (finding codes DL400-DL409). User code is read as text and parsed with
``ast``; it is never imported or executed.
"""

from __future__ import annotations

from typing import Iterable, List, Mapping, Optional, Sequence

from devlint import hookimpl
from devlint.model import Command, Endpoint, Explanation, Finding, Listener, Rule, Service
from devlint.project import Project

from .checks import check, explain
from .detect import detect
from .rules import KIND, RULES
from .services import service_for_command
from .settings import FLASK_APP_KEYS, resolve_configured


@hookimpl
def devlint_service_kinds() -> Mapping[str, Mapping[str, str]]:
    return {KIND: FLASK_APP_KEYS}


@hookimpl
def devlint_rules() -> List[Rule]:
    return list(RULES.values())


@hookimpl
def devlint_command_services(command: Command, project: Project) -> Optional[Sequence[Service]]:
    service = service_for_command(command, project)
    return [service] if service is not None else None


@hookimpl
def devlint_resolve_service(service: Service, project: Project) -> Optional[Service]:
    return resolve_configured(service, project)


@hookimpl
def devlint_detect_services(project: Project) -> Optional[Sequence[Service]]:
    found = detect(project)
    return [found] if found is not None else None


@hookimpl
def devlint_check_service(service: Service, project: Project) -> Optional[Iterable[Finding]]:
    return list(check(service, project.platform))


@hookimpl
def devlint_explain_listener(
    listener: Listener, service: Service, endpoint: Endpoint, platform: str
) -> Optional[Explanation]:
    return explain(listener, service)
