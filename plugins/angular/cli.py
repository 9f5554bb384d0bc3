"""The `ng serve` command line: which project, configurations and serve options it asks for.

One concern: argv → ``NgArgs``, each value with the flag it came from. Nothing is read from
files here.

Facts from the Angular CLI (21.x): ``@angular/cli`` ``src/commands/command-config.ts`` (``serve``
with the aliases ``s`` and ``dev``), ``src/commands/run`` (``ng run project:serve[:config]``) and
``src/command-builder/architect-command-module.ts`` (yargs: options in camelCase or kebab-case,
``--no-X`` for booleans, ``-c`` for ``--configuration``, the project as the first positional);
the option names are the dev-server builder's (``@angular/build`` ``builders/dev-server/schema.json``).
Angular CLI 1.x also took ``-H``, ``-p`` and ``--app``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any, Dict, Optional, Sequence, Tuple

from devlint.model import Source, Sourced

SERVE_COMMANDS = ("serve", "s", "dev")  # @angular/cli command-config.ts: serve, aliases dev and s
NG_DEFAULT = Source("default", "ng serve")
SERVE_KEYS = ("port", "host", "proxyConfig", "ssl", "sslKey", "sslCert")

# Command-line options of ng serve that take a value (camelCase; kebab-case is accepted too).
_VALUE_OPTS = {
    "port", "host", "proxyConfig", "sslKey", "sslCert", "publicHost", "servePath", "poll",
    "buildTarget", "browserTarget", "baseHref", "deployUrl", "allowedHosts", "define", "headers",
    "configuration", "project", "i18nMissingTranslation", "outputPath", "inspect", "app",
}
_BOOL_OPTS = {
    "ssl", "open", "verbose", "liveReload", "hmr", "watch", "disableHostCheck", "aot", "sourceMap",
    "progress", "prebundle", "forceEsbuild", "optimization", "commonChunk", "vendorChunk",
    "namedChunks", "extractLicenses", "buildOptimizer", "hmrWarning", "help", "prod",
}
_SHORT = {"c": "configuration", "o": "open", "H": "host", "p": "port"}  # -H/-p: Angular CLI 1.x
_NG_NAMES = ("ng", "ng.js", "ng.cmd", "ng.exe", "ng.ps1")


@dataclass
class NgArgs:
    """What an `ng serve` invocation (or a devlint.toml angular service) asks for."""

    project: Optional[str] = None
    project_source: Source = NG_DEFAULT
    configurations: Optional[Tuple[str, ...]] = None
    configuration_source: Source = NG_DEFAULT
    flags: Dict[str, Sourced[Any]] = field(default_factory=dict)  # port/host/proxyConfig/ssl... as typed
    config: Optional[str] = None  # another workspace file (devlint.toml `config`)


def split_configurations(text: str) -> Tuple[str, ...]:
    """`-c production,staging` (or defaultConfiguration) → the configurations, in order."""
    return tuple(c.strip() for c in text.split(",") if c.strip())


def _program(word: str) -> str:
    return os.path.basename(str(word).replace("\\", "/")).lower()


def is_ng_serve(cmdline: Optional[Sequence[str]]) -> bool:
    """Whether a process's command line is `ng serve` (or `node .../ng serve`, `ng dev` ...)."""
    if not cmdline:
        return False
    words = [_program(w) for w in cmdline]
    return any(word in _NG_NAMES and words[i + 1] in SERVE_COMMANDS for i, word in enumerate(words[:-1]))


def parse_command(argv: Sequence[str]) -> Optional[NgArgs]:
    """`ng serve|s|dev [project] [flags]` or `ng run project:serve[:config]` → NgArgs."""
    if not argv or _program(argv[0]) not in _NG_NAMES:
        return None
    words = [str(w) for w in argv[1:]]
    while words and words[0].startswith("-"):
        words.pop(0)  # ng's own flags before the command (--help ...); none take a value
    if not words:
        return None
    args = NgArgs()
    sub, rest = words[0], words[1:]
    if sub == "run":
        spec = next((w for w in rest if not w.startswith("-")), None)
        parts = spec.split(":") if spec else []
        if len(parts) < 2 or parts[1] != "serve":
            return None
        rest = [w for w in rest if w != spec]
        args.project, args.project_source = parts[0] or None, Source("command", f"ng run {spec}")
        if len(parts) > 2 and parts[2]:
            args.configurations = split_configurations(parts[2])
            args.configuration_source = Source("command", f"ng run {spec}")
    elif sub not in SERVE_COMMANDS:
        return None
    _parse_flags(rest, args, positional_project=sub != "run")
    return args


def _parse_flags(words: Sequence[str], args: NgArgs, positional_project: bool) -> None:
    i = 0
    while i < len(words):
        word = words[i]
        i += 1
        if word == "--":
            break
        if not word.startswith("-") or word == "-":
            if positional_project and args.project is None:
                args.project, args.project_source = word, Source("command", f"ng serve {word}")
            continue
        name, value, shown, i = _flag(word, words, i)
        _apply(args, name, value, Source("flag", shown))


def _flag(word: str, words: Sequence[str], i: int) -> Tuple[str, str, str, int]:
    """One option as yargs reads it: (camelCase name, value, the option as typed, next word)."""
    typed, eq, inline = word.partition("=")
    if typed.startswith("--"):
        name = _camel(typed[2:])
    else:
        name = _SHORT.get(typed[1:2], typed[1:])
        if not eq and len(typed) > 2 and typed[1:2] in _SHORT and _SHORT[typed[1:2]] in _VALUE_OPTS:
            eq, inline = "=", typed[2:]  # -cproduction
    negated = name.startswith("no") and name[2:3].isupper() and _lower_first(name[2:]) in _BOOL_OPTS
    if negated:
        name = _lower_first(name[2:])
    if eq:
        value = inline
    elif negated:
        value = "false"
    elif name in _BOOL_OPTS:
        value = "true"
        if i < len(words) and words[i] in ("true", "false"):
            value = words[i]
            i += 1
    elif i < len(words) and (name in _VALUE_OPTS or not words[i].startswith("-")):
        value = words[i]
        i += 1
    else:
        value = "true"
    shown = word if eq or negated or (value == "true" and name in _BOOL_OPTS) else f"{typed} {value}"
    return name, value, shown, i


def _apply(args: NgArgs, name: str, value: str, source: Source) -> None:
    if name in ("project", "app"):  # --app: Angular CLI 1.x, the app of .angular-cli.json by name or index
        args.project, args.project_source = value, source
    elif name == "configuration":
        args.configurations = split_configurations(value)
        args.configuration_source = source
    elif name in SERVE_KEYS:
        parsed: Any = value
        if name == "ssl":
            parsed = value.lower() not in ("false", "0", "")
        args.flags[name] = Sourced(parsed, source)


def _camel(name: str) -> str:
    return re.sub(r"-([a-z0-9])", lambda m: m.group(1).upper(), name)


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]
