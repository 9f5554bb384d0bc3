"""The Angular plugin's hooks: `ng serve` and angular.json, as devlint services.

Thin on purpose: each hook hands over to the module that owns its concern (``cli`` reads the
command line, ``serve`` builds the service from the workspace, ``checks`` checks it and names an
`ng serve` in the way, ``rules`` declares the codes). Owns the service kind ``angular``; devlint
routes the per-service hooks of that kind here only.
"""

from __future__ import annotations

from typing import Iterable, List, Mapping, Optional, Sequence

from devlint import hookimpl
from devlint.model import Command, Endpoint, Explanation, Finding, Listener, Rule, Service
from devlint.project import Project

from .checks import check, explain
from .cli import NgArgs, parse_command
from .rules import KIND, RULES
from .serve import build, resolve_configured
from .workspace import LEGACY_FILES, WORKSPACE_FILES


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
def devlint_rules() -> List[Rule]:
    return list(RULES.values())


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
    return resolve_configured(service, project)


@hookimpl
def devlint_detect_services(project: Project) -> Optional[Sequence[Service]]:
    if not any(project.exists(name) for name in (*WORKSPACE_FILES, *LEGACY_FILES)):
        return None
    found = build(project, ".", NgArgs(), detecting=True)
    if not found.endpoints and all(f.code in ("DL603", "DL604") for f in found.diagnostics):
        return None  # a library-only workspace, or a serve target of another tool: nothing to check
    return [found]


@hookimpl
def devlint_check_service(service: Service, project: Project) -> Optional[Iterable[Finding]]:
    return list(check(service))


@hookimpl
def devlint_explain_listener(
    listener: Listener, service: Service, endpoint: Endpoint, platform: str
) -> Optional[Explanation]:
    return explain(listener, service, endpoint)
