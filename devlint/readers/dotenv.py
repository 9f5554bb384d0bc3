"""python-dotenv's rules, per release, for reading dotenv files without importing python-dotenv.

Python dev servers load ``.env`` files (and their own, e.g. flask's ``.flaskenv``) through
python-dotenv (``dotenv_values``, ``find_dotenv``), so the values devlint reports must be
exactly the ones python-dotenv produces: same regular expressions, same escapes, same
``${VAR}`` / ``${VAR:-default}`` expansion, same silent skipping of lines it cannot parse.
This is a port of python-dotenv 1.x's ``parser.py``, ``variables.py`` and ``main.py``
(find_dotenv) (BSD-3-Clause), kept here because devlint must not depend on or import the
user's environment, and it adds what devlint needs on top: the line of every binding and of
every line python-dotenv would skip.

python-dotenv changed its parser in 1.2.3 (a leading BOM is dropped, a backslash escapes
any character inside quotes) and 1.2.4 (``KEY= # comment`` is empty); releases after 1.2.1
need Python 3.10, so a Python 3.9 project has the old rules. All three are here;
installed_version() finds the release next to the Python that runs a given program (e.g.
flask), by reading files only.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Dict, List, Optional, Pattern, Tuple

if TYPE_CHECKING:
    from devlint.project import Project

Version = Tuple[int, ...]
LATEST: Version = (1, 2, 4)  # the rules that apply when devlint cannot tell the installed release
ESCAPES_ANYTHING = (1, 2, 3)  # a backslash in quotes escapes any character
DROPS_BOM = (1, 2, 3)
EMPTY_BEFORE_COMMENT = (1, 2, 4)  # `KEY= # comment`

_MULTILINE_WHITESPACE = re.compile(r"\s*", re.MULTILINE)
_WHITESPACE = re.compile(r"[^\S\r\n]*")
_EXPORT = re.compile(r"(?:export[^\S\r\n]+)?")
_SINGLE_QUOTED_KEY = re.compile(r"'([^']+)'")
_UNQUOTED_KEY = re.compile(r"([^=\#\s]+)")
_EQUAL_SIGN = re.compile(r"(=[^\S\r\n]*)")
_SINGLE_QUOTED_VALUE = re.compile(r"'((?:\\'|[^'])*)'")  # before 1.2.3
_DOUBLE_QUOTED_VALUE = re.compile(r'"((?:\\"|[^"])*)"')
_SINGLE_QUOTED_VALUE_123 = re.compile(r"'((?:\\.|[^'\\])*)'", re.DOTALL)  # a backslash escapes anything
_DOUBLE_QUOTED_VALUE_123 = re.compile(r'"((?:\\.|[^"\\])*)"', re.DOTALL)
_UNQUOTED_VALUE = re.compile(r"([^\r\n]*)")
_COMMENT = re.compile(r"(?:[^\S\r\n]*#[^\r\n]*)?")
_END_OF_LINE = re.compile(r"[^\S\r\n]*(?:\r\n|\n|\r|$)")
_REST_OF_LINE = re.compile(r"[^\r\n]*(?:\r|\n|\r\n)?")
_DOUBLE_QUOTE_ESCAPES = re.compile(r"\\[\\'\"abfnrtv]")
_SINGLE_QUOTE_ESCAPES = re.compile(r"\\[\\']")
_VARIABLE = re.compile(r"\$\{(?P<name>[^\}:]*)(?::-(?P<default>[^\}]*))?\}")


@dataclass(frozen=True)
class Binding:
    """One ``KEY=value`` as python-dotenv reads it. value None: a bare ``KEY`` line."""

    key: str
    value: Optional[str]
    line: int  # the line the key is on (1-based)


@dataclass(frozen=True)
class Parsed:
    bindings: Tuple[Binding, ...]
    skipped: Tuple[int, ...]  # lines python-dotenv cannot parse and skips with a warning


class _Error(Exception):
    pass


class _Reader:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.line = 1

    def has_next(self) -> bool:
        return self.pos < len(self.text)

    def peek(self, count: int) -> str:
        return self.text[self.pos : self.pos + count]

    def read_regex(self, regex: Pattern[str]) -> Tuple[str, ...]:
        match = regex.match(self.text, self.pos)
        if match is None:
            raise _Error(regex.pattern)
        self.line += self.text.count("\n", self.pos, match.end())
        self.pos = match.end()
        return tuple(g or "" for g in match.groups())


def _decode_escapes(regex: Pattern[str], value: str) -> str:
    import codecs

    return regex.sub(lambda m: codecs.decode(m.group(0), "unicode-escape"), value)


def _parse_value(reader: _Reader, version: Version) -> str:
    char = reader.peek(1)
    if char == "'":
        (value,) = reader.read_regex(_SINGLE_QUOTED_VALUE_123 if version >= ESCAPES_ANYTHING else _SINGLE_QUOTED_VALUE)
        return _decode_escapes(_SINGLE_QUOTE_ESCAPES, value)
    if char == '"':
        (value,) = reader.read_regex(_DOUBLE_QUOTED_VALUE_123 if version >= ESCAPES_ANYTHING else _DOUBLE_QUOTED_VALUE)
        return _decode_escapes(_DOUBLE_QUOTE_ESCAPES, value)
    if char in ("", "\n", "\r"):
        return ""
    (part,) = reader.read_regex(_UNQUOTED_VALUE)
    return re.sub(r"\s+#.*", "", part).rstrip()


def parse(text: str, version: Version = LATEST) -> Parsed:
    """Every binding of a dotenv file, in order, with lines; values not yet expanded.

    text is the file's content, without a BOM. python-dotenv opens files in text mode, so CRLF and CR
    line ends are read as LF before parsing; that is done here too.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    reader = _Reader(text)
    bindings: List[Binding] = []
    skipped: List[int] = []
    while reader.has_next():
        start = reader.line
        try:
            reader.read_regex(_MULTILINE_WHITESPACE)
            if not reader.has_next():
                break
            start = reader.line
            reader.read_regex(_EXPORT)
            key: Optional[str]
            if reader.peek(1) == "#":
                key = None
            elif reader.peek(1) == "'":
                (key,) = reader.read_regex(_SINGLE_QUOTED_KEY)
            else:
                (key,) = reader.read_regex(_UNQUOTED_KEY)
            reader.read_regex(_WHITESPACE)
            value: Optional[str] = None
            if reader.peek(1) == "=":
                (equal_sign,) = reader.read_regex(_EQUAL_SIGN)
                if version >= EMPTY_BEFORE_COMMENT and len(equal_sign) > 1 and reader.peek(1) == "#":
                    value = ""  # `KEY= # comment`
                else:
                    value = _parse_value(reader, version)
            reader.read_regex(_COMMENT)
            reader.read_regex(_END_OF_LINE)
        except _Error:
            reader.read_regex(_REST_OF_LINE)
            skipped.append(start)
            continue
        if key is not None:
            bindings.append(Binding(key, value, start))
    return Parsed(tuple(bindings), tuple(skipped))


