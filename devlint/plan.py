"""config → services: everything devlint can know before looking at sockets.

A Plan is the result of reading devlint.toml and the frameworks' own files through the
plugins: every service with its endpoints and their provenance, which of them this run
must check, and the static findings (broken files, shared ports, proxy targets...).
It depends only on files and environment, so it can be cached (see cache.py).
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Dict, Iterable, List, Mapping, Optional, Tuple

from devlint.cache import stamp
from devlint.config import Config, ConfigWarning, discover, load
from devlint.model import Finding, Service
from devlint.project import FileStamp, Project
from devlint.warm import Request, UsageError

if TYPE_CHECKING:
    from devlint.manager import PluginHost


@dataclass
class Plan:
    """Everything devlint knows before looking at sockets, for one Request (plan.build).

    Built from files and environment only, so it is cached (cache.py) and read back as is.

    services: every service of the stack, in config order (or as detected), each with its
        endpoints and where each value came from. For `run`, each service its command starts
        takes the place of a configured one (same command, else same kind; under the
        config's name) or is added.
    targets: the names of the services whose ports this run checks: those named on the
        command line, else the ones `run`'s command starts, else all.
    findings: the static findings (broken files, shared ports, proxy targets ...): the
        services' diagnostics, the per-service checks of the targets, the stack checks.
    config_path: the config file used (devlint.toml, pyproject.toml, --config), or None.
    config_reason: why that file (or none) was chosen, as `devlint config` prints it.
    warnings: config warnings (an unknown key without --strict), shown before findings.
    platform: the platform whose bind rules judge the ports ("linux", "darwin", ...).
    recognised: False when `run` could not tell what its command starts (all are checked).
    disabled_plugins: the plugins the config's ``disable_plugins`` turns off (the command
        line's -p and DEVLINT_DISABLE_PLUGINS are the request's and the environment's).
    inputs: path → cache.stamp (size, mtime_ns, inode, ctime_ns, device, crc32 or None) or
        None, for every file read or looked for: what the cache checks before reusing the plan.
    env: every environment variable read while planning, and its value (or None); the
        cache records inputs and env beside the plan, not in it.
    root: the project root, absolute: the config file's folder, else the working folder.
        Services' paths are relative to it.
    """

    services: Tuple[Service, ...]
    targets: Tuple[str, ...]
    findings: Tuple[Finding, ...]
    config_path: Optional[str]
    config_reason: str
    warnings: Tuple[str, ...] = ()
    platform: str = ""
    recognised: bool = True
    disabled_plugins: Tuple[str, ...] = ()
    inputs: Dict[str, FileStamp] = field(default_factory=dict)
    env: Dict[str, Optional[str]] = field(default_factory=dict)
    root: str = ""

    def target_services(self) -> List[Service]:
        """The services this run checks, in stack order."""
        return [svc for svc in self.services if svc.name in self.targets]


def build(request: Request, env: Mapping[str, str], platform: Optional[str] = None) -> Plan:
    """The plan for a request: find the config (walking up from request.cwd, or --config),
    resolve its services through the plugins (or let them detect services when there is no
    config), work out what `run`'s command starts, and run the static checks.

    `env` is the environment the dev servers will see; `platform` defaults to this one.
    Raises ConfigError (a broken or invalid config; unknown keys with --strict), UsageError
    (a service named that does not exist) and PluginError (a plugin that cannot load).
    """
    from devlint.manager import PluginHost, disabled_from

    cwd = Path(request.cwd)
    ignored: List[ConfigWarning] = []  # config files discovery may not use (another user's)
    path, reason, looked = discover(cwd, request.config, env, ignored)
    root = path.parent if path else cwd
    project = Project(root, env=env, platform=platform, config_path=path)
    host = PluginHost(disabled_from(env, request.plugin_flags))
    config = Config(None, reason)
    unfollowed: List[Finding] = []  # what commands.expand could not follow (DL301, DL302)
    if path is not None:
        shown = os.path.relpath(path, cwd) if not request.config else request.config
        config = load(path, reason, host.service_kinds(), shown=shown, strict=request.strict)
        if config.disable_plugins:  # without them, a kind they owned is unknown: say so (exit 2)
            host = PluginHost(disabled_from(env, request.plugin_flags, config.disable_plugins))
            config = load(path, reason, host.service_kinds(), shown=shown, strict=request.strict)
        services = [_resolve(svc, project, host, unfollowed) for svc in config.services]
    else:
        services = host.detect_services(project)

    targets: Tuple[str, ...]
    recognised = True
    if request.argv is not None:
        services, launched = _launched(request, project, host, services, unfollowed)
        recognised = bool(launched)
        targets = launched or tuple(svc.name for svc in services)
    else:
        targets = tuple(svc.name for svc in services)
    if request.names:
        known = {svc.name for svc in services}
        for name in request.names:
            if name not in known:
                raise UsageError(_unknown_service(name, known, config))
        targets = request.names

    findings: List[Finding] = list(unfollowed)
    for svc in services:
        findings.extend(svc.diagnostics)
        if svc.name in targets:
            findings.extend(host.check_service(svc, project))
    findings.extend(host.check_stack(services, project))
    findings.extend(_host_findings([svc for svc in services if svc.name in targets]))

    inputs: Dict[str, FileStamp] = {p: stamp(p) for p in looked}
    if path is not None:
        inputs[str(path)] = stamp(str(path))
    inputs.update(project.files_read)
    return Plan(
        services=tuple(services), targets=targets, findings=tuple(findings),
        config_path=str(path) if path else None, config_reason=reason,
        warnings=tuple(str(w) for w in (*ignored, *config.warnings)), platform=project.platform,
        recognised=recognised, disabled_plugins=tuple(config.disable_plugins), inputs=inputs,
        env=dict(project.env_read), root=os.path.abspath(root),
    )


def _host_findings(targets: List[Service]) -> List[Finding]:
    """DL104 for each checked endpoint whose host devlint does not turn into addresses
    (checks.host_findings). Static (the host text alone decides), so it belongs to the plan
    and is cached with it: a plan with one never reads as clear on the warm path, and
    `config` shows it. Loads checks.py only when some host needs it."""
    from devlint.addresses import unchecked

    if not any(unchecked(ep.host) is not None and not ep.binds for svc in targets for ep in svc.endpoints):
        return []
    from devlint.checks import host_findings

    return host_findings(targets)


def _resolve(service: Service, project: Project, host: PluginHost, unfollowed: List[Finding]) -> Service:
    """A configured service, completed from its `command` (worked out exactly as `devlint
    run` would) or else from the framework's files by its plugin."""
    command = service.settings.get("command")
    if command:
        from devlint.commands import expand

        argv = shlex.split(command) if isinstance(command, str) else list(command)
        for simple in expand(argv, project, cwd=service.path, wrappers=host, problems=unfollowed):
            for found in host.command_services(simple, project) or ():
                if service.kind and found.kind != service.kind:
                    continue
                return replace(found, name=service.name, kind=found.kind, path=service.path,
                               source=service.source, settings=service.settings,
                               endpoints=service.endpoints or found.endpoints)
    return host.resolve_service(service, project)


def _launched(request: Request, project: Project, host: PluginHost, services: List[Service],
              unfollowed: List[Finding]) -> Tuple[List[Service], Tuple[str, ...]]:
    """The services the command will start, named after the config's services of the
    same kind (so messages use the user's names), replacing them in the stack."""
    from devlint.commands import expand

    cwd = os.path.relpath(request.cwd, project.root)
    assert request.argv is not None
    launched: List[Service] = []
    for command in expand(list(request.argv), project, cwd=cwd, wrappers=host, problems=unfollowed):
        launched.extend(host.command_services(command, project) or ())
    result = list(services)
    names: List[str] = []
    typed = " ".join(request.argv)
    for svc in launched:
        match = next((i for i, old in enumerate(result)
                      if _command_text(old) == typed and old.name not in names), None)
        if match is None:
            match = next((i for i, old in enumerate(result)
                          if old.kind == svc.kind and old.name not in names), None)
        if match is not None:
            old = result[match]
            svc = replace(svc, name=old.name, settings=old.settings)
            result[match] = svc
        else:
            taken = {s.name for s in result}
            name, n = svc.name, 2
            while name in taken:
                name, n = f"{svc.name}-{n}", n + 1
            svc = replace(svc, name=name)
            result.append(svc)
        names.append(svc.name)
    return result, tuple(names)


def _command_text(service: Service) -> str:
    command = service.settings.get("command")
    if isinstance(command, (list, tuple)):
        return " ".join(str(word) for word in command)
    return " ".join(shlex.split(command)) if isinstance(command, str) else ""


def _unknown_service(name: str, known: Iterable[str], config: Config) -> str:
    import difflib

    close = difflib.get_close_matches(name, list(known), n=1)
    where = config.path.name if config.path else "this folder (no devlint.toml)"
    message = f"no service named {name!r} in {where}"
    if close:
        message += f"; did you mean {close[0]!r}?"
    return message + (f" (services: {', '.join(sorted(known))})" if known else "")


__all__ = ["Plan", "build"]
