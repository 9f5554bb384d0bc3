"""What the user's command really starts: npm scripts and wrappers unwrapped, statically.

`devlint run -- npm start` has to know that `start` is `cd client && ng serve --port 4300`
before anything runs, so that the Angular plugin can see `ng serve --port 4300` in
`client/`. This module reads package.json scripts and splits shell text into simple
commands — following `cd`, `VAR=x` prefixes, `cross-env`, `npx`, `npm run`, `concurrently`,
`npm-run-all` and friends — and never executes anything.

The shell reading is deliberately forgiving: a script is read the way POSIX sh (or, for a
backslash inside a word such as ``venv\\Scripts\\flask``, cmd.exe) would split it, and what
it cannot follow (``$(...)``, ``for`` loops, an unknown ``cd`` target) is kept as text or
left alone rather than guessed at.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from typing import AbstractSet, Dict, List, Mapping, Optional, Protocol, Sequence, Tuple

from devlint.model import Command, Finding
from devlint.project import Project
from devlint.readers.shell import REDIRECTS, tokenize
from devlint.rules import CODE_TOO_DEEP, CODE_UNREADABLE, MAX_DEPTH, RULES
from devlint.warm import RUN_VALUE_OPTIONS

_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_RESERVED_SKIP = {"if", "then", "else", "elif", "do", "while", "until", "!", "{", "}", "fi", "done",
                  "esac", "time"}
_RESERVED_DROP = {"for", "case", "function", "select"}

# npm sub-commands that run a script, and the script they run.
_NPM_RUN = {"run", "run-script", "rum", "urn"}
_NPM_LIFECYCLE = {"start": "start", "test": "test", "t": "test", "tst": "test",
                  "restart": "restart", "stop": "stop"}
_NPM_EXEC = {"exec", "x"}
# yarn / pnpm / bun built-ins: `yarn X` runs script X only when X is not one of these.
_PM_BUILTINS = {
    "add", "audit", "autoclean", "bin", "cache", "check", "config", "create", "dedupe", "exec",
    "dlx", "generate-lock-entry", "global", "help", "import", "info", "init", "install", "i",
    "licenses", "link", "list", "ls", "login", "logout", "node", "outdated", "owner", "pack",
    "patch", "policies", "prune", "publish", "rebuild", "remove", "rm", "store", "tag", "team",
    "unlink", "unplug", "up", "update", "upgrade", "upgrade-interactive", "version", "versions",
    "why", "workspace", "workspaces", "set", "plugin", "constraints", "explain", "npm", "env",
    "fetch", "deploy", "setup", "server", "root", "doctor", "approve-builds",
}
# Wrappers whose options take a value (so the value is not mistaken for the command).
_NPX_VALUE_OPTS = {"-p", "--package", "--call", "-c", "--cache", "--userconfig", "--registry",
                   "-w", "--workspace", "--prefix", "--loglevel"}
_PM_VALUE_OPTS = {"--cwd", "--prefix", "-C", "--dir", "--filter", "-F", "--workspace", "-w",
                  "--loglevel", "--registry", "--userconfig", "--cache", "--mutex", "--reporter"}
_CONCURRENTLY_VALUE_OPTS = {
    "-n", "--names", "-c", "--prefix-colors", "-p", "--prefix", "-l", "--prefix-length",
    "-t", "--timestamp-format", "--name-separator", "-s", "--success", "--restart-tries",
    "--restart-after", "-m", "--max-processes", "--default-input-target", "--cwd",
    "--handle-input-target", "--hide", "--pad-prefix", "--teardown", "-k-signal", "--kill-signal",
    "--kill-timeout", "--passthrough-arguments-template",
}
_UV_VALUE_OPTS = {"--with", "--python", "-p", "--env-file", "--package", "--extra", "--group",
                  "--directory", "--project", "--index", "--index-url", "--with-requirements"}
class Wrappers(Protocol):
    """What plugins add to the reading of a command line (PluginHost implements it)."""

    def package_binary(self, package: str) -> Optional[str]:
        """The binary `npx PACKAGE` runs, when it is not named after the package."""

    def inner_command(self, command: Command) -> Optional[str]:
        """The shell text a command runs once it is up (`firebase emulators:exec TEXT`)."""


@dataclass
class _Context:
    project: Project
    wrappers: Optional[Wrappers] = None
    packages: Dict[str, Optional[Tuple[str, Dict[str, str]]]] = field(default_factory=dict)
    active: List[Tuple[str, str]] = field(default_factory=list)  # scripts being expanded (cycles)
    problems: List[Finding] = field(default_factory=list)  # what could not be followed (RULES)
    texts: Dict[str, str] = field(default_factory=dict)  # folder → its package.json text (for lines)


# -- public API -----------------------------------------------------------------------

def expand(argv: Sequence[str], project: Project, cwd: str = ".",
           wrappers: Optional[Wrappers] = None, problems: Optional[List[Finding]] = None) -> List[Command]:
    """The simple commands `argv` (typed after `devlint run --`) will start, in order.

    cwd is relative to project.root. Package managers' scripts are read from the
    package.json they would use; nothing is executed. Unknown programs come back as
    they are: the plugins decide what is a server.
    problems: when given, gets a finding (RULES: DL301, DL302) for each part of the command
    devlint could not follow: a package.json that is there but cannot be read (a FIFO, over
    the size cap, not UTF-8, not JSON) and scripts nested deeper than MAX_DEPTH. Without it
    those parts are dropped as before; a caller that checks ports must pass it.
    """
    if not argv:
        return []
    ctx = _Context(project, wrappers, problems=problems if problems is not None else [])
    words = [str(word) for word in argv]
    return _simple(words, _norm(cwd), {}, _join(words), ctx, 0, None)[0]


def scripts_commands(project: Project, cwd: str = ".",
                     wrappers: Optional[Wrappers] = None) -> Dict[str, List[Command]]:
    """Every script of the package.json in cwd, expanded: for `devlint init` and zero-config.

    A missing or broken package.json gives an empty mapping, never an exception.
    """
    ctx = _Context(project, wrappers)
    found = _package(ctx, _norm(cwd))
    if found is None:
        return {}
    directory, scripts = found
    result: Dict[str, List[Command]] = {}
    for name in scripts:
        result[name] = _script(name, [], directory, {}, ctx, 0)
    return result


# -- shell text ---------------------------------------------------------------------

def _shell(text: str, cwd: str, env: Mapping[str, str], ctx: _Context, depth: int,
           script: Optional[str]) -> List[Command]:
    """Every simple command of a shell text, with `cd` and `export` followed in order."""
    if depth > MAX_DEPTH:
        _too_deep(ctx, cwd, script, depth, text)
        return []
    commands: List[Command] = []
    shell_env = dict(env)
    stack: List[Tuple[str, Dict[str, str]]] = []  # saved (cwd, env) at each `(`
    words: List[str] = []
    first = last = -1
    skip_next = False

    def flush() -> None:
        nonlocal cwd, words, first, last
        if words:
            typed = text[first:last].strip()
            found, new_cwd = _simple(words, cwd, shell_env, typed, ctx, depth, script)
            commands.extend(found)
            cwd = new_cwd
        words, first, last = [], -1, -1

    for tok in tokenize(text):
        if tok.kind == "word":
            if skip_next:
                skip_next = False
                continue
            if not words:
                first = tok.start
            words.append(tok.value)
            last = tok.end
        elif tok.value in REDIRECTS:
            skip_next = True  # the file name after > or <
        elif tok.value == "(":
            flush()
            stack.append((cwd, dict(shell_env)))
        elif tok.value == ")":
            flush()
            if stack:
                cwd, saved = stack.pop()
                shell_env.clear()
                shell_env.update(saved)
        else:  # && || ; | & newline
            flush()
    flush()
    return commands


def _simple(words: List[str], cwd: str, shell_env: Dict[str, str], text: str, ctx: _Context,
            depth: int, script: Optional[str]) -> Tuple[List[Command], str]:
    """One simple command: (the commands it starts, the cwd after it).

    shell_env is the shell's exported environment; `export`/`set` change it in place.
    """
    words = list(words)
    env: Dict[str, str] = dict(shell_env)
    while words and words[0] in _RESERVED_SKIP:
        words.pop(0)
    if not words or words[0] in _RESERVED_DROP:
        return [], cwd
    while words and _ASSIGNMENT.match(words[0]):
        name, _, value = words.pop(0).partition("=")
        env[name] = value
    if not words:
        return [], cwd  # plain shell variable assignment
    program = _program(words[0])
    args = words[1:]

    if program in ("cd", "chdir", "pushd"):
        return [], _cd(cwd, args)
    if program in ("export", "set"):
        for word in args:
            if "=" in word and not word.startswith("-"):
                name, _, value = word.partition("=")
                shell_env[name] = value.strip()
        return [], cwd
    if program in ("exec", "nohup", "command", "builtin", "nice", "caffeinate", "sudo", "xvfb-run"):
        rest = _skip_options(args, set())
        return _simple(rest, cwd, env, text, ctx, depth, script) if rest else ([], cwd)

    inner = _unwrap(program, args, cwd, env, text, ctx, depth, script)
    if inner is not None:
        return inner, cwd
    # Command.env holds only what the scripts set; the caller's own environment is not in it.
    command = Command(tuple(words), cwd, env, text)
    then = ctx.wrappers.inner_command(command) if ctx.wrappers is not None else None
    if then is None:
        return [command], cwd
    return [command, *_shell(then, cwd, env, ctx, depth + 1, script)], cwd


def _unwrap(program: str, args: List[str], cwd: str, env: Dict[str, str], text: str,
            ctx: _Context, depth: int, script: Optional[str]) -> Optional[List[Command]]:
    """The commands a wrapper starts, or None when `program` is not a known wrapper."""
    sub = depth + 1
    if program in ("npx", "pnpx", "bunx"):
        return _exec_package(args, cwd, env, text, ctx, sub)
    if program == "npm":
        return _npm(args, cwd, env, text, ctx, sub)
    if program in ("yarn", "pnpm", "bun"):
        return _pm(program, args, cwd, env, text, ctx, sub)
    if program in ("cross-env", "cross-env-shell", "env"):
        rest = list(args)
        while rest and (rest[0].startswith("-") or _ASSIGNMENT.match(rest[0])):
            word = rest.pop(0)
            if word in ("-u", "--unset", "-C", "--chdir", "-S"):
                if rest:
                    value = rest.pop(0)
                    if word in ("-C", "--chdir"):
                        cwd = _cd(cwd, [value])
                continue
            if _ASSIGNMENT.match(word):
                name, _, value = word.partition("=")
                env[name] = value
        if program == "cross-env-shell" and rest:
            return _shell(" ".join(rest), cwd, env, ctx, sub, script)
        return _simple(rest, cwd, env, text, ctx, sub, script)[0] if rest else []
    if program in ("dotenv", "env-cmd", "dotenvx"):
        rest = list(args)
        if program == "dotenvx" and rest and rest[0] == "run":
            rest.pop(0)
        if "--" in rest:
            rest = rest[rest.index("--") + 1:]
        else:
            rest = _skip_options(rest, {"-e", "-f", "--file", "-v", "-c", "-p", "--env-file", "-r",
                                        "--environments", "--path"})
        return _simple(rest, cwd, env, text, ctx, sub, script)[0] if rest else []
    if program == "devlint" or (program.startswith("python") and args[:2] == ["-m", "devlint"]):
        rest = args[2:] if program.startswith("python") else list(args)
        rest = _skip_options(rest, RUN_VALUE_OPTIONS)
        if rest and rest[0] == "run":
            rest = rest[1:]
            rest = rest[rest.index("--") + 1:] if "--" in rest else _skip_options(rest, RUN_VALUE_OPTIONS)
            return _simple(rest, cwd, env, text, ctx, sub, script)[0] if rest else []
        return None
    if program in ("sh", "bash", "zsh", "dash") and "-c" in args:
        index = args.index("-c")
        return _shell(args[index + 1], cwd, env, ctx, sub, script) if index + 1 < len(args) else []
    if program == "concurrently":
        return _concurrently(args, cwd, env, ctx, sub)
    if program in ("npm-run-all", "npm-run-all2", "run-p", "run-s"):
        return _run_all(args, cwd, env, ctx, sub)
    if program == "run-script-os":
        return _run_script_os(cwd, env, ctx, sub, script)
    if program in ("poetry", "pipenv", "pdm", "hatch", "rye") and args and args[0] == "run":
        rest = _skip_options(args[1:], {"-e", "--env"})
        return _simple(rest, cwd, env, text, ctx, sub, script)[0] if rest else []
    if program == "uv" and args and args[0] == "run":
        rest, directory = _skip_options_capture(args[1:], _UV_VALUE_OPTS, "--directory")
        new_cwd = _cd(cwd, [directory]) if directory else cwd
        return _simple(rest, new_cwd, env, text, ctx, sub, script)[0] if rest else []
    if program == "node" and args:
        rest = _skip_options(args, {"-r", "--require", "--import", "--loader", "--env-file"})
        if rest and ("node_modules" in rest[0].replace("\\", "/")):
            return _simple(rest, cwd, env, text, ctx, sub, script)[0]
        return None
    return None


# -- package managers -----------------------------------------------------------------

def _exec_package(args: List[str], cwd: str, env: Dict[str, str], text: str, ctx: _Context,
                  depth: int) -> List[Command]:
    """npx / npm exec / pnpm dlx: the package's binary with the rest of the words."""
    rest = list(args)
    packages: List[str] = []
    while rest and rest[0].startswith("-") and rest[0] != "--":
        word = rest.pop(0)
        name, has_value, value = word.partition("=")
        if name in ("-c", "--call"):
            call = value if has_value else (rest.pop(0) if rest else "")
            return _shell(call, cwd, env, ctx, depth, None)
        if name in ("-p", "--package"):
            packages.append(value if has_value else (rest.pop(0) if rest else ""))
        elif name in _NPX_VALUE_OPTS and not has_value and rest:
            rest.pop(0)
    if rest and rest[0] == "--":
        rest.pop(0)
    if not rest:
        return []
    rest[0] = _binary_of(rest[0], ctx.wrappers)
    return _simple(rest, cwd, env, text, ctx, depth, None)[0]


