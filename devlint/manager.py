"""The plugin host: loads built-in and third-party plugins, and calls hooks for the core.

Like tox's manager, callers never touch ``pm.hook``: every hook has a typed method here
that also flattens and filters results. Built-ins (``devlint_plugins.*``) come through
the ``devlint`` entry-point group like any third-party plugin; only when devlint runs
from a source tree without installed metadata are they found by listing that package.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Set, Tuple, cast

from devlint.model import Command, Endpoint, Explanation, Finding, Listener, Rule, Service
from devlint.project import Project

ENTRY_POINT_GROUP = "devlint"
BUILTIN_PACKAGE = "devlint_plugins"


class PluginError(Exception):
    """A plugin could not be loaded; the message names it and says how to disable it."""


@dataclass(frozen=True)
class PluginInfo:
    """A loaded plugin as `devlint plugins` shows it: its entry-point name, hook module,
    distribution and version, the hooks it implements and the finding codes it declares."""

    name: str
    module: str
    distribution: str
    version: str
    hooks: Tuple[str, ...]
    codes: Tuple[str, ...] = ()


def disabled_from(env: Mapping[str, str], flags: Sequence[str], config: Sequence[str] = ()) -> frozenset[str]:
    """Plugins turned off by `-p no:NAME`, DEVLINT_DISABLE_PLUGINS=a,b and the config file.
    Raises PluginError for a -p that is not `no:NAME` (devlint loads plugins only from the
    `devlint` entry-point group, so -p can only turn one off)."""
    wrong = [flag for flag in flags if not flag.startswith("no:") or not flag[3:]]
    if wrong:
        raise PluginError(f"-p {wrong[0]}: expected -p no:NAME (disable the plugin NAME); "
                          "plugins are loaded from the devlint entry-point group")
    names = {flag[3:] for flag in flags}
    names.update(part.strip() for part in env.get("DEVLINT_DISABLE_PLUGINS", "").split(",") if part.strip())
    names.update(config)
    return frozenset(names)


class PluginHost:
    """The loaded plugins, and one typed method per hook.

    disabled: plugin names not to load (``-p no:NAME``, DEVLINT_DISABLE_PLUGINS, the config's
    ``disable_plugins``). Raises PluginError when a plugin fails to import. Per-service hooks
    go to the plugin that owns the service's kind and to plugins that own no kind (see
    hookspecs.py); ``infos`` describes each loaded plugin for ``devlint plugins``.
    """

    def __init__(self, disabled: Iterable[str] = ()) -> None:
        import pluggy

        from devlint import hookspecs

        self.disabled = frozenset(disabled)
        self.pm = pluggy.PluginManager("devlint")
        self.pm.add_hookspecs(hookspecs)
        self.infos: List[PluginInfo] = []
        self._load()
        self.pm.check_pending()
        self._owners: Optional[Dict[str, Set[str]]] = None  # kind → the plugins declaring it
        self._callers: Dict[Tuple[str, str], Any] = {}

    # -- loading -----------------------------------------------------------------
    def _load(self) -> None:
        seen: set[str] = set()
        installed = False  # devlint's own metadata found: the built-ins came with it
        for name, module, dist, version in _entry_points():
            if name in seen:  # the same distribution found twice on sys.path
                continue
            seen.add(name)
            installed = installed or dist.lower() == "devlint"
            self._register(name, module, dist, version)
        if not installed:  # running from a source tree without installed metadata
            for name, module in _builtins():
                if name not in seen:
                    self._register(name, module, "devlint", _own_version())

    def _register(self, name: str, module_name: str, dist: str, version: str) -> None:
        if name in self.disabled:
            return
        try:
            module = importlib.import_module(module_name.partition(":")[0])
        except Exception as exc:  # any import-time failure is the plugin's, not the user's
            raise PluginError(
                f"plugin {name!r} ({module_name}, from {dist} {version}) failed to load: "
                f"{type(exc).__name__}: {exc}\n"
                f"Disable it with `devlint -p no:{name} ...` or DEVLINT_DISABLE_PLUGINS={name}."
            ) from None
        self.pm.register(module, name=name)
        hooks = tuple(sorted(h.name for h in (self.pm.get_hookcallers(module) or [])))
        rules = getattr(module, "devlint_rules", None) if "devlint_rules" in hooks else None
        codes = tuple(sorted(rule.code for rule in (rules() or []))) if rules is not None else ()
        self.infos.append(PluginInfo(name, module_name, dist, version, hooks, codes))

    # -- typed hook calls ----------------------------------------------------------
    @property
    def hook(self) -> Any:
        return self.pm.hook

    def service_kinds(self) -> Dict[str, Mapping[str, str]]:
        """Every kind a plugin owns → its extra devlint.toml keys (key → help)."""
        kinds: Dict[str, Mapping[str, str]] = {}
        for result in self.hook.devlint_service_kinds():
            for kind, keys in (result or {}).items():
                kinds[kind] = {**kinds.get(kind, {}), **keys}  # two plugins may extend one kind
        return kinds

    def _routed(self, hook: str, kind: str) -> Any:
        """The hook caller for a service of `kind`: the plugins declaring that kind (two may,
        e.g. a third-party plugin extending a built-in one) plus the plugins owning no kind."""
        if self._owners is None:
            self._owners = {}
            for impl in self.pm.hook.devlint_service_kinds.get_hookimpls():
                owned_kinds = cast(Optional[Mapping[str, Any]], impl.function())
                for owned in owned_kinds or {}:
                    self._owners.setdefault(owned, set()).add(impl.plugin_name)
        key = (hook, kind)
        if key not in self._callers:
            owners = self._owners.get(kind, set())
            kinded = set().union(*self._owners.values())
            others = [self.pm.get_plugin(name) for name in sorted(kinded - owners)]
            self._callers[key] = self.pm.subset_hook_caller(hook, remove_plugins=others)
        return self._callers[key]

    def rules(self) -> Dict[str, Rule]:
        """Every finding code a plugin declares → its rule."""
        return {rule.code: rule for result in self.hook.devlint_rules() if result for rule in result}

    def package_binary(self, package: str) -> Optional[str]:
        """The binary `npx PACKAGE` runs, when a plugin says it is not named after the package."""
        if not hasattr(self, "_binaries"):
            self._binaries: Dict[str, str] = {}
            for result in self.hook.devlint_package_binaries():
                self._binaries.update(result or {})
        return self._binaries.get(package)

    def inner_command(self, command: Command) -> Optional[str]:
        """The shell text a command runs once it is up (`firebase emulators:exec TEXT`), or None."""
        result: Optional[str] = self.hook.devlint_inner_command(command=command)
        return result

    def init_settings(self, service: Service, from_script: bool) -> Mapping[str, Any]:
        result = self._routed("devlint_init_settings", service.kind)(service=service, from_script=from_script)
        return result or {}

    def command_services(self, command: Command, project: Project) -> Optional[Sequence[Service]]:
        result: Optional[Sequence[Service]] = self.hook.devlint_command_services(command=command, project=project)
        return result

    def detect_services(self, project: Project) -> List[Service]:
        return [svc for result in self.hook.devlint_detect_services(project=project) if result for svc in result]

    def resolve_service(self, service: Service, project: Project) -> Service:
        resolved: Optional[Service] = self._routed("devlint_resolve_service", service.kind)(
            service=service, project=project)
        return resolved or service

    def check_service(self, service: Service, project: Project) -> List[Finding]:
        return _flatten(self._routed("devlint_check_service", service.kind)(service=service, project=project))

    def check_stack(self, services: Sequence[Service], project: Project) -> List[Finding]:
        return _flatten(self.hook.devlint_check_stack(services=services, project=project))

    def explain_listener(self, listener: Listener, service: Service, endpoint: Endpoint,
                         platform: str) -> Optional[Explanation]:
        result: Optional[Explanation] = self.hook.devlint_explain_listener(
            listener=listener, service=service, endpoint=endpoint, platform=platform)
        return result


def _builtins() -> List[Tuple[str, str]]:
    """(name, module) of every built-in plugin, found in the devlint_plugins package the way
    pyproject.toml registers them: a module is its own hook module, a package's is `.hooks`."""
    import pkgutil

    try:
        package = importlib.import_module(BUILTIN_PACKAGE)
    except ImportError:
        return []
    return [(info.name, f"{BUILTIN_PACKAGE}.{info.name}" + (".hooks" if info.ispkg else ""))
            for info in pkgutil.iter_modules(package.__path__) if not info.name.startswith("_")]


