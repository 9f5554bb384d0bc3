"""The run pipeline: request → plan → snapshot → verdicts → findings.

Each step takes what the one before made and none reaches back:

- ``request``: what was asked, in the working folder (warm.Request: also the cache key);
- ``plan``: config and services, from the cache while every input is unchanged, else built
  (plan.py) through the plugins, with the static findings;
- ``snapshot``: ONE scan of the TCP listeners on the ports this run checks, both families,
  with owners (or the rows the warm pre-check already got from netlink, handed on);
- ``verdicts``: typed (service, endpoint, Verdict) for each endpoint that is not clear;
- ``findings``: the plan's static findings, then one rule-table finding per verdict.

``check`` runs the last three; `devlint run` and `check` call it, --kill and --wait work on
its verdicts and call it again. The CLI only chooses what to print. The warm pre-check
(warm.py) is this pipeline with the plan read from the cache, through the same Request.

A cached, clear run stays lean: config parsing, pluggy and the plugins load only when a
plan is built or a listener needs explaining; the verdict rules only when something
listens on one of the ports.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, List, Mapping, Optional, Sequence, Tuple

from devlint.model import ExitCode, Finding, Severity
from devlint.warm import Request, working_dir

if TYPE_CHECKING:
    from devlint.checks import Explain, Judged
    from devlint.manager import PluginHost
    from devlint.model import Endpoint, Explanation, Listener, Service, Snapshot
    from devlint.plan import Plan
    from devlint.warm import Scanned


def request(argv: Optional[Sequence[str]] = None, names: Sequence[str] = (), config: Optional[str] = None,
            strict: bool = False, plugin_flags: Sequence[str] = ()) -> Request:
    """What was asked, in the current working folder (UsageError when that folder cannot be
    read): argv is `run`'s command (None for the other sub-commands), names the services
    named, then --config, --strict and -p."""
    return Request(working_dir(), argv, names, config, strict, plugin_flags)


def plan(request: Request, env: Mapping[str, str], use_cache: bool = True) -> Tuple[Plan, bool]:
    """(plan, from the cache?). The cached plan while every input is unchanged; else it is
    built (plan.build: ConfigError, UsageError, PluginError) and offered to the cache (which
    keeps the plans it can answer from). use_cache False (--no-cache) or DEVLINT_NO_CACHE set: the
    cache is neither read nor written."""
    from devlint import plan as planning

    use_cache = use_cache and not env.get("DEVLINT_NO_CACHE")
    if use_cache:
        from devlint import cache

        cached = cache.load(request, env)
        if cached is not None:
            return cached, True
    built = planning.build(request, env)
    if use_cache:
        from devlint import cache

        cache.save(request, env, built)
    return built, False


def snapshot(plan: Plan, scanned: Optional[Scanned] = None) -> Snapshot:
    """One scan of the listeners on the ports of the services this run checks. scanned:
    the warm pre-check's netlink rows, used when they are for exactly these ports."""
    from devlint.sockets import scan

    ports = frozenset(ep.port for svc in plan.target_services() for ep in svc.endpoints)
    rows = scanned[1] if scanned is not None and scanned[0] == ports else None
    return scan(ports, plan.platform or None, rows)


def verdicts(plan: Plan, snapshot: Snapshot) -> Tuple[Judged, ...]:
    """The checked endpoints that are not clear: held or shadowed, with the listeners in the
    way, or binding an address this machine lacks. Nothing on any port (the usual run) needs
    no verdict rules at all, unless the snapshot cannot list bound-only sockets and bind
    probes can, or an endpoint names a specific address (checks.in_the_way)."""
    from devlint.addresses import specific_binds

    targets = plan.target_services()
    if not any(snapshot.must_judge(ep.port) or specific_binds(ep.host, ep.binds)
               for svc in targets for ep in svc.endpoints):
        return ()
    from devlint.checks import in_the_way

    return tuple(in_the_way(targets, snapshot))


def findings(plan: Plan, judged: Sequence[Judged], platform: str, explain: Optional[Explain]) -> List[Finding]:
    """One finding per verdict (rules.py codes); the plan's static findings are its own."""
    if not judged:
        return []
    from devlint.checks import findings_for

    return findings_for(judged, platform, plan.services, explain)


@dataclass(frozen=True)
class Checked:
    """One pass over the machine: the verdicts that are not clear, the plan's static
    findings, and one finding per verdict (``port``, in the verdicts' order)."""

    verdicts: Tuple[Judged, ...]
    static: Tuple[Finding, ...]
    port: Tuple[Finding, ...]

    @property
    def findings(self) -> Tuple[Finding, ...]:
        """Every finding: the static ones, then the port ones."""
        return (*self.static, *self.port)

    @property
    def code(self) -> int:
        """The exit code these findings mean (exit_code)."""
        return exit_code(self.findings)

    def held_only(self) -> bool:
        """Errors only from the verdicts (a port held or shadowed), none from the plan nor a
        missing bind address: the kind a server shutting down resolves, so --wait may wait
        for it."""
        from devlint.verdict import UNAVAILABLE

        return (bool(exit_code(self.port)) and not exit_code(self.static)
                and all(found.verdict.status != UNAVAILABLE for found in self.verdicts))


def check(plan: Plan, explain: Optional[Explain], scanned: Optional[Scanned] = None) -> Checked:
    """snapshot → verdicts → findings for a plan; `explain` is asked about listeners in the
    way (explainer); `scanned` as for snapshot."""
    taken = snapshot(plan, scanned)
    judged = verdicts(plan, taken)
    return Checked(judged, tuple(plan.findings), tuple(findings(plan, judged, taken.platform, explain)))


def explainer(env: Mapping[str, str], plugin_flags: Sequence[str], plan: Optional[Plan] = None) -> Explain:
    """What a listener in the way is: a known culprit (culprits.py), else what a plugin's
    devlint_explain_listener says; the plugins are loaded only when first asked, without
    those -p, DEVLINT_DISABLE_PLUGINS and the plan's config disable. Plugins get the service
    with its folder absolute (from the plan's root, else the working folder): they compare a
    holder's working folder with it to tell this project's stale server from another's."""
    host: List[PluginHost] = []
    root = plan.root if plan is not None and plan.root else os.getcwd()

    def explain(listener: Listener, service: Service, endpoint: Endpoint, platform: str) -> Optional[Explanation]:
        from dataclasses import replace

        from devlint.checks import known_culprit

        known = known_culprit(listener, service, endpoint, platform)
        if known is not None:
            return known
        if not host:
            from devlint.manager import PluginHost, disabled_from

            config = plan.disabled_plugins if plan is not None else ()
            host.append(PluginHost(disabled_from(env, plugin_flags, config)))
        absolute = replace(service, path=os.path.normpath(os.path.join(root, service.path)))
        return host[0].explain_listener(listener, absolute, endpoint, platform)

    return explain


def exit_code(found: Sequence[Finding]) -> int:
    """1 when any finding is an error, else 0."""
    return int(ExitCode.FINDINGS if any(f.severity >= Severity.ERROR for f in found) else ExitCode.OK)


__all__ = ["Checked", "check", "exit_code", "explainer", "findings", "plan", "request", "snapshot", "verdicts"]
