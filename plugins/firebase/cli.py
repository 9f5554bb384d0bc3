"""The `firebase` command line: what `firebase emulators:start|exec [flags] [script]` asks for.

Mirrors firebase-tools' commands (src/commands/emulators-start.ts, emulators-exec.ts and the
shared flags in src/emulator/commandUtils.ts): ``--only`` (comma-separated, ``hosting:site``
entries allowed), ``--project``/``-P``, ``--config``/``-c``; emulators:exec runs its script once
the emulators are up and shows the Emulator UI only with ``--ui``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Optional, Sequence, Tuple

from devlint.model import Source, Sourced

# Flags of emulators:start / emulators:exec that take a value, and those whose value is optional.
VALUE_FLAGS = ("--only", "--except", "--project", "-P", "--config", "-c", "--import", "--log-verbosity",
               "--token", "--account")
OPTIONAL_VALUE_FLAGS = ("--export-on-exit", "--inspect-functions")
SUBCOMMANDS = ("emulators:start", "emulators:exec")


@dataclass
class Launch:
    """What a `firebase emulators:*` invocation (or a devlint.toml firebase service) asks for."""

    only: Optional[Sourced[Tuple[str, ...]]] = None  # --only entries as typed ("hosting:site")
    project: Optional[Sourced[str]] = None
    config: Optional[str] = None
    show_ui: bool = True  # emulators:start shows the UI; emulators:exec only with --ui

    @property
    def only_entries(self) -> Tuple[str, ...]:
        """The --only entries, () without --only."""
        return self.only.value if self.only is not None else ()


def is_firebase(word: str) -> bool:
    """Whether a command word runs firebase-tools (firebase, firebase.cmd, firebase-tools.js …)."""
    base = os.path.basename(word.replace("\\", "/")).lower()
    for suffix in (".cmd", ".exe", ".js", ".ps1"):
        if base.endswith(suffix):
            base = base[: -len(suffix)]
    return base in ("firebase", "firebase-tools")


def _option(words: Sequence[str], i: int) -> Tuple[str, Optional[str], int]:
    """The flag at words[i], its value and the index of the word after them. The value is None
    for a flag that takes none (or an optional one not given), "" for a missing required one."""
    flag, eq, inline = words[i].partition("=")
    if flag not in VALUE_FLAGS and flag not in OPTIONAL_VALUE_FLAGS:
        return words[i], None, i + 1
    if eq:
        return flag, inline, i + 1
    following = words[i + 1] if i + 1 < len(words) else None
    if flag in OPTIONAL_VALUE_FLAGS and (following is None or following.startswith("-")):
        return flag, None, i + 1
    return flag, following or "", i + 2


def parse_command(argv: Sequence[str]) -> Optional[Launch]:
    """`firebase [flags] emulators:start|emulators:exec [flags] [script]` → a Launch."""
    if not argv or not is_firebase(argv[0]):
        return None
    launch = Launch()
    subcommand: Optional[str] = None
    words = list(argv[1:])
    i = 0
    while i < len(words):
        if not words[i].startswith("-"):
            if subcommand is None:
                subcommand = words[i]
            i += 1
            continue
        flag, value, i = _option(words, i)
        if flag == "--only" and value is not None:
            launch.only = Sourced(tuple(part.strip() for part in value.split(",") if part.strip()),
                                  Source("flag", f"--only {value}"))
        elif flag in ("--project", "-P") and value:
            launch.project = Sourced(value, Source("flag", f"{flag} {value}"))
        elif flag in ("--config", "-c") and value:
            launch.config = value
    if subcommand not in SUBCOMMANDS:
        return None
    if subcommand == "emulators:exec":
        launch.show_ui = "--ui" in words  # exec shows the UI only when asked
    return launch


def exec_script(argv: Sequence[str]) -> Optional[str]:
    """The script of `firebase emulators:exec [flags] SCRIPT` (firebase-tools runs it in a shell
    once the emulators are up), or None for any other command or when no script is given."""
    if not argv or not is_firebase(argv[0]) or "emulators:exec" not in argv:
        return None
    words = list(argv)
    i = words.index("emulators:exec") + 1
    while i < len(words):
        if words[i] == "--":
            return " ".join(words[i + 1:]) or None
        if not words[i].startswith("-"):
            return words[i]
        _flag, _value, i = _option(words, i)
    return None
