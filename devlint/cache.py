"""The plan cache: a repeated `devlint run` skips config parsing and plugin loading.

A plan is stored with a record of everything it was built from, and reused only while all
of it is unchanged, so it is never stale:

- every file read, and every config file discovery looked at: (size, mtime, inode), or
  that it was absent; and whether each folder discovery walked through has a ``.git``;
- every environment variable a plugin looked up, plus HOME (discovery stops there) and
  DEVLINT_DISABLE_PLUGINS (the plugin set);
- devlint's version, the interpreter, ``sys.path`` with each entry's stamp (installing,
  upgrading or removing any distribution, so any plugin, changes its folder's mtime), and
  the stamp of every non-stdlib module loaded when the plan was built (devlint itself, the
  plugins, pluggy: editing an editable install's code invalidates it too);
- what was asked: the Request (warm.py: working directory, command, service names,
  --config, --strict, -p); its ``key()`` names the file and is recorded in it.

A file changed within RACY_NS of the save is not trusted (a second write within the same
clock tick could keep its stamp), and the plan is not saved.

The file holds plain data (marshal of dicts, tuples and strings, never code) behind a
checksum: marshal trusts its input, and a damaged length field alone can make it allocate
gigabytes, so only bytes exactly as devlint wrote them are unmarshalled. It lives
in the user's cache folder, ``$XDG_CACHE_HOME/devlint`` (default ``~/.cache/devlint``,
mode 0700), never in the project. It is used only when that folder belongs to the user
and nobody else can write to it. Any failure to read or write it (full disk, read-only
home, a damaged file) just means no cache. At most MAX_FILES plans are kept.

This module imports only os, sys and marshal at load time: the warm path (warm.py) asks
it for the ports of a clear, cached plan (``clear``) without importing the data model.
"""

from __future__ import annotations

import marshal
import os
import sys

from devlint import __version__

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, Mapping, Optional, Tuple

    from devlint.plan import Plan
    from devlint.warm import Key, Request

FORMAT = 5
MAGIC = b"devlint plan\n"
MAX_BYTES = 16 << 20  # a plan is a few KiB; a bigger file is not one devlint wrote
MAX_FILES = 256
RACY_NS = 50_000_000  # 50 ms: several ticks of Linux's coarse file clock
PLAN_ENV = ("HOME", "DEVLINT_DISABLE_PLUGINS")  # read by discovery and the plugin host, not by a Project


def folder(env: Mapping[str, str]) -> str:
    base = env.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "devlint")


