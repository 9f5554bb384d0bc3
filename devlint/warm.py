"""The console script's entry, and what every start of devlint decides before the full CLI.

**The pre-check.** Most runs of devlint are a dev server restarted with nothing changed.
Then the plan is in the cache (cache.py) and nothing listens on the stack's ports, so the
answer is "clear" without the data model, argparse, pluggy or any plugin. ``precheck`` is the
pipeline's first steps (pipeline.py) with the plan read from the cache: it decides with
``os``, ``sys``, ``marshal`` and one netlink query (sockets/netlink.py), then execs the
command, or prints the summary line `check` would print (stored with the plan; without
colour: with colour `check` takes the full path). Anything else goes to the full CLI
(cli.py), which decides the same thing the long way: another sub-command or any option,
DEVLINT_NO_CACHE, no usable cached plan, a platform without netlink, or a socket on one of
the ports. The rows the query found are handed to the CLI's main, whose snapshot uses them,
so the run still asks the kernel once. A command that cannot be exec'd also goes to the
CLI, which reports it.

**What both paths share**, written once here so that they cannot disagree:

- ``Request``: what was asked (working folder, the command of `run`, the services named,
  --config, --strict, -p). One frozen value; ``Request.key()`` is the plan cache's key.
- ``run_command``: the plain `devlint run -- CMD` form, the argv the pre-check answers and
  the CLI reads without argparse; ``RUN_VALUE_OPTIONS``, the options of `devlint run` that
  take a value (how npm scripts that call devlint are read).
- ``colour``: the colour rule (--color, NO_COLOR, FORCE_COLOR, a terminal, TERM=dumb).
- ``guarded``: how an invocation ends: Ctrl-C (130), SIGTERM (143), a user mistake as one
  line (the CLI says which errors are mistakes), and standard streams that do not work:
  closed at start (`2>&-`: sys.stderr is None; messages go nowhere and the command is still
  exec'd), a full disk (74, one line) or a closed pipe (141, quiet), through ``Output``.
- ``visible``: control characters of text devlint did not write, shown as escapes.
- ``UsageError`` and ``working_dir``.

Hand-kept light: every `devlint` start runs this module before it knows whether the cached
plan answers, and that path costs about 1.7 times a bare `python -c pass`. So it imports
only ``os`` and ``sys`` (one module, not two: each import is ≈ 0.2 ms here): no
``typing``, no ``dataclasses`` (with ``inspect``), no data model, each worth milliseconds.
That is why Request is a small class written by hand instead of a frozen dataclass, and
why type names are imported for the type checker only (tests/test_warm.py checks what the
warm path imports).
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # not typing's: see above
if TYPE_CHECKING:
    from typing import Callable, Dict, FrozenSet, List, Mapping, NoReturn, Optional, Sequence, TextIO, Tuple, Union

    from devlint.sockets.netlink import RawSocket

    Key = Tuple[str, Optional[Tuple[str, ...]], Tuple[str, ...], Optional[str], bool, Tuple[str, ...]]
    # The warm pre-check's one netlink query, handed to the CLI: (ports asked about, rows: netlink.listening).
    Scanned = Tuple[FrozenSet[int], List[RawSocket]]
    Classify = Callable[[Exception], Tuple[int, Optional[str]]]

# The options of `devlint [OPTIONS] run [OPTIONS] -- CMD` that take a value: how an npm script
# that calls devlint is read (commands.py). tests/test_cli.py checks the parser agrees.
RUN_VALUE_OPTIONS = frozenset({"--config", "--format", "--color", "-p", "--service", "--wait"})

INTERRUPTED = 130  # model.ExitCode.INTERRUPTED (128 + SIGINT), as a shell reports Ctrl-C
TERMINATED = 143  # model.ExitCode.TERMINATED (128 + SIGTERM)


class UsageError(Exception):
    """The command line asks for something that does not exist (exit 2)."""


class Terminated(BaseException):
    """SIGTERM arrived while devlint was still deciding (see ``end_quietly_on_sigterm``)."""


class Request:
    """What the user asked for, as far as planning is concerned; also the plan cache's key.

    cwd: the working folder (a str; a Path is accepted). argv: the command of `devlint run`
    (None for the other sub-commands). names: services named on the command line.
    config: --config. strict: --strict. plugin_flags: each -p as typed (``no:flask``).
    Frozen, compared and hashed by ``key()``. The environment is not part of it: a plan
    records the variables it read and is checked against them (cache.py).
    """

    __slots__ = ("argv", "config", "cwd", "names", "plugin_flags", "strict")

    cwd: str
    argv: Optional[Tuple[str, ...]]
    names: Tuple[str, ...]
    config: Optional[str]
    strict: bool
    plugin_flags: Tuple[str, ...]

    def __init__(self, cwd: Union[str, os.PathLike[str]], argv: Optional[Sequence[str]] = None,
                 names: Sequence[str] = (), config: Optional[str] = None, strict: bool = False,
                 plugin_flags: Sequence[str] = ()) -> None:
        init = object.__setattr__
        init(self, "cwd", os.fspath(cwd))
        init(self, "argv", None if argv is None else tuple(argv))
        init(self, "names", tuple(names))
        init(self, "config", config)
        init(self, "strict", bool(strict))
        init(self, "plugin_flags", tuple(plugin_flags))

    def key(self) -> Key:
        """Every field, as plain data (marshal-able): the cache file's name is a hash of it,
        and the file records it to be compared again on load."""
        return (self.cwd, self.argv, self.names, self.config, self.strict, self.plugin_flags)

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise AttributeError(f"Request is frozen: cannot set {name}")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Request) and self.key() == other.key()

    def __hash__(self) -> int:
        return hash(self.key())

    def __repr__(self) -> str:
        names = ("cwd", "argv", "names", "config", "strict", "plugin_flags")  # the order of key()
        return "Request(" + ", ".join(f"{name}={value!r}" for name, value in zip(names, self.key())) + ")"


def working_dir() -> str:
    """The working folder; UsageError when it was removed (or cannot be read)."""
    try:
        return os.getcwd()
    except OSError as exc:
        raise UsageError(f"the working directory cannot be read ({exc.strerror or exc}); cd to a folder "
                         "that exists") from None


def run_command(argv: Sequence[str]) -> Optional[List[str]]:
    """The command of `devlint run -- CMD ...`, else None (any other sub-command, or an
    option before `--`). Nothing after `--` is an option, so in this form every option has
    its default: the warm path answers it, and the CLI reads it without argparse."""
    if len(argv) < 3 or argv[0] != "run" or argv[1] != "--":
        return None
    return list(argv[2:])


def colour(mode: str, stream: object, env: Mapping[str, str]) -> bool:
    """Whether to colour `stream`: --color always/never as given; "auto": not with NO_COLOR
    set (any value), then yes with FORCE_COLOR set (not "0"), else only on a terminal whose
    TERM is not "dumb"."""
    if mode != "auto":
        return mode == "always"
    if env.get("NO_COLOR"):
        return False
    if env.get("FORCE_COLOR") not in (None, "", "0"):
        return True
    return isatty(stream) and env.get("TERM") != "dumb"


def isatty(stream: object) -> bool:
    """stream.isatty(), False for a closed stream or one without it."""
    try:
        return bool(stream.isatty())  # type: ignore[attr-defined]
    except (AttributeError, ValueError):
        return False


def end_quietly_on_sigterm() -> None:
    """SIGTERM while devlint decides raises Terminated: ``guarded`` ends with 143 (128+15),
    as a shell would report, without a traceback. Left alone when the caller ignores
    SIGTERM, so the command inherits that; exec resets a handler, never an ignore."""
    import _signal as signal  # type: ignore[import-not-found]  # signal.py builds enums (≈ 0.5 ms)

    if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        def handler(signum: int, frame: object) -> None:
            raise Terminated()

        signal.signal(signal.SIGTERM, handler)


def guarded(body: Callable[[], int], classify: Optional[Classify] = None) -> int:
    """Run one invocation and return its exit code. Ctrl-C: "devlint: interrupted", 130.
    Terminated: 143. An exception ``classify`` maps to (code, message): "devlint: message"
    and that code; (code, None) or no ``classify``: the exception propagates (a bug).

    While it runs, sys.stdout and sys.stderr are ``Output`` streams: a closed descriptor
    (None) writes nowhere, an error writing stderr is dropped, and one writing stdout ends
    the invocation with ``output_failed``'s code (141 for a closed pipe, quietly; 74 with
    one line on stderr for a full disk or an I/O error). stdout is flushed before the code
    is returned, so an error the buffer was hiding is seen here, not at interpreter exit.
    """
    saved = sys.stdout, sys.stderr
    if not isinstance(saved[0], Output):  # the outer call (warm.main, then cli.main) wraps once
        sys.stdout, sys.stderr = Output(saved[0], strict=True), Output(saved[1], strict=False)
    try:
        try:
            code = _outcome(body, classify)
        except SystemExit:  # argparse's --help, --version and usage errors
            failed = _flushed()
            if failed is not None:
                return failed
            raise
        failed = _flushed()
        return code if failed is None else failed
    finally:
        sys.stdout, sys.stderr = saved


def _outcome(body: Callable[[], int], classify: Optional[Classify]) -> int:
    try:
        return body()
    except KeyboardInterrupt:
        print("devlint: interrupted", file=sys.stderr)
        return INTERRUPTED
    except Terminated:
        return TERMINATED
    except OutputError as exc:
        return output_failed(exc)
    except Exception as exc:
        code, message = classify(exc) if classify is not None else (0, None)
        if message is None:
            raise
        print(f"devlint: {visible(message)}", file=sys.stderr)  # it may quote a file's text
        return code


def _flushed() -> Optional[int]:
    """Flush stdout: None when it worked, else output_failed's exit code."""
    try:
        sys.stdout.flush()
    except OutputError as exc:
        return output_failed(exc)
    return None