def _flatten(results: Iterable[Optional[Iterable[Finding]]]) -> List[Finding]:
    return [finding for result in results if result for finding in result]


def _entry_points() -> List[Tuple[str, str, str, str]]:
    """(name, module, distribution, version) for every registered devlint plugin.

    Read straight from the ``*.dist-info`` / ``*.egg-info`` folders on sys.path, as
    importlib.metadata would find them (first distribution of a name wins): importing
    importlib.metadata costs ≈ 15-25 ms of every cold run. A zip or egg file on sys.path
    goes the importlib.metadata way.
    """
    import os
    import sys

    found: List[Tuple[str, str, str, str]] = []
    seen_dists: set[str] = set()
    for entry in sys.path:
        folder = entry or "."
        try:
            names = os.listdir(folder)
        except NotADirectoryError:
            return _entry_points_by_metadata()
        except OSError:
            continue
        for name in names:
            if not name.endswith((".dist-info", ".egg-info")):
                continue
            meta = os.path.join(folder, name)
            points = _group(_read(os.path.join(meta, "entry_points.txt")), ENTRY_POINT_GROUP)
            if not points:
                continue
            headers = _headers(_read(os.path.join(meta, "METADATA" if name.endswith(".dist-info") else "PKG-INFO")))
            dist = headers.get("name") or name.rsplit("-", 1)[0].split(".")[0]
            if dist.lower() in seen_dists:
                continue
            seen_dists.add(dist.lower())
            found.extend((ep_name, value, dist, headers.get("version", "?")) for ep_name, value in points)
    return found


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except OSError:
        return ""


def _group(text: str, group: str) -> List[Tuple[str, str]]:
    """The `name = value` lines of one [group] of an entry_points.txt."""
    points: List[Tuple[str, str]] = []
    current = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1].strip()
        elif current == group and "=" in line:
            name, _, value = line.partition("=")
            points.append((name.strip(), value.strip()))
    return points


def _headers(text: str) -> Dict[str, str]:
    """Name and Version from core metadata (RFC 822 headers before the first blank line)."""
    headers: Dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            break
        key, sep, value = line.partition(":")
        if sep and key.lower() in ("name", "version") and key.lower() not in headers:
            headers[key.lower()] = value.strip()
    return headers


def _entry_points_by_metadata() -> List[Tuple[str, str, str, str]]:
    from importlib.metadata import distributions

    found: List[Tuple[str, str, str, str]] = []
    seen_dists: set[str] = set()
    for dist in distributions():
        meta_name = dist.metadata["Name"] or "?"
        if meta_name.lower() in seen_dists:
            continue
        points = [ep for ep in dist.entry_points if ep.group == ENTRY_POINT_GROUP]
        if points:
            seen_dists.add(meta_name.lower())
        found.extend((ep.name, ep.value, meta_name, dist.version) for ep in points)
    return found


def _own_version() -> str:
    from devlint import __version__

    return __version__

