"""Every hook a devlint plugin may implement.

A plugin is a module (or object) with functions named like these, marked with
``devlint.hookimpl``. Built-in plugins (``devlint_plugins.flask`` …) use exactly this API,
registered through the ``devlint`` entry-point group like any third-party plugin.

Hooks split into two kinds, on purpose:
- *plan* hooks (recognise, detect, resolve, static checks) depend only on files and the
  environment, read through ``Project``; their results are cached while those inputs
  are unchanged.
- *live* hooks (explain a listener) run only when a port is not clear.
No hook scans sockets: the core takes one snapshot per run.
"""

from __future__ import annotations

from typing import Iterable, Mapping, Optional, Sequence

import pluggy

from devlint.model import Command, Endpoint, Explanation, Finding, Listener, Service
from devlint.project import Project

hookspec = pluggy.HookspecMarker("devlint")


@hookspec
def devlint_service_kinds() -> Optional[Mapping[str, Mapping[str, str]]]:
    """Return the service kinds this plugin owns: kind → {extra devlint.toml key → help}.

    The core accepts ``kind``, ``port``, ``ports``, ``host``, ``path`` and ``command`` for
    every service; list only your kind's own keys here.
    """


@hookspec(firstresult=True)
def devlint_command_services(command: Command, project: Project) -> Optional[Sequence[Service]]:
    """Recognise a command this plugin's framework runs (``flask run``, ``ng serve`` …).

    Return the services it will start, with ports worked out the way the framework
    would (flags, environment, its config files), or None when it is not yours.
    ``command.cwd`` is relative to ``project.root``; read files from there.
    """


@hookspec
def devlint_detect_services(project: Project) -> Optional[Sequence[Service]]:
    """Zero-config: return services whose files are in ``project.root`` (firebase.json …)."""


@hookspec(firstresult=True)
def devlint_resolve_service(service: Service, project: Project) -> Optional[Service]:
    """Fill in a devlint.toml service of your kind from the framework's own files.

    Values the user set in devlint.toml (``port``, ``host``) win over the files; say
    where each came from in the endpoint's sources. Return None when not your kind.
    """


@hookspec
def devlint_check_service(service: Service, project: Project) -> Optional[Iterable[Finding]]:
    """Static checks of one service (no sockets): debug on a public host, duplicates …"""


@hookspec
def devlint_check_stack(services: Sequence[Service], project: Project) -> Optional[Iterable[Finding]]:
    """Static checks across services: shared ports, proxy targets, CORS origins …"""


@hookspec(firstresult=True)
def devlint_explain_listener(
    listener: Listener, service: Service, endpoint: Endpoint, platform: str
) -> Optional[Explanation]:
    """Say what a listener in the way is (a known culprit, your framework's dev server), or None.

    Set ``stale=True`` only for your framework's own dev servers (``flask run``, ``ng serve``):
    ``devlint run --kill`` may offer to stop those, after its own safety rules (same user, not
    a system process, not a known culprit). Anything else is explained, never stopped.
    """
