"""Which emulators `firebase emulators:start` will start, and every port each one listens on.

Mirrors firebase-tools' src/emulator/controller.ts: ``filterEmulatorTargets`` and ``shouldStart``
(the emulators firebase.json configures, narrowed by --only; functions only with a top-level
"functions" block, eventarc and tasks with it; hosting only with a "hosting" block; the UI when
it shows and an emulator it supports is a target; the hub and logging always),
``getListenConfig`` (each one's host and port), the Firestore websocket and Data Connect Postgres
listeners; portUtils.ts (which emulators listen on every address of their host) and
serve/hosting.ts (the ports of a second hosting site and beyond). The defaults are in emulators.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Mapping, Optional, Sequence, Tuple

from devlint.addresses import LOCALHOST, LOOPBACKS, WILDCARDS, family, is_wildcard, plain
from devlint.model import Endpoint, Finding, Severity, Source, Sourced

from .cli import Launch
from .config import FirebaseJson
from .emulators import (
    DEFAULT_HOST,
    DEFAULT_SOURCE,
    EMULATORS,
    HOSTING_NEVER,
    HOSTING_SITE_OFFSET,
    MULTI_LISTEN,
    ONLY_NAMES,
    SECONDARIES,
    SERVICE_EMULATORS,
    UI_SUPPORTED,
    WITH_FUNCTIONS,
    Secondary,
)
from .rules import KIND, RULES


@dataclass
class Plan:
    """What firebase-tools will start: every listener, the emulators in start order, and the
    problems found on the way."""

    endpoints: List[Endpoint]
    emulators: List[str]
    findings: List[Finding]


def plan(cfg: FirebaseJson, launch: Launch, env: Mapping[str, Optional[str]], service: str = KIND) -> Plan:
    """The emulators firebase-tools will start and each one's listeners (controller.ts).

    env: the variables of emulators.ENV_VARS (None when unset)."""
    targets, findings = _targets(cfg, launch, service)
    if not targets:
        only = launch.only_entries
        findings.append(RULES(
            "DL507", f"{service}: no emulator to start: {cfg.shown} configures none"
            + (f" of --only {','.join(only)}" if only else ""),
            service=service, hint='Run `firebase init emulators`, or add an "emulators" block.',
            evidence={"file": cfg.shown}))
        return Plan([], [], findings)
    started = _started(cfg, targets, launch, env, service, findings)
    return Plan(_endpoints(cfg, started, launch, env, service, findings), started, findings)


# -- which emulators start ----------------------------------------------------------------


def _targets(cfg: FirebaseJson, launch: Launch, service: str) -> Tuple[List[str], List[Finding]]:
    """The emulators firebase.json configures (a top-level block or one under `emulators`),
    narrowed by --only; what --only names wrongly is a finding."""
    targets = [name for name in ONLY_NAMES if name in cfg.value or name in cfg.emulators]
    if "functions" in targets and "extensions" not in targets:
        targets.append("extensions")  # SDK-defined extensions ride along with functions
    if launch.only is None:
        return targets, []
    only, source = [entry.split(":")[0] for entry in launch.only.value if entry], launch.only.source
    findings: List[Finding] = []
    for name in only:
        if name not in ONLY_NAMES and name not in EMULATORS:
            findings.append(RULES(
                "DL504", f"{service}: --only {name} ({source}): not an emulator; "
                'firebase-tools exits with "is not a valid emulator name"',
                service=service, hint="Valid names: " + ", ".join(ONLY_NAMES) + ".", evidence={"only": name},
                severity=Severity.ERROR))
        elif name not in targets and name in SERVICE_EMULATORS:
            findings.append(RULES(
                "DL504", f"{service}: --only {name} ({source}), but {cfg.shown} configures no {name}; "
                f'firebase-tools skips it ("Not starting the {name} emulator")',
                service=service, hint=f'Add "{name}": {{}} under "emulators" in {cfg.shown}.',
                evidence={"only": name}))
    return [t for t in targets if t in only], findings


def _started(cfg: FirebaseJson, targets: Sequence[str], launch: Launch, env: Mapping[str, Optional[str]],
             service: str, findings: List[Finding]) -> List[str]:
    """The emulators that start, in firebase-tools' order: the hub, the UI, logging, then the
    targets firebase-tools will run."""
    started = ["hub"]
    functions_start = _functions_start(cfg, targets, service, findings)
    ui_start = launch.show_ui and cfg.ui_enabled is not False and any(t in UI_SUPPORTED for t in targets)
    if ui_start:
        started.append("ui")
    # utils.envOverride("START_LOGGING_EMULATOR", "false", v => v === "true"): when the variable
    # is unset the default is the *string* "false", which is truthy, so logging always starts
    # (measured with firebase-tools 15.34.2); only a set value other than "true" turns it off.
    if ui_start or env.get("START_LOGGING_EMULATOR") in (None, "", "true"):
        started.append("logging")
    for name in SERVICE_EMULATORS:
        if name in WITH_FUNCTIONS or name not in targets:
            continue  # functions and its companions start together, below
        if name == "hosting" and not cfg.value.get("hosting"):
            findings.append(_not_started(cfg, "hosting", service, "Run `firebase init hosting`."))
            continue
        started.append(name)
    if functions_start:
        started.extend(WITH_FUNCTIONS)
    return started


def _functions_start(cfg: FirebaseJson, targets: Sequence[str], service: str, findings: List[Finding]) -> bool:
    """Whether the functions emulator starts: it needs something to run, a top-level
    "functions" block (or, for --only extensions, an "extensions" one)."""
    if "functions" not in targets and "extensions" not in targets:
        return False
    functions, extensions = cfg.value.get("functions"), cfg.value.get("extensions")
    start = bool(functions) and isinstance(functions, (dict, list))
    if "extensions" in targets and isinstance(extensions, dict) and extensions:
        start = True
    if "functions" in targets and not start:
        findings.append(_not_started(
            cfg, "functions", service, 'Run `firebase init functions`, or add "functions": {"source": "functions"}.'))
    return start


def _not_started(cfg: FirebaseJson, name: str, service: str, hint: str) -> Finding:
    """DL505: an emulator configured under `emulators` that firebase-tools will not start,
    because its top-level block is missing."""
    return RULES(
        "DL505", f"{service}: the {name} emulator is configured ({cfg.source('emulators', name)}) but "
        f'{cfg.shown} has no top-level "{name}" block, so firebase-tools will not start it',
        service=service, hint=hint, evidence={"emulator": name})


# -- where each one listens -------------------------------------------------------------


def _endpoints(cfg: FirebaseJson, started: Sequence[str], launch: Launch, env: Mapping[str, Optional[str]],
               service: str, findings: List[Finding]) -> List[Endpoint]:
    """Every listener of the started emulators: each one's own, its secondary listeners and,
    for hosting, the ports of its further sites."""
    wsl = bool(env.get("WSL_DISTRO_NAME"))
    endpoints: List[Endpoint] = []
    for name in started:
        endpoint = _endpoint(cfg, name, wsl, service, findings)
        endpoints.append(endpoint)
        for extra in SECONDARIES:
            if extra.emulator == name and not (extra.unless_env and env.get(extra.unless_env)):
                endpoints.append(_secondary(cfg, endpoint, extra, service, findings))
        if name == "hosting":
            endpoints.extend(_hosting_sites(cfg, endpoint, launch.only_entries))
            if endpoint.port == HOSTING_NEVER:
                findings.append(RULES(
                    "DL506", f"{service}: hosting port {HOSTING_NEVER} ({endpoint.port_source}): firebase-tools "
                    f"never gives hosting port {HOSTING_NEVER} (it keeps it for functions) and starts it on the "
                    "next free port",
                    service=service, hint=f"Pick another port: {endpoint.fix.format(port=EMULATORS['hosting'].port)}.",
                    evidence={"port": HOSTING_NEVER}))
    return endpoints


def _listener(name: str, port: Sourced[int], host: Sourced[str], binds: Tuple[str, ...], moves: bool) -> Endpoint:
    """An Endpoint from a port and a host with their sources; the port's fix is the endpoint's."""
    return Endpoint(name=name, port=port.value, host=host.value, port_source=port.source, host_source=host.source,
                    binds=binds, auto_moves=moves, fix=port.fix)


def _endpoint(cfg: FirebaseJson, name: str, wsl: bool, service: str, problems: List[Finding]) -> Endpoint:
    """getListenConfig: host `|| "localhost"`, port `parseInt` when truthy, else the default
    (and then the emulators that find an available port may move)."""
    default = EMULATORS[name]
    host = cfg.host(name, service, problems) or Sourced(DEFAULT_HOST, DEFAULT_SOURCE)
    port = cfg.port(name, "port", default.port, service, problems)
    binds = _binds(name, host.value, wsl)
    if wsl and host.value == LOCALHOST:
        host = Sourced(LOOPBACKS[0], host.source)  # controller.ts: the WSL hack listens on IPv4 only
    return _listener(name, port or Sourced(default.port, DEFAULT_SOURCE, cfg.fix(name)), host, binds,
                     moves=port is None and default.moves)


def _binds(name: str, host: str, wsl: bool) -> Tuple[str, ...]:
    """The addresses the emulator binds when they differ from "the first address of its host":
    localhost is both loopbacks, IPv4 first (dns.ts), of which only the hub and the UI take
    both (and, under WSL, nobody); the hub and the UI on "::" add 0.0.0.0 (portUtils.ts)."""
    if host == LOCALHOST:
        return LOOPBACKS if name in MULTI_LISTEN and not wsl else LOOPBACKS[:1]
    if name in MULTI_LISTEN and is_wildcard(host) and family(plain(host)) == 6:
        return tuple(reversed(WILDCARDS))  # "::", then "0.0.0.0"
    return ()


def _secondary(cfg: FirebaseJson, primary: Endpoint, extra: Secondary, service: str,
               problems: List[Finding]) -> Endpoint:
    """A second listener of an emulator (Firestore's websocket, Data Connect's Postgres):
    same host, its own port key; it moves silently when that key is not set."""
    port = cfg.port(extra.emulator, extra.key, extra.port, service, problems)
    return _listener(extra.name, port or Sourced(extra.port, DEFAULT_SOURCE, cfg.fix(extra.emulator, extra.key)),
                     Sourced(primary.host, primary.host_source), primary.binds[:1], moves=port is None)


def _hosting_sites(cfg: FirebaseJson, first: Endpoint, only: Sequence[str]) -> List[Endpoint]:
    """serve/hosting.ts: with several sites, site i > 0 listens on port + 4 + i (never 5001),
    moving up while a port is taken."""
    sites = cfg.value.get("hosting")
    if not isinstance(sites, list):
        return []
    wanted = [entry.split(":", 1)[1] for entry in only if entry.startswith("hosting:")]
    chosen = [site for site in sites if isinstance(site, dict)
              and (not wanted or site.get("target") in wanted or site.get("site") in wanted)]
    result: List[Endpoint] = []
    taken = {HOSTING_NEVER, first.port}
    for i, site in enumerate(chosen[1:], start=1):
        port = first.port + HOSTING_SITE_OFFSET + i
        while port in taken:
            port += 1
        taken.add(port)
        label = site.get("target") or site.get("site") or str(i)
        source = Source("default", f"hosting port {first.port} + {HOSTING_SITE_OFFSET} + {i}")
        result.append(_listener(f"hosting[{label}]", Sourced(port, source, first.fix),
                                Sourced(first.host, first.host_source), first.binds, moves=True))
    return result