# -- text from files and other processes, shown on a terminal ---------------------

_SHOWN: Dict[int, str] = {}  # filled on first use: code point → its escape


def visible(text: str) -> str:
    """text with every character that could move the cursor, recolour or rewrite a terminal
    line shown as an escape instead: C0 and C1 controls and DEL (ESC → ``\\x1b``, CR →
    ``\\r``, LF → ``\\n``, tab → ``\\t``), the Unicode line separators and the bidirectional
    overrides and isolates (U+202E → ``\\u202e``). Everything else, backslashes included, is
    left as it is. For text devlint did not write (values from project files, process names,
    HTTP headers); devlint's own newlines and colours are added after it."""
    if not _SHOWN:
        names = {9: "\\t", 10: "\\n", 13: "\\r"}
        for code in [*range(0x20), *range(0x7F, 0xA0)]:
            _SHOWN[code] = names.get(code, f"\\x{code:02x}")
        for code in [0x61C, 0x200E, 0x200F, 0x2028, 0x2029, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]:
            _SHOWN[code] = f"\\u{code:04x}"
    return text.translate(_SHOWN)


# -- standard streams that may be closed, full or a closed pipe -----------------

OUTPUT_FAILED = 74  # EX_IOERR of sysexits.h: the output could not be written
BROKEN_PIPE = 141  # 128 + SIGPIPE: what a shell reports for `ls | head` (ls killed by SIGPIPE)