def _binary_of(spec: str, wrappers: Optional[Wrappers]) -> str:
    """`@angular/cli@17` → ng (when a plugin says so), `vite@5` → vite, `@scope/x` → x."""
    if spec.startswith((".", "/")) or "\\" in spec:
        return spec  # a path, not a package spec
    name = spec
    at = spec.find("@", 1)
    if at > 0:
        name = spec[:at]
    known = wrappers.package_binary(name) if wrappers is not None else None
    return known or (name.rsplit("/", 1)[-1] if name.startswith("@") else name)


def _npm(args: List[str], cwd: str, env: Dict[str, str], text: str, ctx: _Context,
         depth: int) -> List[Command]:
    rest = list(args)
    while rest and rest[0].startswith("-"):
        word = rest.pop(0)
        name, has_value, value = word.partition("=")
        if name in ("--prefix", "-C") and (has_value or rest):
            cwd = _cd(cwd, [value if has_value else rest.pop(0)])
        elif name in _PM_VALUE_OPTS and not has_value and rest:
            rest.pop(0)
    if not rest:
        return []
    sub, rest = rest[0], rest[1:]
    if sub in _NPM_EXEC:
        return _exec_package(rest, cwd, env, text, ctx, depth)
    if sub in _NPM_RUN:
        names = [w for w in rest if not w.startswith("-")]
        if not names:
            return []  # `npm run` alone lists the scripts
        name = names[0]
        return _script(name, _npm_passed(rest[rest.index(name) + 1:]), cwd, env, ctx, depth)
    if sub in _NPM_LIFECYCLE:
        return _script(_NPM_LIFECYCLE[sub], _npm_passed(rest), cwd, env, ctx, depth,
                       npm_start=sub == "start")
    return []