def stamp(path: str) -> Optional[Tuple[int, int, int]]:
    """(size, mtime_ns, inode) of a file, or None when absent: the record every input of a plan
    is kept with (project.Project records its reads with it) and compared by on load."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return (st.st_size, st.st_mtime_ns, st.st_ino)


def _name(what: Key) -> str:
    """The file's name for a request key."""
    text = "\0".join((repr(what), repr(sys.path), sys.executable))
    digest = 0xCBF29CE484222325  # FNV-1a: stable across processes, no hashlib import
    for byte in text.encode("utf-8", "surrogateescape"):
        digest = ((digest ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"plan-{digest:016x}"


def _environment() -> Tuple[Any, ...]:
    return (__version__, FORMAT, sys.executable, tuple(sys.path), sys.platform)


def _private(where: str) -> bool:
    """The folder is ours and only we can write to it (a cache others can write is no cache)."""
    try:
        st = os.stat(where)
    except OSError:
        return False
    getuid = getattr(os, "getuid", None)
    return getuid is None or (st.st_uid == getuid() and not st.st_mode & 0o022)


def read(request: Request, env: Mapping[str, str]) -> Optional[Dict[str, Any]]:
    """The stored record for this request when every input is unchanged, else None."""
    where = folder(env)
    if not _private(where):
        return None
    what = request.key()
    try:
        with open(os.path.join(where, _name(what)), "rb") as handle:
            data = _unpack(handle.read(MAX_BYTES + 1))
        if data["format"] != FORMAT or data["request"] != what or data["environment"] != _environment():
            return None
        for name, value in data["env"].items():
            if env.get(name) != value:
                return None
        for path, recorded in data["stamps"].items():
            if stamp(path) != recorded:
                return None
        for path, present in data["exists"].items():
            if os.path.exists(path) != present:
                return None
        return data  # type: ignore[no-any-return]
    except Exception:  # a missing, old or damaged cache is no cache
        return None


def clear(request: Request, env: Mapping[str, str]) -> Optional[Tuple[Tuple[int, ...], str]]:
    """For a cached plan with no findings and no warnings: the ports to look at (if nothing
    listens on them, the run is clear) and `check`'s summary line without colour.
    None when there is no such plan."""
    data = read(request, env)
    if data is None or not isinstance(data.get("clear_ports"), tuple):
        return None
    return data["clear_ports"], data["clear_text"]


def load(request: Request, env: Mapping[str, str]) -> Optional[Plan]:
    """The cached plan for this request while every input is unchanged, else None."""
    data = read(request, env)
    if data is None:
        return None
    try:
        return _plan(data["plan"])
    except Exception:
        return None


def _code_files() -> Dict[str, Optional[Tuple[int, int, int]]]:
    """Stamps of every loaded module outside the standard library: the code the plan came from."""
    stdlib = os.path.dirname(os.__file__) + os.sep
    found: Dict[str, Optional[Tuple[int, int, int]]] = {}
    for module in list(sys.modules.values()):
        path = getattr(module, "__file__", None)
        if not isinstance(path, str):
            continue
        if path.startswith(stdlib) and "-packages" not in path[len(stdlib):]:
            continue
        found[path] = stamp(path)
    return found


def save(request: Request, env: Mapping[str, str], plan: Plan) -> None:
    """Store a plan for this request, with the record of its inputs. Only a plan with no
    static finding and no warning is stored: those are the plans whose runs the warm path
    answers with the summary line it stores. Any failure to write just means no cache."""
    import time

    if plan.findings or plan.warnings:
        return
    # The project's files first: they are what changes, so a stale plan is found after a
    # stat or two instead of one per sys.path entry and code file. Their stamps, taken when
    # they were read, win over later ones (a file changed during the build invalidates it).
    stamps: Dict[str, Optional[Tuple[int, int, int]]] = dict(plan.inputs)
    for path, found in [*((p, stamp(p)) for p in sys.path if p), *_code_files().items()]:
        stamps.setdefault(path, found)
    newest = max((st[1] for st in stamps.values() if st), default=0)
    if time.time_ns() - newest < RACY_NS:
        return  # just written: a second write in the same clock tick could keep this stamp
    walked = {os.path.dirname(p) for p in plan.inputs
              if os.path.basename(p) in ("devlint.toml", "pyproject.toml")}
    data = {
        "format": FORMAT,
        "request": request.key(),
        "environment": _environment(),
        "env": {**{name: env.get(name) for name in PLAN_ENV}, **plan.env},
        "stamps": stamps,
        "exists": {os.path.join(d, ".git"): os.path.exists(os.path.join(d, ".git")) for d in walked},
        "clear_ports": tuple(sorted({ep.port for svc in plan.target_services() for ep in svc.endpoints})),
        "clear_text": _clear_text(plan),
        "plan": _data(plan),
    }
    where = folder(env)
    temporary = ""
    try:
        os.makedirs(where, mode=0o700, exist_ok=True)
        if not _private(where):
            return
        path = os.path.join(where, _name(request.key()))
        temporary = f"{path}.{os.getpid()}.tmp"
        blob = _pack(data)
        if len(blob) > MAX_BYTES:
            return
        with open(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as handle:
            handle.write(blob)  # 0600: the plan may hold values from the project's .env
        os.replace(temporary, path)
        temporary = ""
        _prune(where)
    except (OSError, ValueError):  # read-only or full disk; ValueError: unmarshallable data
        pass
    finally:
        if temporary:
            _unlink(temporary)


def _pack(data: Dict[str, Any]) -> bytes:
    import zlib

    payload = marshal.dumps(data)
    return MAGIC + zlib.crc32(payload).to_bytes(4, "big") + payload


def _unpack(blob: bytes) -> Any:
    """The data _pack wrote; ValueError for anything else, before marshal sees it."""
    import zlib

    start = len(MAGIC) + 4
    if blob[:len(MAGIC)] != MAGIC or len(blob) > MAX_BYTES:
        raise ValueError("not a devlint plan")
    if zlib.crc32(blob[start:]) != int.from_bytes(blob[len(MAGIC):start], "big"):
        raise ValueError("damaged plan")
    return marshal.loads(blob[start:])


def _clear_text(plan: Plan) -> str:
    """What `devlint check` prints for this plan when no port is taken (without colour:
    colour would import colorama into every save; a terminal takes the full path)."""
    from devlint import report

    return report.text_findings([], report.Style("never", sys.stdout, {}), plan.target_services())


def _prune(where: str) -> None:
    """Keep the MAX_FILES most recently written plans."""
    with os.scandir(where) as entries:
        plans = [(e.stat().st_mtime_ns, e.path) for e in entries if e.name.startswith("plan-")]
    if len(plans) > MAX_FILES:
        for _, path in sorted(plans)[: len(plans) - MAX_FILES]:
            _unlink(path)


def _unlink(path: str) -> None:
    import contextlib

    with contextlib.suppress(OSError):
        os.unlink(path)


def _data(value: Any) -> Any:
    """Dataclasses and enums as plain marshal-able data."""
    import dataclasses

    from devlint.model import Severity

    if isinstance(value, Severity):
        return int(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: _data(getattr(value, f.name)) for f in dataclasses.fields(value)
                  if f.name not in ("inputs", "env")}
        return {"__type__": type(value).__name__, **fields}
    if isinstance(value, (list, tuple)):
        return [_data(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _data(v) for k, v in value.items()}
    return value


def _value(data: Any, types: Mapping[str, Any]) -> Any:
    if isinstance(data, list):
        return tuple(_value(v, types) for v in data)
    if isinstance(data, dict):
        kind = data.get("__type__")
        fields = {k: _value(v, types) for k, v in data.items() if k != "__type__"}
        if kind is None:
            return fields
        if kind == "Finding":
            fields["severity"] = types["Severity"](fields["severity"])
        return types[kind](**fields)
    return data


def _plan(data: Dict[str, Any]) -> Plan:
    from devlint.model import Endpoint, Finding, Service, Severity, Source, Upstream
    from devlint.plan import Plan

    types = {cls.__name__: cls for cls in (Endpoint, Finding, Service, Source, Upstream, Severity)}
    fields: Dict[str, Any] = {k: _value(v, types) for k, v in data.items() if k != "__type__"}
    return Plan(**fields)


__all__ = ("clear", "folder", "load", "read", "save")