class OutputError(Exception):
    """Writing stdout failed; ``error`` is the OSError (ENOSPC, EIO, EPIPE...). Not an
    OSError itself, so no `except OSError` around file reading can swallow it."""

    def __init__(self, error: OSError) -> None:
        super().__init__(error.strerror or str(error))
        self.error = error


class Output:
    """sys.stdout or sys.stderr as devlint writes to them (see ``guarded``).

    stream: the interpreter's stream, None when the descriptor was closed at start-up
    (`2>&-`): then everything written goes nowhere. strict (stdout): an OSError while
    writing or flushing is raised as OutputError; otherwise (stderr) it is dropped, as
    there is nowhere left to say it. Other attributes are the stream's own.
    """

    def __init__(self, stream: Optional[TextIO], strict: bool) -> None:
        self.stream = stream
        self.strict = strict

    def write(self, text: str) -> int:
        if self.stream is not None:
            try:
                return self.stream.write(text)
            except OSError as exc:
                if self.strict:
                    raise OutputError(exc) from None
        return len(text)

    def flush(self) -> None:
        if self.stream is not None:
            try:
                self.stream.flush()
            except OSError as exc:
                if self.strict:
                    raise OutputError(exc) from None

    def isatty(self) -> bool:
        return isatty(self.stream)

    def fileno(self) -> int:
        if self.stream is None:
            raise ValueError("the descriptor was closed when devlint started")
        return self.stream.fileno()

    def __getattr__(self, name: str) -> object:
        return getattr(self.stream, name)