def expand(
    value: str, earlier: Dict[str, Optional[str]], environ: Callable[[str], Optional[str]]
) -> str:
    """``${NAME}`` and ``${NAME:-default}`` as python-dotenv's dotenv_values expands them.

    dotenv_values uses override=True: a name set earlier in the same file wins over the
    process environment; a name set in neither gives the default (or "").
    A set-but-empty variable gives "" (unlike a shell's ``:-``).
    """

    def resolve(match: re.Match[str]) -> str:
        name = match["name"]
        if name in earlier:
            found = earlier[name]
        else:
            found = environ(name)
            if found is None:
                found = match["default"] if match["default"] is not None else ""
        return found if found is not None else ""

    return _VARIABLE.sub(resolve, value)


def values(
    text: str, environ: Callable[[str], Optional[str]], interpolate: bool = True, version: Version = LATEST
) -> Tuple[Dict[str, Optional[str]], Dict[str, int], Tuple[int, ...]]:
    """What ``dotenv.dotenv_values(path)`` returns for this text, plus each key's line.

    Returns (values, line of the binding that won for each key, skipped lines).
    """
    parsed = parse(text, version)
    result: Dict[str, Optional[str]] = {}
    lines: Dict[str, int] = {}
    for binding in parsed.bindings:
        value = binding.value
        if value is not None and interpolate:
            value = expand(value, result, environ)
        result[binding.key] = value
        lines[binding.key] = binding.line
    return result, lines, parsed.skipped


# -- a file as dotenv_values(path) reads it ---------------------------------------------------


@dataclass(frozen=True)
class FileValues:
    """``dotenv_values(path)`` for one file, with lines. bom_key: the name python-dotenv
    before 1.2.3 reads as ``"\\ufeff" + bom_key`` (the file starts with a UTF-8 BOM), so
    bom_key itself is not set; None when that does not happen."""

    values: Dict[str, Optional[str]]
    lines: Dict[str, int]
    skipped: Tuple[int, ...]
    bom_key: Optional[str] = None


