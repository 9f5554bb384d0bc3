"""Finding, reading and validating devlint's own configuration.

Discovery (like black's find_project_root) returns the file *and why it was chosen*, so
`devlint config` can say it. Errors (like pre-commit's) name the file, the line and the
key path, and say what was expected; the CLI turns them into exit code 2.

Discovery never uses a file another user could have written (in a folder every user can
write to, such as /tmp, or owned by someone other than you or root): a file planted above an
unversioned project could otherwise turn devlint's checks off. It says so instead, and
--config still takes any file. Line numbers are found by hand (``_LineIndex``): tomllib
gives none; the index is built once per file, so validation stays linear in its size.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from devlint.model import Endpoint, Service, Source
from devlint.model import describe as describe_value
from devlint.project import NotText, decode_text

CONFIG_NAME = "devlint.toml"
CORE_SERVICE_KEYS: Mapping[str, str] = {
    "kind": "which plugin owns the service (flask, firebase, angular, ...)",
    "port": "the port the server listens on (1-65535)",
    "ports": "several ports, as a list",
    "host": "the address the server binds (default per kind, else localhost)",
    "path": "the service's folder, relative to this file",
    "command": "the command that starts it (matched by `devlint run`)",
}
TOP_LEVEL_KEYS: Mapping[str, str] = {
    "services": "one table per service: [services.NAME]",
    "disable_plugins": "plugins not to load, by name",
}


class ConfigError(Exception):
    """A mistake in a configuration file: where it is, and what was expected."""

    def __init__(self, file: str, message: str, line: Optional[int] = None,
                 column: Optional[int] = None, key: str = "") -> None:
        self.file, self.line, self.column, self.key, self.message = file, line, column, key, message
        super().__init__(self.location() + message)

    def location(self) -> str:
        where = self.file
        if self.line:
            where += f":{self.line}"
            if self.column:
                where += f":{self.column}"
        return f"{where}: " + (f"{self.key}: " if self.key else "")


@dataclass(frozen=True)
class ConfigWarning:
    file: str
    line: Optional[int]
    key: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.key}: {self.message}" if self.key else f"{where}: {self.message}"


@dataclass
class Config:
    """The validated configuration. path is None when running without any file."""

    path: Optional[Path]
    reason: str
    services: Tuple[Service, ...] = ()
    disable_plugins: Tuple[str, ...] = ()
    warnings: List[ConfigWarning] = field(default_factory=list)


# -- discovery -----------------------------------------------------------------

def discover(cwd: Path, explicit: Optional[str] = None, env: Optional[Mapping[str, str]] = None,
             warnings: Optional[List[ConfigWarning]] = None) -> Tuple[Optional[Path], str, List[str]]:
    """Find the config file. Returns (path or None, why, every path looked at).

    Walks up from cwd and stops at the repository root (a folder with .git) or at the
    home folder, so a stray file above the project is never picked up. --config is used as
    given. A file the walk finds is used only when no other user could have written it
    (``_distrust``); otherwise the walk stops there, the file is not used, and a
    ConfigWarning says which file and why (appended to ``warnings`` when the caller passes
    a list, as plan.py does: its runs say them). Why stop rather than go on upwards: the
    nearest file is the one meant for this folder, and one further up belongs to another
    tree; with none, the plugins detect the services here, as without a config. A folder
    every user can write to (/tmp) also ends the walk, whether or not a file is in it:
    anyone could put one there.
    """
    looked: List[str] = []
    if explicit:
        path = Path(explicit)
        if not path.is_absolute():
            path = cwd / path
        if not _present(str(path), explicit):
            raise ConfigError(explicit, "no such file (given with --config)")
        return path, "given with --config", looked
    env = os.environ if env is None else env
    home = env.get("HOME") or os.path.expanduser("~")
    folder = os.path.abspath(cwd)
    while True:
        open_to_all = _writable_by_all(folder)
        for candidate in (os.path.join(folder, CONFIG_NAME), os.path.join(folder, "pyproject.toml")):
            looked.append(candidate)
            problem = _distrust(candidate, open_to_all)
            if problem is not None:
                if candidate.endswith("pyproject.toml") and not _mentions_devlint(candidate):
                    continue  # someone else's pyproject.toml that does not configure devlint
                return None, _ignore(candidate, problem, [] if warnings is None else warnings), looked
            if candidate.endswith(CONFIG_NAME) and _present(candidate):
                return Path(candidate), f"found {CONFIG_NAME} in {folder}", looked
            if (candidate.endswith("pyproject.toml") and _present(candidate)
                    and _has_tool_table(candidate, os.path.relpath(candidate, cwd))):
                return Path(candidate), f"found [tool.devlint] in {candidate}", looked
        if open_to_all:
            return None, f"no {CONFIG_NAME} up to {folder}, which every user can write to (the search stops there)", \
                looked
        parent = os.path.dirname(folder)
        if os.path.exists(os.path.join(folder, ".git")):
            return None, f"no {CONFIG_NAME} up to the repository root {folder}", looked
        if folder == home or parent == folder:
            return None, f"no {CONFIG_NAME} up to {folder}", looked
        folder = parent


IGNORED = "ignored "  # how a reason starts when discovery found a file it may not use


def _ignore(candidate: str, problem: str, warnings: List[ConfigWarning]) -> str:
    """Say that a config file was not used (see discover): a warning appended to warnings;
    returns the reason."""
    message = f"not used: {problem}; to use it, pass --config {candidate}"
    warnings.append(ConfigWarning(candidate, None, "", message))
    return f"{IGNORED}{candidate}: {problem}"


def _writable_by_all(folder: str) -> bool:
    """Whether every user may create files in folder (mode o+w, e.g. /tmp, sticky or not).
    POSIX only: Windows reports every folder as 0o777."""
    if not hasattr(os, "getuid"):
        return False
    try:
        return bool(os.stat(folder).st_mode & 0o002)
    except OSError:
        return False


def _distrust(candidate: str, open_to_all: bool) -> Optional[str]:
    """Why a config file at candidate may not be used, or None (also when nothing is there).

    Not used: anything in a folder every user can write to; a file (or the symlink naming
    it) owned by a user other than you or root; a file every user can write to (its group
    may: files.untrusted with config's policy). Looked at with lstat/stat only, never read:
    something another user put there (a FIFO, a broken link, a huge file) cannot stop
    devlint with an error either. Elsewhere than POSIX: None.
    """
    import stat

    from devlint.files import untrusted

    try:
        link = os.lstat(candidate)
    except (OSError, ValueError):
        return None
    try:
        target: Optional[os.stat_result] = os.stat(candidate)
    except (OSError, ValueError):
        target = None
    if open_to_all:
        return f"it is in {os.path.dirname(candidate)}, which every user can write to"
    for st in (link, target):  # the link's owner, then the file's (a link's mode means nothing)
        # The mode of anything but a regular file is not a reason: _present says so, an error.
        why = None if st is None else untrusted(st, root_ok=True, group_write_ok=True,
                                                 world_write_ok=not stat.S_ISREG(st.st_mode))
        if why is not None:
            return why
    return None


def _mentions_devlint(path: str) -> bool:
    """Whether path is a regular file holding the bytes "devlint" in its first
    MAX_FILE_BYTES + 1 (files.read_regular: without blocking or following a link; any
    error: False). A pyproject.toml that may not be used is reported only when it may have
    been meant for devlint."""
    from devlint.files import Unreadable, read_regular
    from devlint.project import MAX_FILE_BYTES

    try:
        return b"devlint" in read_regular(path, MAX_FILE_BYTES, follow=False, cut=True)[1]
    except Unreadable:
        return False


def _present(path: str, shown: Optional[str] = None) -> bool:
    """Whether a config file is at path. Something there that cannot be used (unreadable,
    a symlink loop or a broken link, a folder, a FIFO) is an error, not an absence: a
    config silently skipped would make devlint check the wrong thing and say "clear"."""
    import stat

    shown = shown or path
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        if os.path.islink(path):
            raise ConfigError(shown, f"is a symbolic link to {os.readlink(path)!r}, which does not exist") from None
        return False
    except OSError as exc:  # EACCES on the way, ELOOP, ENAMETOOLONG, EIO ...
        raise ConfigError(shown, f"cannot be read ({exc.strerror or exc})") from None
    if not stat.S_ISREG(st.st_mode):
        raise ConfigError(shown, "is not a regular file")
    return True


# A line that sets devlint's own table: `[tool.devlint]`, `[tool.devlint.services.api]`,
# `[tool."devlint"]`, or under `[tool]` a dotted `devlint.services...` / `devlint = {...}`.
_TOOL_HEADER = re.compile(r"""^[ \t]*(?:\[[ \t]*tool[ \t]*\.[ \t]*(?:devlint|"devlint"|'devlint')[ \t]*[.\]]"""
                          r"""|devlint[ \t]*[.=])""", re.MULTILINE)


def _has_tool_table(pyproject: str, shown: str) -> bool:
    """Whether a pyproject.toml sets tool.devlint: parsed, not grepped (a comment or a string
    that mentions the table is not one). Files that never mention "devlint" are not parsed at
    all, which keeps tomllib off the path of projects configured elsewhere.

    A file that is not valid TOML is an error (file:line) only when a line starts with a
    ``[tool.devlint`` header, i.e. devlint's own table is what cannot be read; otherwise (a
    broken pyproject that merely lists devlint as a dependency) it is not devlint's config,
    as before, and discovery goes on.
    """
    text = _read_text(Path(pyproject), shown, unless_without=b"devlint")
    if text is None:
        return False
    try:
        tool = parse_toml(text, shown).get("tool")
    except ConfigError as exc:
        if _TOOL_HEADER.search(text):
            raise ConfigError(exc.file, f"{exc.message} (devlint reads its [tool.devlint] table from this file)",
                              exc.line, exc.column) from None
        return False
    return isinstance(tool, dict) and "devlint" in tool


# -- loading -----------------------------------------------------------------------

Kinds = Mapping[str, Mapping[str, str]]


def load(path: Path, reason: str, kinds: Kinds, shown: Optional[str] = None,
         strict: bool = False) -> Config:
    """Read and validate a config file. kinds: every kind a plugin owns → its extra keys."""
    shown = shown or path.name
    text = _read_text(path, shown)
    assert text is not None
    table = parse_toml(text, shown)
    prefix: Tuple[str, ...] = ()
    if path.name == "pyproject.toml":
        tool = table.get("tool")
        table = tool.get("devlint", {}) if isinstance(tool, dict) else {}
        prefix = ("tool", "devlint")
        if not isinstance(table, dict):
            raise ConfigError(shown, f"expected a table ([tool.devlint]), got {describe(table)}",
                              line=find_line(text, prefix), key="tool.devlint")
    checker = _Checker(text, shown, prefix, kinds, strict)
    services, disabled = checker.top(table)
    return Config(path, reason, services, disabled, checker.warnings)


def _read_text(path: Path, shown: str, unless_without: bytes = b"") -> Optional[str]:
    """A config file's text; ConfigError (naming `shown`) when it cannot be read, is too
    large or is not UTF-8. None when it does not contain `unless_without` at all."""
    from devlint.project import MAX_FILE_BYTES

    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ConfigError(shown, f"cannot be read ({exc.strerror or exc})") from None
    if unless_without not in data:
        return None
    if len(data) > MAX_FILE_BYTES:
        raise ConfigError(shown, f"is larger than {MAX_FILE_BYTES} bytes; is it really devlint's config?")
    try:
        return decode_text(data)
    except NotText as exc:
        raise ConfigError(shown, "is not valid UTF-8 text", line=exc.line) from None


def parse_toml(text: str, shown: str) -> Dict[str, Any]:
    import sys

    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.9/3.10
        import tomli as tomllib
    _check_key_depth(text, shown)
    try:
        table: Dict[str, Any] = tomllib.loads(text)
        return table
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        match = re.search(r"\s*\(at line (\d+), column (\d+)\)$", message)
        if match:
            message = message[: match.start()]
            raise ConfigError(shown, message, line=int(match[1]), column=int(match[2])) from None
        if "end of document" in message:
            raise ConfigError(shown, message, line=text.count("\n") + 1) from None
        raise ConfigError(shown, message) from None
    except RecursionError:  # the TOML parsers recurse once per nested array or inline table
        raise ConfigError(shown, "arrays or inline tables are nested too deeply to read",
                          line=_deepest_line(text)) from None


MAX_KEY_PARTS = 1000
_STRING = re.compile(r""""(?:[^"\\\n]|\\.)*"|'[^'\n]*'""")