def _npm_passed(rest: List[str]) -> List[str]:
    """The words npm hands to the script: everything after `--`, and bare words before it
    (npm ≥ 7); `--flag` words before `--` are npm's own config."""
    if "--" in rest:
        before, after = rest[:rest.index("--")], rest[rest.index("--") + 1:]
    else:
        before, after = rest, []
    return [w for w in before if not w.startswith("-")] + after


def _pm(program: str, args: List[str], cwd: str, env: Dict[str, str], text: str, ctx: _Context,
        depth: int) -> List[Command]:
    """yarn / pnpm / bun: `X run S`, `X S` (a script, else a binary), `X exec|dlx B`."""
    rest = list(args)
    while rest and rest[0].startswith("-"):
        word = rest.pop(0)
        name, has_value, value = word.partition("=")
        if name in ("--cwd", "--prefix", "-C", "--dir") and (has_value or rest):
            cwd = _cd(cwd, [value if has_value else rest.pop(0)])
        elif name in _PM_VALUE_OPTS and not has_value and rest:
            rest.pop(0)
    if not rest:
        return []  # a bare `yarn` installs
    sub, rest = rest[0], rest[1:]
    if sub in ("exec", "dlx", "x"):
        return _exec_package(rest, cwd, env, text, ctx, depth)
    if sub in ("run", "run-script"):
        rest = _skip_options(rest, set())
        if not rest:
            return []
        sub, rest = rest[0], rest[1:]
        return _script_or_binary(sub, rest, cwd, env, text, ctx, depth)
    if sub in _PM_BUILTINS:
        return []
    return _script_or_binary(sub, rest, cwd, env, text, ctx, depth)


