"""The plan cache: a repeated `devlint run` skips config parsing and plugin loading.

A plan is stored with a record of everything it was built from, and reused only while all
of it is unchanged, so it is never stale:

- every file read, and every config file discovery looked at: its stamp (``stamp``: size,
  mtime, inode, ctime, device and a CRC-32 of its bytes), or that it was absent; and whether
  each folder discovery walked through has a ``.git``, and the same mode and owner;
- every environment variable a plugin looked up, plus HOME (discovery stops there) and
  DEVLINT_DISABLE_PLUGINS (the plugin set);
- devlint's version, the interpreter, ``sys.path`` with each entry's stamp (installing,
  upgrading or removing any distribution, so any plugin, changes its folder's mtime), and
  the stamp of every non-stdlib module loaded when the plan was built (devlint itself, the
  plugins, pluggy: editing an editable install's code invalidates it too);
- what was asked: the Request (warm.py: working directory, command, service names,
  --config, --strict, -p); its ``key()`` names the file and is recorded in it.

Why a content hash: (size, mtime, inode) misses a same-size edit whose mtime was put back
(``touch -r``, ``os.utime``, some editors and sync tools), and on a filesystem with 1-second
(ext2/3 with 128-byte inodes, HFS+) or 2-second (FAT) timestamps two same-size edits within
one tick leave size, mtime and ctime alike. The project's files are few and small (a few
KiB), so their bytes are hashed (zlib.crc32: against accidental edits; forgery is kept out
by the ownership checks below, not by the hash). The code files and ``sys.path`` folders
(about 190 stamps, 2 MB: hashing them costs ≈ 2 ms a run, four times reading and checking
the whole plan today; measured with the examples' venv) keep a
stat-only stamp with ctime and device, guarded by a racy window that follows the
filesystem's timestamp granularity (``_racy``): a plan is not saved while any input changed
within the last tick of its filesystem, so a later same-tick write cannot go unseen.

The file holds plain data (marshal of dicts, tuples and strings, never code) behind a
checksum: marshal trusts its input, and a damaged length field alone can make it allocate
gigabytes, so only bytes exactly as devlint wrote them are unmarshalled. It lives
in the user's cache folder, ``$XDG_CACHE_HOME/devlint`` (default ``~/.cache/devlint``,
mode 0700), never in the project. Never trusted from another user (``_not_ours``: ours,
no group/other write): the folder is opened and checked by its descriptor
(``_open_private``; a symlinked folder is followed, and judged by its target), and the plan
file is read relative to that descriptor by files.read_regular, without following a link
or blocking on a FIFO, and checked by fstat before it is read: a regular file, ours, no
group/other write. Anything else is no cache (never used, never reported: a cache is
optional). The folders above need no check: whoever could rename ours away can only put
one in its place that is not ours. Writing: a temporary file created exclusively (O_EXCL,
O_NOFOLLOW, mode 0600) in that same folder, then renamed over the plan (``_write``). Any
failure to read or write it (full disk, read-only home, a damaged file) just means no
cache. At most MAX_FILES plans are kept.

This module imports only os, sys, marshal and devlint.files (itself only os) at load time:
the warm path (warm.py) asks it for the ports of a clear, cached plan (``clear``) without
importing the data model.
"""

from __future__ import annotations

import marshal
import os
import sys

from devlint import __version__
from devlint.files import Unreadable, read_regular, untrusted

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, List, Mapping, Optional, Tuple

    Binds = Optional[Tuple[Tuple[str, int], ...]]  # (address, port) of each server bind, or None

    from devlint.plan import Plan
    from devlint.warm import Key, Request

    # (size, mtime_ns, inode, ctime_ns, device, crc32 or None or UNREAD), or None: absent.
    Stamp = Optional[Tuple[int, int, int, int, int, Optional[int]]]
    # An open cache folder: (descriptor, "") on POSIX, (None, "folder/") elsewhere; a file
    # in it is opened as (prefix + name, dir_fd=descriptor).
    Folder = Tuple[Optional[int], str]

FORMAT = 7
MAGIC = b"devlint plan\n"
MAX_BYTES = 16 << 20  # a plan is a few KiB; a bigger file is not one devlint wrote
MAX_FILES = 256
RACY_NS = 50_000_000  # 50 ms: several ticks of Linux's coarse file clock
HASH_BYTES = 4 << 20  # a project file devlint reads is at most project.MAX_FILE_BYTES (4 MiB)
UNREAD = -1  # the crc of a file that is there but could not be read: never saved (_racy)
PLAN_ENV = ("HOME", "DEVLINT_DISABLE_PLUGINS")  # read by discovery and the plugin host, not by a Project