def _check_key_depth(text: str, shown: str) -> None:
    """A ConfigError for a line whose dotted key has more than MAX_KEY_PARTS parts, before
    the TOML parser sees it: tomllib's time and memory grow with the square of a dotted
    key's depth (20,000 parts: 2.7 s and 1.6 GB; 200,000 exhaust the machine). Dots inside
    quoted strings do not count; no real config comes near the limit."""
    for number, line in enumerate(text.splitlines(), 1):
        if line.count(".") > MAX_KEY_PARTS and _STRING.sub("", line).count(".") >= MAX_KEY_PARTS:
            raise ConfigError(shown, f"a key on this line has more than {MAX_KEY_PARTS} dotted parts; "
                              "devlint does not read keys nested that deep", line=number)


def _deepest_line(text: str) -> int:
    """The line where bracket nesting is deepest (strings not told apart: a best guess)."""
    depth, deepest, line, where = 0, -1, 1, 1
    for char in text:
        if char == "\n":
            line += 1
        elif char in "[{":
            depth += 1
            if depth > deepest:
                deepest, where = depth, line
        elif char in "]}":
            depth -= 1
    return where


class _Checker:
    """Validates the parsed table, naming key paths and lines the way users wrote them."""

    def __init__(self, text: str, shown: str, prefix: Tuple[str, ...], kinds: Kinds,
                 strict: bool) -> None:
        self.text, self.shown, self.prefix = text, shown, prefix
        self.kinds, self.strict = kinds, strict
        self.warnings: List[ConfigWarning] = []
        self.disabled: Tuple[str, ...] = ()  # disable_plugins, once read
        self.lines = _LineIndex(text)  # every key's line, read once: validation stays linear

    def line(self, full: Sequence[str]) -> Optional[int]:
        """The line of a full key path (prefix included), as find_line finds it."""
        return self.lines.find(_without_indices(full))

    def fail(self, path: Sequence[str], message: str) -> ConfigError:
        full = (*self.prefix, *path)
        return ConfigError(self.shown, message, line=self.line(full), key=".".join(full))

    def unknown(self, path: Sequence[str], known: Sequence[str], what: str) -> None:
        import difflib

        key = path[-1]
        close = difflib.get_close_matches(key, list(known), n=1, cutoff=0.6)
        message = f"unknown {what}" + (f"; did you mean {close[0]!r}?" if close else "")
        message += f" (known: {', '.join(sorted(known))})"
        if self.strict:
            raise self.fail(path, message)
        full = (*self.prefix, *path)
        self.warnings.append(ConfigWarning(self.shown, self.line(full), ".".join(full), message))

    def top(self, table: Mapping[str, Any]) -> Tuple[Tuple[Service, ...], Tuple[str, ...]]:
        for key in table:
            if key not in TOP_LEVEL_KEYS:
                self.unknown((key,), list(TOP_LEVEL_KEYS), "key")
        disabled = table.get("disable_plugins", [])
        if not isinstance(disabled, list) or not all(isinstance(x, str) for x in disabled):
            raise self.fail(("disable_plugins",), f"expected a list of plugin names, got {describe_strings(disabled)}")
        self.disabled = tuple(disabled)
        services = table.get("services", {})
        if not isinstance(services, dict):
            raise self.fail(("services",), f"expected a table of services, got {describe(services)}")
        return tuple(self.service(name, body) for name, body in services.items()), tuple(disabled)

    def service(self, name: str, body: Any) -> Service:
        path = ("services", name)
        if not isinstance(body, dict):
            raise self.fail(path, f"expected a table ([services.{name}]), got {describe(body)}")
        kind = body.get("kind", "")
        if not isinstance(kind, str):
            raise self.fail((*path, "kind"), f"expected a string, got {describe(kind)}")
        allowed = dict(CORE_SERVICE_KEYS)
        if kind:
            extra = self.kinds.get(kind)
            if extra is None:
                known = sorted(self.kinds)
                import difflib

                close = difflib.get_close_matches(kind, known, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                off = f"; disable_plugins turns off {', '.join(self.disabled)}" if self.disabled else ""
                raise self.fail((*path, "kind"), f"no plugin knows the kind {kind!r}{hint}"
                                f" (known: {', '.join(known) or 'none'}; see `devlint plugins`{off})")
            allowed.update(extra)
        for key in body:
            if key not in allowed:
                self.unknown((*path, key), list(allowed), "key" + (f" for kind {kind!r}" if kind else ""))
        if "port" in body and "ports" in body:
            raise self.fail((*path, "ports"), "give either port or ports, not both")
        ports = self.ports(path, body)
        if not kind and not ports:
            raise self.fail(path, "a service without a kind needs port or ports")
        host = body.get("host")
        if host is not None and (not isinstance(host, str) or not host.strip()):
            raise self.fail((*path, "host"), f"expected a host name or address, got {describe(host)}")
        svc_path = body.get("path", ".")
        if not isinstance(svc_path, str):
            raise self.fail((*path, "path"), f"expected a folder path string, got {describe(svc_path)}")
        command = body.get("command")
        if command is not None and not (isinstance(command, str) or (
                isinstance(command, list) and all(isinstance(x, str) for x in command))):
            raise self.fail((*path, "command"), f"expected a string or list of strings, got {describe(command)}")
        if isinstance(command, str):
            import shlex

            try:
                shlex.split(command)
            except ValueError as exc:
                raise self.fail((*path, "command"), f"cannot split the command into words ({exc})") from None
        host_source = Source("file", self.shown, self.line((*self.prefix, *path, "host")),
                             ".".join((*self.prefix, *path, "host"))) if host else Source("default")
        endpoints = tuple(
            Endpoint("http" if len(ports) == 1 else f"port {i + 1}", port, host or "localhost",
                     source, host_source, fix=f"{self.shown}: {source.key} = {_port_fix(body, i)}")
            for i, (port, source) in enumerate(ports))
        return Service(name=name, kind=kind, endpoints=endpoints, path=svc_path,
                       source=Source("file", self.shown, self.line((*self.prefix, *path)),
                                     ".".join((*self.prefix, *path))),
                       settings=body)

    def ports(self, path: Tuple[str, ...], body: Mapping[str, Any]) -> List[Tuple[int, Source]]:
        def source(key: Tuple[str, ...]) -> Source:
            full = (*self.prefix, *key)
            return Source("file", self.shown, self.line(full), ".".join(full))

        if "port" in body:
            return [(self.port((*path, "port"), body["port"]), source((*path, "port")))]
        if "ports" in body:
            values = body["ports"]
            if not isinstance(values, list) or not values:
                raise self.fail((*path, "ports"), f"expected a non-empty list of ports, got {describe(values)}")
            return [(self.port((*path, "ports", str(i)), v), source((*path, "ports")))
                    for i, v in enumerate(values)]
        return []

    def port(self, path: Tuple[str, ...], value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
            hint = ""
            if isinstance(value, str) and value.strip().isdigit():
                hint = f" (write {value.strip()} without quotes)"
            raise self.fail(path, f"expected an integer port from 1 to 65535, got {describe(value)}{hint}")
        return value



def _port_fix(body: Mapping[str, Any], index: int) -> str:
    """The value to write for a moved port: ``{port}`` for `port`, the whole `ports` list with
    the moved one as ``{port}`` (a fix template: str.format fills it in)."""
    if "port" in body:
        return "{port}"
    ports = ["{port}" if i == index else str(value) for i, value in enumerate(body["ports"])]
    return "[" + ", ".join(ports) + "]"


def describe(value: Any) -> str:
    """A value as a user would recognise it from their TOML (model.describe's TOML words)."""
    return describe_value(value, "toml")


def describe_strings(value: Any) -> str:
    """describe() for where a list of strings was expected: a list names its first item that
    is not a string ("a list containing the number 5")."""
    return describe_value(value, "toml", strings=True)


# -- line lookup -------------------------------------------------------------------

_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")
_ASSIGN = re.compile(r"^\s*([A-Za-z0-9_\-\.\"' ]+?)\s*=")


def _split_key(key: str) -> Tuple[str, ...]:
    return tuple(_key_part(part.strip()) for part in re.findall(r'"(?:[^"\\]|\\.)*"|\'[^\']*\'|[^.]+', key))


def _key_part(part: str) -> str:
    """One part of a dotted TOML key as tomllib reads it: a "basic" string's escapes
    (\\u00e9, \\") decoded, a 'literal' string's quotes removed."""
    if len(part) >= 2 and part[0] == part[-1] == '"':
        import json

        try:
            return str(json.loads(re.sub(r"\\U([0-9A-Fa-f]{8})", lambda m: chr(int(m[1], 16)), part)))
        except ValueError:
            return part[1:-1]
    return part.strip("'") if len(part) >= 2 and part[0] == part[-1] == "'" else part


class _LineIndex:
    """Where every key path of one TOML text is set, read in one pass: find_line's answers
    for that text without scanning it again per key (a scan per key made validating N
    services O(N²): 2,000 services took 16 s).

    first: a key path → the first line that sets it ([table] header or assignment, the
    table prefixed); last_assign: a key path → the last line assigning exactly it (an inline
    table holding deeper keys); headers: a table path → its first header line.
    """

    def __init__(self, text: str) -> None:
        self.first: Dict[Tuple[str, ...], int] = {}
        self.last_assign: Dict[Tuple[str, ...], int] = {}
        self.headers: Dict[Tuple[str, ...], int] = {}
        table: Tuple[str, ...] = ()
        for number, line in enumerate(text.splitlines(), 1):
            header = _HEADER.match(line)
            if header:
                table = _split_key(header[1])
                self.first.setdefault(table, number)
                self.headers.setdefault(table, number)
                continue
            assign = _ASSIGN.match(line)
            if assign:
                full = table + _split_key(assign[1])
                self.first.setdefault(full, number)
                self.last_assign[full] = number

    def find(self, wanted: Tuple[str, ...]) -> Optional[int]:
        """The line of a key path (list indices already removed), as find_line documents."""
        exact = self.first.get(wanted)
        if exact is not None:
            return exact
        holders = [self.last_assign[wanted[:cut]] for cut in range(1, len(wanted)) if wanted[:cut] in self.last_assign]
        if holders:
            return max(holders)
        for cut in range(len(wanted) - 1, 0, -1):  # the nearest enclosing table header
            if wanted[:cut] in self.headers:
                return self.headers[wanted[:cut]]
        return None


def find_line(text: str, path: Sequence[str]) -> Optional[int]:
    """The line where a key path is set in TOML text, best effort (tomllib gives none).

    Handles [table] headers, dotted keys and list indices (the list's own line): the first
    line setting the path; else the last inline table holding it; else the nearest
    enclosing [table] header; else None. One look-up reads the whole text: to look up many
    keys of one text, make a ``_LineIndex`` once (as _Checker does).
    """
    return _LineIndex(text).find(_without_indices(path))


def _without_indices(path: Sequence[str]) -> Tuple[str, ...]:
    return tuple(p for p in path if not p.isdigit())