def _script_or_binary(name: str, args: List[str], cwd: str, env: Dict[str, str], text: str,
                      ctx: _Context, depth: int) -> List[Command]:
    found = _package(ctx, cwd)
    passed = args[1:] if args[:1] == ["--"] else args
    if found is not None and name in found[1]:
        return _script(name, passed, cwd, env, ctx, depth)
    return _simple([name, *passed], cwd, env, text, ctx, depth, None)[0]


def _script(name: str, passed: Sequence[str], cwd: str, env: Dict[str, str], ctx: _Context,
            depth: int, npm_start: bool = False) -> List[Command]:
    """The commands of package.json script `name` (from the package.json npm would use),
    with the extra words appended the way npm appends them to the script's text."""
    if depth > MAX_DEPTH:
        _too_deep(ctx, cwd, name, depth, f"npm run {name}")
        return []
    found = _package(ctx, cwd)
    if found is None:
        return []
    directory, scripts = found
    body = scripts.get(name)
    if body is None:
        if npm_start and ctx.project.exists("server.js", directory):
            return [Command(("node", "server.js"), directory, dict(env), "node server.js")]
        return []
    key = (directory, name)
    if key in ctx.active:
        return []  # a script that calls itself
    if passed:
        body = body + " " + _join(passed)
    ctx.active.append(key)
    try:
        return _shell(body, directory, env, ctx, depth + 1, name)
    finally:
        ctx.active.pop()


