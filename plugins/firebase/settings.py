"""devlint.toml services of kind "firebase": their own keys, read into a Launch, and what
`devlint init` writes for one.

The keys mirror the command line's flags (``only`` = --only, ``project`` = --project, ``config`` =
--config; see cli.py). The core validates only its own keys, so their types are checked here
(DL502, naming the devlint.toml key).
"""

from __future__ import annotations

from typing import Any, Callable, List, Mapping, Optional, Tuple, TypeVar

from devlint.model import Finding, Service, Source, Sourced

from .cli import Launch
from .config import type_problem

T = TypeVar("T")

# key → help, as `devlint plugins` and the config checks show them
KEYS: Mapping[str, str] = {
    "only": 'emulators to start, like --only (a list: ["auth", "hosting"]); default: all configured',
    "project": "the project id, like --project (default: .firebaserc's default alias)",
    "config": "path of firebase.json, like --config (default: firebase.json in the service's path)",
}


def launch_from_settings(service: Service) -> Tuple[Launch, List[Finding]]:
    """A firebase service's devlint.toml keys → a Launch, and a DL502 for each key of the
    wrong type (which is then ignored)."""
    problems: List[Finding] = []
    only = _setting(service, "only", _emulator_names, "a list of emulator names", problems)
    project = _setting(service, "project", _text, "a project id string", problems)
    config = _setting(service, "config", _text, "a path string", problems)
    return Launch(only=only, project=project, config=config.value if config else None), problems


def _setting(service: Service, key: str, accept: Callable[[Any], Optional[T]], expected: str,
             problems: List[Finding]) -> Optional[Sourced[T]]:
    """The value of services.<name>.<key> as accept() reads it, with its source; None when the
    key is absent or accept() refuses it (a problem then)."""
    raw = service.settings.get(key)
    if raw is None:
        return None
    where = service.source
    name = f"{where.key or f'services.{service.name}'}.{key}"
    value = accept(raw)
    if value is None:
        problems.append(type_problem(where.where + (f":{where.line}" if where.line else ""), name, raw, expected,
                                     service=service.name, evidence={"key": name}, syntax="toml",
                                     strings=accept is _emulator_names))
        return None
    return Sourced(value, Source("file", where.where, where.line, name))


def _emulator_names(value: Any) -> Optional[Tuple[str, ...]]:
    """A list of names, or one comma-separated string of them (as --only takes them)."""
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return tuple(value)
    return None


def _text(value: Any) -> Optional[str]:
    """A non-empty string."""
    return value if isinstance(value, str) and value else None


def init_settings(service: Service, from_script: bool) -> Optional[Mapping[str, Any]]:
    """The project id `firebase emulators:start` is told (a script's --project already says it)."""
    project = service.details.get("project")
    if from_script or not isinstance(project, str) or not project:
        return None
    return {"project": project}
