"""The plan cache: a repeated `devlint run` skips config parsing and plugin loading.

A plan is stored with a record of every input it was built from: each file read (size,
mtime, inode — or that it was absent), each environment variable looked up, the config
files discovery looked at, devlint's version and the Python path (installing or removing
a plugin changes a site-packages folder's mtime). It is reused only when all of these
are unchanged, so it is never stale.

The file holds plain data (marshal of dicts, lists and strings), never code, and lives
in the user's own cache folder ($XDG_CACHE_HOME/devlint, mode 0700), not in the project.
Any failure to read or write it (full disk, read-only home) just means no cache.
"""

from __future__ import annotations

import dataclasses
import marshal
import os
import sys
from typing import Any, Dict, List, Mapping, Optional, Tuple

from devlint import __version__
from devlint.model import Endpoint, Finding, Service, Severity, Source, Upstream
from devlint.plan import Plan, Request
from devlint.project import stamp

FORMAT = 1
_TYPES = {cls.__name__: cls for cls in (Endpoint, Finding, Service, Source, Upstream)}


def folder(env: Mapping[str, str]) -> str:
    base = env.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "devlint")


def _key(request: Request) -> str:
    text = "\0".join((str(request.cwd), repr(request.argv), repr(request.names),
                      repr(request.config), repr(request.strict), repr(request.plugin_flags)))
    digest = 0xCBF29CE484222325  # FNV-1a: stable across processes, no hashlib import
    for byte in text.encode("utf-8", "surrogateescape"):
        digest = ((digest ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"plan-{digest:016x}"


def _environment_stamp() -> List[Any]:
    """What decides which plugins load: the interpreter, its path, and those folders' mtimes."""
    return [__version__, FORMAT, sys.executable, [(p, stamp(p)) for p in sys.path if p]]


def load(request: Request, env: Mapping[str, str]) -> Optional[Plan]:
    path = os.path.join(folder(env), _key(request))
    try:
        with open(path, "rb") as handle:
            data = marshal.load(handle)
        if data["environment"] != _environment_stamp():
            return None
        if any(stamp(file) != (tuple(st) if st else None) for file, st in data["inputs"].items()):
            return None
        if any(env.get(name) != value for name, value in data["env"].items()):
            return None
        return _plan(data["plan"])
    except Exception:  # a missing, old or damaged cache is no cache
        return None


def save(request: Request, env: Mapping[str, str], plan: Plan) -> None:
    where = folder(env)
    data = {
        "environment": _environment_stamp(),
        "inputs": {file: list(st) if st else None for file, st in plan.inputs.items()},
        "env": plan.env,
        "plan": _data(plan),
    }
    try:
        os.makedirs(where, mode=0o700, exist_ok=True)
        path = os.path.join(where, _key(request))
        temporary = f"{path}.{os.getpid()}.tmp"
        with open(temporary, "wb") as handle:
            marshal.dump(data, handle)
        os.replace(temporary, path)
    except (OSError, ValueError):
        pass


def _data(value: Any) -> Any:
    """Dataclasses and enums as plain marshal-able data."""
    if isinstance(value, Severity):
        return int(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: _data(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {"__type__": type(value).__name__, **fields}
    if isinstance(value, (list, tuple)):
        return [_data(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _data(v) for k, v in value.items()}
    return value


def _value(data: Any) -> Any:
    if isinstance(data, list):
        return tuple(_value(v) for v in data)
    if isinstance(data, dict):
        kind = data.get("__type__")
        fields = {k: _value(v) for k, v in data.items() if k != "__type__"}
        if kind is None:
            return fields
        if kind == "Finding":
            fields["severity"] = Severity(fields["severity"])
        return _TYPES[kind](**fields)
    return data


def _plan(data: Dict[str, Any]) -> Plan:
    fields: Dict[str, Any] = {k: _value(v) for k, v in data.items() if k != "__type__"}
    fields["inputs"], fields["env"] = {}, {}
    return Plan(**fields)


__all__: Tuple[str, ...] = ("folder", "load", "save")