def output_failed(exc: OutputError) -> int:
    """The exit code for a stdout that cannot be written, after pointing file descriptor 1
    at /dev/null, so the interpreter's last flush at exit cannot fail again (the recipe of
    Python's signal module docs, "Note on SIGPIPE"). A closed pipe (`| head`): quiet, 141,
    as a shell reports a command killed by SIGPIPE. Anything else (a full disk, EIO): one
    line on stderr, 74."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)
    except (OSError, ValueError, AttributeError):
        pass  # no descriptor behind it (a test's captured stream): nothing to flush at exit
    if isinstance(exc.error, BrokenPipeError):
        return BROKEN_PIPE
    print(f"devlint: cannot write the output ({exc}); nothing more was written", file=sys.stderr)
    return OUTPUT_FAILED


# -- the pre-check ------------------------------------------------------------

def main() -> int:
    """`devlint` as installed: the warm pre-check, else the full CLI."""
    argv = sys.argv[1:]
    return guarded(lambda: _main(argv, os.environ))


def _main(argv: List[str], env: Mapping[str, str]) -> int:
    code, scanned = precheck(argv, env)
    if code is not None:
        return code
    from devlint.cli import main as full

    return full(argv, scanned)


def precheck(argv: Sequence[str], env: Mapping[str, str]) -> Tuple[Optional[int], Optional[Scanned]]:
    """(exit code, None) when answered: the command exec'd (`run -- CMD`) or the summary
    printed (`check`), because the cached plan is clear and nothing listens on its ports.
    Else (None, what netlink returned, if it was asked): the full CLI takes over."""
    request = _plain_request(argv, env)
    if request is None:
        return None, None
    from devlint import cache

    found = cache.clear(request, env)
    if found is None:
        return None, None
    ports, summary, binds, binds_v6_loopback = found
    rows = _listening(frozenset(ports))
    if rows is None:
        return None, None
    scanned = (frozenset(ports), rows)
    if rows or not _bindable(binds) or (binds_v6_loopback and not _has_v6_loopback()):
        return None, scanned
    if request.argv is None:
        print(summary)
        return 0, None
    from devlint.launch import LaunchError, execute

    try:
        return execute(list(request.argv)), None
    except LaunchError:
        return None, scanned  # the CLI says why, with the same exit code as without a cache


def _plain_request(argv: Sequence[str], env: Mapping[str, str]) -> Optional[Request]:
    """The request of a plain `devlint run -- CMD` or `devlint check`, as the CLI would make
    it; None for anything the pre-check does not answer."""
    if env.get("DEVLINT_NO_CACHE") or not sys.platform.startswith("linux"):
        return None
    command = run_command(argv)
    if command is None and (list(argv) != ["check"] or colour("auto", sys.stdout, env)):
        return None  # with colour, `check` takes the full path (the cached line is plain)
    try:
        return Request(working_dir(), command)
    except UsageError:  # the working directory was removed: the CLI says so
        return None


def _has_v6_loopback() -> bool:
    """Whether ::1 exists here (sockets.linux.loopbacks): a server binding it can start."""
    from devlint.sockets.linux import loopbacks

    return "::1" in loopbacks()


def _bindable(binds: Optional[Sequence[Tuple[str, int]]]) -> bool:
    """Whether the servers' binds would succeed where netlink cannot list sockets bound
    without listening (Linux < 6.5): a bind probe of each, as the servers bind
    (suggest.bind_refused). True at once where the kernel lists them (binds None there)."""
    from devlint.sockets.netlink import lists_bound

    if lists_bound():
        return True
    if binds is None:
        return False
    from devlint.suggest import bind_refused

    return all(bind_refused(address, port) is False for address, port in binds)


def _listening(ports: frozenset[int]) -> Optional[List[RawSocket]]:
    """The rows on these ports a server's bind must respect (netlink.listening); None when
    netlink cannot tell."""
    if not ports:
        return []
    from devlint.sockets import netlink

    try:
        return netlink.listening(ports)
    except netlink.Unavailable:
        return None


__all__ = ["BROKEN_PIPE", "OUTPUT_FAILED", "RUN_VALUE_OPTIONS", "Output", "OutputError", "Request", "Terminated",
           "UsageError", "colour", "end_quietly_on_sigterm", "guarded", "isatty", "main", "output_failed",
           "precheck", "run_command", "visible", "working_dir"]