def _package(ctx: _Context, cwd: str) -> Optional[Tuple[str, Dict[str, str]]]:
    """(folder, scripts) of the package.json npm would use from cwd: the nearest one at or
    above cwd, not above the project root. None when there is none or it is broken."""
    import json

    from devlint.project import FileProblem

    folder = cwd
    while True:
        if folder in ctx.packages:
            cached = ctx.packages[folder]
            if cached is not None:
                return cached
        else:
            try:
                text = ctx.project.read_text("package.json", folder)
            except FileProblem as problem:  # npm may well read it: say that devlint could not
                _unreadable(ctx, _shown(ctx, folder), problem.line, problem.reason)
                ctx.packages[folder] = None
                return None
            if text is not None:
                ctx.texts[folder] = text
                try:
                    data = json.loads(text)
                except ValueError as exc:  # npm stops too ("JSON.parse ..."): still say why
                    where = _shown(ctx, folder)
                    _unreadable(ctx, where, getattr(exc, "lineno", None),
                                f"is not valid JSON ({getattr(exc, 'msg', exc)})")
                    data = None
                except RecursionError:  # nested too deep for json
                    _unreadable(ctx, _shown(ctx, folder), None, "is nested too deeply to read")
                    data = None
                scripts = data.get("scripts") if isinstance(data, dict) else None
                clean = {str(k): v for k, v in scripts.items() if isinstance(v, str)} \
                    if isinstance(scripts, dict) else {}
                result = (folder, clean) if isinstance(data, dict) else None
                ctx.packages[folder] = result
                return result
            ctx.packages[folder] = None
        if folder in (".", "/") or folder.startswith("..") or posixpath.isabs(folder):
            return None
        folder = posixpath.dirname(folder) or "."


