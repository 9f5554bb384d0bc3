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

Routing: the per-service hooks (``devlint_resolve_service``, ``devlint_check_service``,
``devlint_init_settings``) are called only on the plugin that owns the service's kind (see
``devlint_service_kinds``) and on plugins that own no kind (whole-stack checks), so a
plugin never needs to test ``service.kind`` itself.

A hook marked *firstresult* stops at the first plugin that returns something other than
None: that answer wins, and later plugins are not called. The others collect every
plugin's answer.

Plugins import only the model (``devlint.model``), the address vocabulary
(``devlint.addresses``), the shared readers (``devlint.readers``), ``devlint.project`` and
the hook marker (``devlint.hookimpl``); never the socket or verdict side.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Optional, Sequence

import pluggy

from devlint.model import Command, Endpoint, Explanation, Finding, Listener, Rule, Service
from devlint.project import Project

hookspec = pluggy.HookspecMarker("devlint")


@hookspec
def devlint_service_kinds() -> Optional[Mapping[str, Mapping[str, str]]]:
    """Return the service kinds this plugin owns: kind → {extra devlint.toml key → help}.

    The core accepts ``kind``, ``port``, ``ports``, ``host``, ``path`` and ``command`` for
    every service; list only your kind's own keys here.
    """


@hookspec
def devlint_rules() -> Optional[Sequence[Rule]]:
    """Return the finding codes this plugin emits (its ``RuleTable``'s rules).

    ``devlint plugins`` lists them, and the README's code tables are checked against them.
    """


@hookspec
def devlint_package_binaries() -> Optional[Mapping[str, str]]:
    """Return npm package → binary name, for packages whose binary is named otherwise
    (``{"@angular/cli": "ng"}``), so ``npx @angular/cli serve`` is read as ``ng serve``.

    Without an entry, ``npx NAME`` runs the binary NAME (``@scope/NAME`` too).
    """


@hookspec(firstresult=True)
def devlint_inner_command(command: Command) -> Optional[str]:
    """Say which command line a command of your framework runs once it is up, as shell text,
    or None.

    ``firebase emulators:exec "npm test"`` starts the emulators and then runs ``npm test``:
    return ``"npm test"``. The core then reads that text like any script; the command
    itself is still recognised by ``devlint_command_services``.
    firstresult: the first non-None answer wins.
    """


@hookspec(firstresult=True)
def devlint_command_services(command: Command, project: Project) -> Optional[Sequence[Service]]:
    """Recognise a command this plugin's framework runs (``flask run``, ``ng serve`` …).

    Return the services it will start, with ports worked out the way the framework
    would (flags, environment, its config files), or None when it is not yours.
    ``command.cwd`` is relative to ``project.root``; read files from there.
    firstresult: the first non-None answer wins.
    """


@hookspec
def devlint_detect_services(project: Project) -> Optional[Sequence[Service]]:
    """Zero-config: return services whose files are in ``project.root`` (firebase.json …)."""


@hookspec(firstresult=True)
def devlint_resolve_service(service: Service, project: Project) -> Optional[Service]:
    """Fill in a devlint.toml service of your kind from the framework's own files.

    Values the user set in devlint.toml (``port``, ``host``) win over the files; say
    where each came from in the endpoint's sources. Routed to the plugins declaring the kind
    and to those owning no kind. firstresult: the first non-None answer wins.
    """


@hookspec
def devlint_check_service(service: Service, project: Project) -> Optional[Iterable[Finding]]:
    """Static checks of one service (no sockets): debug on a public host, duplicates …

    Routed to the plugins declaring the kind and to those owning no kind.
    """


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
    Asked of every plugin, whatever the service's kind (a squatter can be anyone's).
    firstresult: the first non-None answer wins.
    """


@hookspec(firstresult=True)
def devlint_init_settings(service: Service, from_script: bool) -> Optional[Mapping[str, Any]]:
    """Extra devlint.toml keys ``devlint init`` should write for a service of your kind, as
    plain TOML-able values (``{"project": "demo-app"}``), or None.

    from_script: the service was found in a package.json script, which init writes as
    ``command`` (so what the script's flags say need not be repeated). Routed to the plugins
    declaring the kind and to those owning no kind. firstresult: the first non-None answer wins.
    """
