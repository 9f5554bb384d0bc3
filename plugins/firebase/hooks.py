"""Firebase Local Emulator Suite: every emulator's port, worked out as firebase-tools does.

`firebase emulators:start` reads firebase.json's `emulators` block and starts a dozen servers,
most of them on ports nobody wrote down (hub 4400, logging 4500, the UI 4000, Firestore's
websocket 9150 ...). Some move to the next free port by themselves, the others refuse to start.
This module holds only the plugin's hooks; the work is in the modules beside it:

- emulators.py: the facts from firebase-tools (default ports and hosts, which ones move);
- config.py: firebase.json and .firebaserc as firebase-tools reads them;
- cli.py: the `firebase emulators:start|exec` command line; settings.py: devlint.toml's keys;
- plan.py: which emulators start, and where each one listens; service.py: the Service;
- checks.py: static checks (duplicate ports); processes.py: a running emulator suite;
- rules.py: the finding codes DL501-DL507.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Optional, Sequence

from devlint import hookimpl
from devlint.model import Command, Endpoint, Explanation, Finding, Listener, Rule, Service
from devlint.project import Project

from . import checks, processes, settings
from .cli import exec_script, parse_command
from .rules import KIND, RULES
from .service import build, detect, from_settings


@hookimpl
def devlint_service_kinds() -> Mapping[str, Mapping[str, str]]:
    return {KIND: settings.KEYS}


@hookimpl
def devlint_rules() -> Sequence[Rule]:
    return list(RULES.values())


@hookimpl
def devlint_package_binaries() -> Mapping[str, str]:
    return {"firebase-tools": "firebase"}


@hookimpl
def devlint_inner_command(command: Command) -> Optional[str]:
    return exec_script(command.argv)


@hookimpl
def devlint_init_settings(service: Service, from_script: bool) -> Optional[Mapping[str, Any]]:
    return settings.init_settings(service, from_script)


@hookimpl
def devlint_command_services(command: Command, project: Project) -> Optional[Sequence[Service]]:
    launch = parse_command(command.argv)
    if launch is None:
        return None
    return [build(project, command.cwd, launch, path=command.cwd)]


@hookimpl
def devlint_resolve_service(service: Service, project: Project) -> Optional[Service]:
    return from_settings(service, project)


@hookimpl
def devlint_detect_services(project: Project) -> Optional[Sequence[Service]]:
    return detect(project)


@hookimpl
def devlint_check_service(service: Service, project: Project) -> Optional[Iterable[Finding]]:
    return list(checks.duplicate_ports(service))


@hookimpl
def devlint_explain_listener(
    listener: Listener, service: Service, endpoint: Endpoint, platform: str
) -> Optional[Explanation]:
    return processes.explain(listener, service, endpoint)