def _shown(ctx: _Context, folder: str) -> str:
    """The package.json of a folder (relative to the project root) as messages name it."""
    return ctx.project.display(ctx.project.path("package.json", folder))


def _unreadable(ctx: _Context, path: str, line: Optional[int], reason: str) -> None:
    """DL301: a package.json that is there but cannot be read; path as messages show it."""
    where = f"{path}:{line}" if line else path
    ctx.problems.append(RULES(
        CODE_UNREADABLE,
        f"{where} {reason}, so devlint cannot read its scripts: what they start is not checked",
        hint="Make it a readable UTF-8 JSON file (a regular file, at most 4 MB), or declare the "
             "services in devlint.toml so their ports are checked.",
        evidence={"file": path, "line": line, "reason": reason}))


def _too_deep(ctx: _Context, cwd: str, script: Optional[str], depth: int, text: str) -> None:
    """DL302: devlint stopped following nested scripts at `depth` (once per script)."""
    found = _package(ctx, cwd) if script else None
    shown = _shown(ctx, found[0]) if found else ""
    line = _script_line(ctx, found[0], script) if found and script else None
    short = " ".join(text.split())
    short = short if len(short) <= 80 else short[:77] + "..."
    what = f"{shown}{f':{line}' if line else ''} scripts.{script}" if found else f"`{short}`"
    message = (f"{what}: devlint stopped following npm scripts at depth {depth} (scripts calling scripts, "
               f"more than {MAX_DEPTH} levels with wrappers); what it starts is not checked")
    if any(seen.message == message for seen in ctx.problems):
        return
    ctx.problems.append(RULES(
        CODE_TOO_DEEP, message,
        hint="Call the server's script directly (fewer `npm run` levels), or declare the service "
             "in devlint.toml so its port is checked.",
        evidence={"file": shown or None, "line": line, "script": script or short, "depth": depth}))


def _script_line(ctx: _Context, folder: str, name: str) -> Optional[int]:
    """The line of scripts.NAME in a folder's package.json (read only to name it)."""
    from devlint.readers.jsonc import JsoncError, loads

    try:
        return loads(ctx.texts.get(folder, "")).line("scripts", name)
    except (JsoncError, RecursionError):
        return None


# -- parallel runners -----------------------------------------------------------------

def _concurrently(args: List[str], cwd: str, env: Dict[str, str], ctx: _Context,
                  depth: int) -> List[Command]:
    """`concurrently "a" "b"`: each quoted argument is a shell command; `npm:x` runs script x."""
    commands: List[Command] = []
    i = 0
    while i < len(args):
        word = args[i]
        if word.startswith("-"):
            name, has_value, value = word.partition("=")
            if name == "--cwd" and (has_value or i + 1 < len(args)):
                cwd = _cd(cwd, [value if has_value else args[i + 1]])
            if name in _CONCURRENTLY_VALUE_OPTS and not has_value:
                i += 1
            i += 1
            continue
        match = re.match(r"^(npm|yarn|pnpm|bun):(.+)$", word)
        if match:
            script_name, _, extra = match.group(2).partition(" ")
            for found in _matching_scripts(ctx, cwd, script_name):
                commands.extend(_script(found, extra.split(), cwd, env, ctx, depth))
        else:
            commands.extend(_shell(word, cwd, env, ctx, depth, None))
        i += 1
    return commands