def file_values(path: str, text: str, environ: Callable[[str], Optional[str]], version: Version = LATEST) -> FileValues:
    """What the given python-dotenv release reads from the file at path, whose text (BOM
    dropped, as Project.read_text gives it) the caller has read: releases before 1.2.3
    keep a BOM as part of the first name, which is looked up in the file's first bytes."""
    found, lines, skipped = values(text, environ, version=version)
    if version >= DROPS_BOM or not found or not _starts_with_bom(path):
        return FileValues(found, lines, skipped)
    first = next(iter(found))
    bommed = "\ufeff" + first
    found = {(bommed if key == first else key): value for key, value in found.items()}
    lines[bommed] = lines.pop(first)
    return FileValues(found, lines, skipped, first)


def _starts_with_bom(path: str) -> bool:
    # Project.read_text drops a BOM; the file was just read (and recorded) through the Project.
    try:
        with open(path, "rb") as handle:
            return handle.read(3) == b"\xef\xbb\xbf"
    except OSError:
        return False


def find_dotenv(project: Project, name: str, cwd: str) -> Optional[str]:
    """The nearest file `name` in cwd (from the project root) or a parent folder, as
    ``dotenv.find_dotenv(name, usecwd=True)`` finds it; None when there is none."""
    folder = os.path.abspath(os.path.join(project.root, cwd))
    while True:
        candidate = os.path.join(folder, name)
        if project.exists(candidate):
            return candidate
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


# -- which python-dotenv a program will load ------------------------------------------------

_DIST_INFO = re.compile(r"python_dotenv-(\d+(?:\.\d+)*)\.dist-info")
_SH_EXEC = re.compile(r"^'''exec' +['\"]?([^'\"\s]+)", re.MULTILINE)  # pip's #!/bin/sh for long paths


def installed_version(project: Project, program: str, cwd: str, path: Optional[str]) -> Optional[Version]:
    """The python-dotenv release next to the Python that runs `program` (a script on PATH,
    e.g. `flask`, or a python), or None when that is not clear. Reads files only: the program found on PATH,
    a script's #! line, then the names in that environment's site-packages."""
    found = _which(project, program, cwd, path)
    if found is None:
        return None
    interpreter: Optional[str] = found
    if not _is_python(found):
        interpreter = _shebang_interpreter(project, found, cwd, path)
    if interpreter is None or not os.path.isabs(interpreter) or not _is_python(interpreter):
        return None  # e.g. pyenv's shims, which are shell scripts
    prefix = os.path.dirname(os.path.dirname(interpreter))  # .venv/bin/python -> .venv
    versions = set()
    for lib in ("lib", "lib64", "Lib"):
        folder = os.path.join(prefix, lib)
        names = project.listdir(folder)
        sites = [os.path.join(folder, name, kind) for name in names if name.startswith("python")
                 for kind in ("site-packages", "dist-packages")]
        if "site-packages" in names:  # Windows: Lib/site-packages
            sites.append(os.path.join(folder, "site-packages"))
        for site in sites:
            for name in project.listdir(site):
                match = _DIST_INFO.fullmatch(name)
                if match:
                    versions.add(tuple(int(part) for part in match[1].split(".")))
    return versions.pop() if len(versions) == 1 else None


def _is_python(path: str) -> bool:
    return os.path.basename(path).lower().startswith("python")


def _which(project: Project, program: str, cwd: str, path: Optional[str]) -> Optional[str]:
    if os.sep in program or "/" in program:
        full = str(project.path(program, cwd))
        return full if project.exists(full) else None
    for folder in (path or "").split(os.pathsep):
        if os.path.isabs(folder) and project.exists(os.path.join(folder, program)):
            return os.path.join(folder, program)
    return None


def _shebang_interpreter(project: Project, script: str, cwd: str, path: Optional[str]) -> Optional[str]:
    from devlint.project import FileProblem

    try:
        text = project.read_text(script) or ""
    except FileProblem:  # a .exe launcher on Windows, or unreadable
        return None
    first, _, rest = text.partition("\n")
    words = first[2:].split() if first.startswith("#!") else []
    if not words:
        return None
    if os.path.basename(words[0]) == "env":  # #!/usr/bin/env python3, #!/usr/bin/env -S python3 -u
        program = next((word for word in words[1:] if not word.startswith("-")), None)
        return _which(project, program, cwd, path) if program else None
    if os.path.basename(words[0]) == "sh":
        match = _SH_EXEC.search(rest)
        return match[1] if match else None
    return words[0]