def folder(env: Mapping[str, str]) -> str:
    base = env.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "devlint")


def stamp(path: str) -> Stamp:
    """The record of one input, or None when nothing is there: (size, mtime_ns, inode,
    ctime_ns, device, crc), from stat (following links, as a read does). crc: zlib.crc32 of
    the bytes of a regular file up to HASH_BYTES, None for a folder (its listing changes its
    mtime and ctime), anything else or a bigger file, UNREAD when it cannot be opened
    (EACCES). project.Project records its reads with it (``stamp_of``, from the bytes it read);
    the cache compares by it on load. Read (files.read_regular) after stat said "regular": a
    file swapped for a FIFO meanwhile does not hang, and fstat must agree."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    if (st.st_mode & 0o170000) != 0o100000 or st.st_size > HASH_BYTES:
        return _fields(st, None)
    try:
        opened, data = read_regular(path, HASH_BYTES, cut=True)  # grown past HASH_BYTES: crc None
    except Unreadable:
        return _fields(st, UNREAD)
    if (opened.st_ino, opened.st_dev) != (st.st_ino, st.st_dev):
        return _fields(st, UNREAD)  # replaced between stat and open: not this stamp
    return stamp_of(opened, data)


def stamp_of(st: os.stat_result, data: bytes) -> Stamp:
    """The stamp of a regular file from its fstat and the bytes read from it (all of them)."""
    import zlib

    return _fields(st, zlib.crc32(data) if len(data) <= HASH_BYTES else None)


def _fields(st: os.stat_result, crc: Optional[int]) -> Tuple[int, int, int, int, int, Optional[int]]:
    return (st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns, st.st_dev, crc)


def _stat_stamp(path: str) -> Stamp:
    """stamp() without the hash: for code files and sys.path folders (see the module's notes)."""
    try:
        return _fields(os.stat(path), None)
    except (OSError, ValueError):
        return None


def _same(path: str, recorded: Stamp) -> bool:
    """Whether path still has the recorded stamp (hashed again only when it was hashed)."""
    if recorded is None or recorded[5] is None:
        return _stat_stamp(path) == recorded
    return stamp(path) == recorded


def _racy(recorded: Stamp, now_ns: int) -> bool:
    """Whether an input changed so recently that a second write within the same tick of its
    filesystem's clock could keep its stamp. The tick is read off ctime, which the kernel
    sets and utime cannot: a ctime that is a whole 10**k ns (8 ≤ k ≤ 9) suggests a clock that
    coarse (1 s on ext2 with small inodes; on a nanosecond filesystem this is one chance in
    10**8), and a whole even second a 2 s one (FAT; on a 1 s filesystem half its stamps look
    so, which only widens their window), and the window is twice the tick; else RACY_NS from
    mtime."""
    if recorded is None:
        return False
    _, mtime, _, ctime, _, crc = recorded
    if crc == UNREAD:
        return True
    if now_ns - mtime < RACY_NS:
        return True
    tick = 100_000_000
    if ctime % tick:
        return False
    while tick < 1_000_000_000 and ctime % (tick * 10) == 0:
        tick *= 10
    if tick == 1_000_000_000 and ctime % 2_000_000_000 == 0:
        tick = 2_000_000_000
    return now_ns - ctime < 2 * tick


def _name(what: Key) -> str:
    """The file's name for a request key."""
    text = "\0".join((repr(what), repr(sys.path), sys.executable))
    digest = 0xCBF29CE484222325  # FNV-1a: stable across processes, no hashlib import
    for byte in text.encode("utf-8", "surrogateescape"):
        digest = ((digest ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"plan-{digest:016x}"


def _environment() -> Tuple[Any, ...]:
    return (__version__, FORMAT, sys.executable, tuple(sys.path), sys.platform)


def _not_ours(st: os.stat_result) -> Optional[str]:
    """The cache's trust policy (files.untrusted), for its folder and its plan files: owned by
    this user (not even root), and nobody else may write to it. None: ours (also elsewhere
    than POSIX)."""
    return untrusted(st, root_ok=False, group_write_ok=False, world_write_ok=False)


# Descriptor-relative calls (POSIX): the plan file is opened in the very folder that was
# checked. Elsewhere (Windows) by path, with the flags that exist there.
_AT = os.open in os.supports_dir_fd
_FLAGS = getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)


def _open_private(where: str) -> Optional[Folder]:
    """The cache folder when it is ours and only we can write to it (a cache others can
    write is no cache), else None. Judged by fstat of the descriptor the caller then uses
    (and closes, ``_close``), so the folder cannot be swapped in between."""
    if not _AT:
        try:
            st = os.stat(where)
        except (OSError, ValueError):
            return None
        return (None, where + os.sep) if (st.st_mode & 0o170000) == 0o040000 and _not_ours(st) is None else None
    try:
        fd = os.open(where, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | _FLAGS)
    except (OSError, ValueError):
        return None
    try:
        st = os.fstat(fd)
        mine = (st.st_mode & 0o170000) == 0o040000 and _not_ours(st) is None
    except OSError:
        mine = False
    if not mine:
        os.close(fd)
        return None
    return fd, ""


def _close(folder: Folder) -> None:
    if folder[0] is not None:
        os.close(folder[0])


def _read_plan(at: Folder, name: str) -> bytes:
    """The plan file's bytes, opened in the checked folder without following a link or
    blocking on a FIFO; Unreadable when it is not a regular file of ours that only we can
    write (checked before it is read), or bigger than a plan."""
    return read_regular(at[1] + name, MAX_BYTES, dir_fd=at[0], follow=False, why_not=_not_ours)[1]


def read(request: Request, env: Mapping[str, str]) -> Optional[Dict[str, Any]]:
    """The stored record for this request when every input is unchanged, else None (also
    when the folder or the file is not this user's alone: see the module's notes)."""
    at = _open_private(folder(env))
    if at is None:
        return None
    what = request.key()
    try:
        data = _unpack(_read_plan(at, _name(what)))
        if data["format"] != FORMAT or data["request"] != what or data["environment"] != _environment():
            return None
        for name, value in data["env"].items():
            if env.get(name) != value:
                return None
        for path, recorded in data["stamps"].items():
            if not _same(path, recorded):
                return None
        for path, present in data["exists"].items():
            if os.path.exists(path) != present:
                return None
        for path, trust in data["folders"].items():
            if _folder_trust(path) != trust:
                return None
        return data  # type: ignore[no-any-return]
    except Exception:  # a missing, old, damaged or foreign cache is no cache
        return None
    finally:
        _close(at)


def clear(request: Request, env: Mapping[str, str]) -> Optional[Tuple[Tuple[int, ...], str, Binds, bool]]:
    """For a cached plan with no findings and no warnings: the ports to look at (if nothing
    is on them, the run is clear), `check`'s summary line without colour, the (address,
    port) binds of its servers, recorded only where the kernel cannot list sockets bound
    without listening (netlink.lists_bound; then a bind probe must look), else None, and
    whether a server binds ::1 (which the machine must have: sockets.linux.loopbacks).
    None when there is no such plan."""
    data = read(request, env)
    if data is None or not isinstance(data.get("clear_ports"), tuple):
        return None
    return data["clear_ports"], data["clear_text"], data.get("clear_binds"), bool(data.get("clear_v6"))


def load(request: Request, env: Mapping[str, str]) -> Optional[Plan]:
    """The cached plan for this request while every input is unchanged, else None."""
    data = read(request, env)
    if data is None:
        return None
    try:
        return _plan(data["plan"])
    except Exception:
        return None


def _code_files() -> Dict[str, Stamp]:
    """Stamps of every loaded module outside the standard library: the code the plan came from."""
    stdlib = os.path.dirname(os.__file__) + os.sep
    found: Dict[str, Stamp] = {}
    for module in list(sys.modules.values()):
        path = getattr(module, "__file__", None)
        if not isinstance(path, str):
            continue
        if path.startswith(stdlib) and "-packages" not in path[len(stdlib):]:
            continue
        found[path] = _stat_stamp(path)
    return found


def save(request: Request, env: Mapping[str, str], plan: Plan) -> None:
    """Store a plan for this request, with the record of its inputs. Only a plan with no
    static finding and no warning is stored: those are the plans whose runs the warm path
    answers with the summary line it stores. Any failure to write just means no cache."""
    import time

    from devlint.addresses import specific_binds

    if plan.findings or plan.warnings:  # (a config file discovery ignored is a warning: said every run)
        return
    # The project's files first: they are what changes, so a stale plan is found after a
    # stat or two instead of one per sys.path entry and code file. Their stamps, taken when
    # they were read, win over later ones (a file changed during the build invalidates it).
    stamps: Dict[str, Stamp] = dict(plan.inputs)
    for path, found in [*((p, _stat_stamp(p)) for p in sys.path if p), *_code_files().items()]:
        stamps.setdefault(path, found)
    now = time.time_ns()
    if any(_racy(st, now) for st in stamps.values()):
        return  # just changed: a second write in the same clock tick could keep this stamp
    walked = {os.path.dirname(p) for p in plan.inputs
              if os.path.basename(p) in ("devlint.toml", "pyproject.toml")}
    data = {
        "format": FORMAT,
        "request": request.key(),
        "environment": _environment(),
        "env": {**{name: env.get(name) for name in PLAN_ENV}, **plan.env},
        "stamps": stamps,
        "exists": {os.path.join(d, ".git"): os.path.exists(os.path.join(d, ".git")) for d in walked},
        "folders": {d: _folder_trust(d) for d in walked},
        "clear_ports": _clear_ports(plan),
        "clear_v6": any("::1" in specific_binds(ep.host, ep.binds)
                        for svc in plan.target_services() for ep in svc.endpoints),
        "clear_text": _clear_text(plan),
        "clear_binds": _clear_binds(plan),
        "plan": _data(plan),
    }
    _write(folder(env), _name(request.key()), data)


def _write(where: str, name: str, data: Dict[str, Any]) -> None:
    """Write the plan as ``name`` in the private folder ``where`` (made 0700 if absent):
    a temporary file created exclusively, without following a link, then renamed over it;
    all relative to one descriptor of the checked folder. Any failure: nothing written.

    The steps of files.write_text's replace, not its code (files._create): the cache writes
    by path where there is no dir_fd (Windows; files.py's writer is POSIX-only), needs no
    fsync (a plan torn by a crash fails its checksum: no cache), names its temporary file by
    pid so that the next save removes one a crash left, and its tests inject a full disk
    through this module's ``open`` (test_warm.test_a_full_disk_leaves_no_partial_file)."""
    temporary = f"{name}.{os.getpid()}.tmp"
    at: Optional[Folder] = None
    created = False
    try:
        os.makedirs(where, mode=0o700, exist_ok=True)
        at = _open_private(where)
        if at is None:
            return
        blob = _pack(data)
        if len(blob) > MAX_BYTES:
            return
        _unlink(at[1] + temporary, at[0])  # left by a crashed run whose pid was ours
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | _FLAGS
        fd = os.open(at[1] + temporary, flags, 0o600, dir_fd=at[0])
        created = True
        with open(fd, "wb") as handle:
            handle.write(blob)  # 0600: the plan may hold values from the project's .env
        os.replace(at[1] + temporary, at[1] + name, src_dir_fd=at[0], dst_dir_fd=at[0])
        created = False
        _prune(where)
    except (OSError, ValueError):  # read-only or full disk; ValueError: unmarshallable data
        pass
    finally:
        if at is not None:
            if created:
                _unlink(at[1] + temporary, at[0])
            _close(at)


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


def _folder_trust(path: str) -> Optional[Tuple[int, int]]:
    """(mode, owner) of a folder config discovery walked through: what decides whether a
    config file in it may be used (config.discover: not in a folder every user can write
    to). A chmod 1777 after caching must be seen. None when it cannot be looked at."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return (st.st_mode, st.st_uid)


def _clear_ports(plan: Plan) -> Optional[Tuple[int, ...]]:
    """The ports the warm path looks at for this plan; None (no warm answer) when a server
    binds a specific address this machine may lack (addresses.specific_binds: the full
    path checks it is there), but for ::1, which the warm path checks itself (clear_v6)."""
    from devlint.addresses import specific_binds

    targets = plan.target_services()
    if any(a != "::1" for svc in targets for ep in svc.endpoints for a in specific_binds(ep.host, ep.binds)):
        return None
    return tuple(sorted({ep.port for svc in targets for ep in svc.endpoints}))


def _clear_binds(plan: Plan) -> Binds:
    """Every (address, port) the plan's servers may bind, for the warm path's bind probe on
    a kernel that cannot list bound-only sockets (Linux < 6.5); None on a kernel that can
    (netlink shows them: no probe, and no getaddrinfo here). None also when a host gives
    no address (the full path reports it)."""
    from devlint.addresses import bind_choices
    from devlint.sockets.netlink import lists_bound

    if lists_bound():
        return None
    binds: List[Tuple[str, int]] = []
    for svc in plan.target_services():
        for ep in svc.endpoints:
            choices = bind_choices(ep.host, ep.binds)
            if not choices:
                return None
            binds.extend((address, ep.port) for choice in choices for address in choice)
    return tuple(dict.fromkeys(binds))


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


def _unlink(path: str, dir_fd: Optional[int] = None) -> None:
    import contextlib

    with contextlib.suppress(OSError):
        os.unlink(path, dir_fd=dir_fd)


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


__all__ = ("clear", "folder", "load", "read", "save", "stamp", "stamp_of")