def _run_all(args: List[str], cwd: str, env: Dict[str, str], ctx: _Context,
             depth: int) -> List[Command]:
    """npm-run-all / run-p / run-s: each named (or glob-matched) script of package.json."""
    commands: List[Command] = []
    i = 0
    while i < len(args):
        word = args[i]
        if word == "--":
            break  # the rest are arguments for `{1}` placeholders
        if word.startswith("-"):
            name = word.partition("=")[0]
            if name in ("--npm-path", "--max-parallel") and "=" not in word:
                i += 1
            i += 1
            continue
        pattern, _, extra = word.partition(" ")
        for found in _matching_scripts(ctx, cwd, pattern):
            commands.extend(_script(found, extra.split() if extra else [], cwd, env, ctx, depth))
        i += 1
    return commands


def _matching_scripts(ctx: _Context, cwd: str, pattern: str) -> List[str]:
    """Script names matching an npm-run-all glob (`build:*`, `watch:**`), in file order."""
    found = _package(ctx, cwd)
    if found is None:
        return []
    scripts = found[1]
    if not any(c in pattern for c in "*?"):
        return [pattern] if pattern in scripts else []
    globs = {"**": ".*", "*": "[^:]*", "?": "[^:]"}
    regex = "".join(globs.get(part, re.escape(part)) for part in re.split(r"(\*\*|\*|\?)", pattern))
    return [name for name in scripts if re.fullmatch(regex, name)]


def _run_script_os(cwd: str, env: Dict[str, str], ctx: _Context, depth: int,
                   script: Optional[str]) -> List[Command]:
    """run-script-os runs `<script>:<platform>`, else `:nix` off Windows, else `:default`."""
    if not script:
        return []
    found = _package(ctx, cwd)
    if found is None:
        return []
    platform = ctx.project.platform
    if platform.startswith("win"):
        suffixes = ["win32", "windows"]
    elif platform == "darwin":
        suffixes = ["darwin", "macos", "nix"]
    else:
        suffixes = [platform.rstrip("0123456789"), "nix"]
    for suffix in [*suffixes, "default"]:
        name = f"{script}:{suffix}"
        if name in found[1]:
            return _script(name, [], cwd, env, ctx, depth)
    return []


# -- helpers ------------------------------------------------------------------------------

def _program(word: str) -> str:
    """A command word as a name: `node_modules/.bin/npx.cmd` → npx (paths to known tools)."""
    base = word.replace("\\", "/").rsplit("/", 1)[-1]
    lower = base.lower()
    for suffix in (".cmd", ".exe", ".ps1", ".bat", ".js"):
        if lower.endswith(suffix):
            lower = lower[: -len(suffix)]
    return lower


def _cd(cwd: str, args: List[str]) -> str:
    """The folder after `cd ARGS`; unchanged when the target cannot be known statically."""
    targets = [a for a in args if not (a.startswith("-") and len(a) > 1) and a.lower() != "/d"]
    if not targets:
        return cwd
    target = targets[0].replace("\\", "/")
    if target.startswith(("~", "$", "`")) or "$" in target or target == "-":
        return cwd
    if target.startswith("/") or re.match(r"^[A-Za-z]:/", target):
        return target
    return _norm(posixpath.join(cwd, target))


def _norm(path: str) -> str:
    path = (path or ".").replace("\\", "/")
    return posixpath.normpath(path) if path else "."


def _skip_options(words: List[str], value_opts: AbstractSet[str]) -> List[str]:
    return _skip_options_capture(words, value_opts, None)[0]


def _skip_options_capture(words: List[str], value_opts: AbstractSet[str],
                          capture: Optional[str]) -> Tuple[List[str], Optional[str]]:
    """Leading options removed (and those in value_opts with their value); `--` ends them.
    Returns the rest and the value of the option named `capture`, if given."""
    rest = list(words)
    captured: Optional[str] = None
    while rest and rest[0].startswith("-") and rest[0] != "-":
        word = rest.pop(0)
        if word == "--":
            break
        name, has_value, value = word.partition("=")
        if name in value_opts and not has_value and rest:
            value = rest.pop(0)
            has_value = "="
        if capture and name == capture and has_value:
            captured = value
    return rest, captured


def _join(words: Sequence[str]) -> str:
    import shlex

    return " ".join(w if re.fullmatch(r"[\w@%+=:,./\\-]+", w) else shlex.quote(w) for w in words)
