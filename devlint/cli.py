"""Command line: argparse, dispatch, what to print, and one error handler for exit codes.

The work is the pipeline's (pipeline.py: request → plan → snapshot → verdicts → findings);
here each sub-command asks it for what its options say and renders the answer (report.py).
A clear `devlint run -- CMD` or `devlint check` on an unchanged project never gets here:
warm.py (the console script's entry) answers it from the cached plan and one netlink query,
and hands what that query found to ``main``. Here, the run path is still kept lean: with an
unchanged project it loads the cached plan, takes one socket snapshot and execs, without
importing argparse, pluggy, tomllib or colorama. Everything else is imported where it is
needed.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, cast

from devlint import __version__, pipeline
from devlint.model import ExitCode, Finding
from devlint.warm import UsageError, end_quietly_on_sigterm, guarded, isatty, run_command, visible, working_dir

if TYPE_CHECKING:
    import argparse

    from devlint.checks import Explain
    from devlint.model import Listener
    from devlint.pipeline import Checked
    from devlint.plan import Plan
    from devlint.report import Style
    from devlint.warm import Request, Scanned


EPILOG = """\
exit codes:
  0    clear (check), or the command's own exit code (run)
  1    errors found; the command was not started
  2    usage or configuration error (the message names file, line and key)
  74   the output could not be written (a full disk, an I/O error)
  126  the command is not executable;  127  the command was not found
  130  interrupted (Ctrl-C);  141  the output pipe was closed (| head);  143  terminated (SIGTERM)

Start devlint as `devlint` (the installed command). `python -m devlint` lets Python import a
few standard modules from the working directory first (a project's functools.py); devlint
then refuses to run: use `python -P -m devlint` (Python 3.11+) or `python -I -m devlint`.
"""


def _options(top: bool) -> argparse.ArgumentParser:
    """Options accepted before and after the sub-command. After it they default to
    SUPPRESS, so `devlint --format json check` is not reset by check's own defaults."""
    import argparse

    def default(value: Any) -> Any:
        return value if top else argparse.SUPPRESS

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", metavar="PATH", default=default(None),
                        help="use this devlint.toml (or pyproject.toml)")
    common.add_argument("--format", choices=("text", "json"), default=default("text"), help="output format")
    common.add_argument("--color", choices=("auto", "always", "never"), default=default("auto"),
                        help="colour output (default: auto; NO_COLOR and FORCE_COLOR are honoured)")
    common.add_argument("-p", dest="plugin_flags", action="append", default=default([]), metavar="no:NAME",
                        help="disable a plugin (also DEVLINT_DISABLE_PLUGINS=a,b)")
    common.add_argument("--strict", action="store_true", default=default(False),
                        help="unknown config keys are errors")
    common.add_argument("--no-cache", action="store_true", default=default(False),
                        help="do not read or write the plan cache")
    return common


def _parser() -> argparse.ArgumentParser:
    import argparse

    common = _options(top=False)
    parser = argparse.ArgumentParser(
        prog="devlint", description="Check every port of your dev stack on IPv4 and IPv6 before it starts.",
        parents=[_options(top=True)], epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"devlint {__version__}")
    sub = parser.add_subparsers(dest="action", metavar="COMMAND")

    run = sub.add_parser("run", parents=[common], help="check, then exec the command (devlint run -- flask run)")
    run.add_argument("--service", action="append", default=[], metavar="NAME",
                     help="check these services (default: what the command starts, else all)")
    run.add_argument("--wait", type=float, metavar="SECONDS", default=0,
                     help="when ports are held, wait up to SECONDS for them to be released")
    run.add_argument("--kill", action="store_true",
                     help="offer to stop a stale dev server of your own that holds a port")
    run.add_argument("--yes", action="store_true", help="with --kill: stop without asking")
    run.add_argument("command", nargs=argparse.REMAINDER, help="-- the command to run")

    check = sub.add_parser("check", parents=[common], help="check the services; exit 1 on errors")
    check.add_argument("services", nargs="*", metavar="SERVICE")

    who = sub.add_parser("who", parents=[common], help="who listens on these ports, on every address")
    who.add_argument("ports", nargs="*", metavar="PORT")

    config = sub.add_parser("config", parents=[common], help="services, ports, and where each value came from")
    config.add_argument("services", nargs="*", metavar="SERVICE")

    sub.add_parser("plugins", parents=[common], help="loaded plugins, their versions and hooks")

    probe = sub.add_parser("probe", parents=[common],
                           help="send a real CORS preflight to running services on every address")
    probe.add_argument("services", nargs="*", metavar="SERVICE")
    probe.add_argument("--origin", help="the Origin to send (default: the stack's frontend origin)")
    probe.add_argument("--path", default="/", help="the path to request (default: /)")

    init = sub.add_parser("init", parents=[common], help="write a devlint.toml from the files in this folder")
    init.add_argument("--force", action="store_true", help="overwrite an existing devlint.toml")
    init.add_argument("--dry-run", action="store_true", help="print it instead of writing it")
    return parser


def main(argv: Optional[Sequence[str]] = None, scanned: Optional[Scanned] = None) -> int:
    """Run one sub-command and return the exit code. scanned: the rows the warm pre-check
    got from netlink (warm.py: netlink.listening), for the pipeline's snapshot."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    end_quietly_on_sigterm()
    return guarded(lambda: _dispatch(args_list, os.environ, scanned), _classify)


def _classify(exc: Exception) -> Tuple[int, Optional[str]]:
    """The one error handler: a user's mistake → (exit code, message); (0, None): a bug."""
    from devlint.config import ConfigError
    from devlint.launch import LaunchError
    from devlint.manager import PluginError

    if isinstance(exc, ConfigError):
        return int(ExitCode.USAGE), f"error in {exc}"
    if isinstance(exc, (UsageError, PluginError)):
        return int(ExitCode.USAGE), str(exc)
    if isinstance(exc, LaunchError):
        return exc.code, str(exc)
    return 0, None


def _plain_run(argv: List[str]) -> Optional[argparse.Namespace]:
    """What the parser makes of `run -- CMD` (warm.run_command, the form warm.py
    answers), without argparse (with what it imports and builds, ≈ 5-7 ms of a cold run);
    None for any other form. These are the parser's defaults (tests/test_cold.py)."""
    if run_command(argv) is None:
        return None
    from types import SimpleNamespace

    args = SimpleNamespace(action="run", command=argv[1:], config=None, format="text", color="auto",
                           plugin_flags=[], strict=False, no_cache=False, service=[], wait=0, kill=False, yes=False)
    return cast("argparse.Namespace", args)  # the same attributes, and handlers only read them


def _dispatch(argv: List[str], env: Mapping[str, str], scanned: Optional[Scanned]) -> int:
    args = _plain_run(argv)
    if args is None:
        parser = _parser()
        args = parser.parse_args(argv)
        if args.action is None:
            parser.print_help(sys.stderr)
            return int(ExitCode.USAGE)
    if args.action == "run":
        return cmd_run(args, env, scanned)
    if args.action == "check":
        return cmd_check(args, env, scanned)
    handler: Callable[[argparse.Namespace, Mapping[str, str]], int] = {
        "who": cmd_who, "config": cmd_config, "plugins": cmd_plugins, "probe": cmd_probe, "init": cmd_init,
    }[args.action]
    return handler(args, env)


# -- the pipeline, as the options ask for it -------------------------------------------

def _request(args: argparse.Namespace, argv: Optional[Sequence[str]] = None, names: Sequence[str] = ()) -> Request:
    return pipeline.request(argv, names, args.config, args.strict, args.plugin_flags)


def _plan(args: argparse.Namespace, request: Request, env: Mapping[str, str]) -> Plan:
    return pipeline.plan(request, env, use_cache=not args.no_cache)[0]


def _style(args: argparse.Namespace, stream: Any, env: Mapping[str, str]) -> Style:
    from devlint.report import Style

    return Style(args.color, stream, env)


def _print_findings(args: argparse.Namespace, plan: Plan, findings: Sequence[Finding], env: Mapping[str, str],
                    stream: Any, code: int) -> None:
    from devlint import report

    if args.format == "json":
        print(report.json_report(findings, plan.services, plan.targets, plan.config_path, plan.platform, code),
              file=stream)
        return
    style = _style(args, stream, env)
    for warning in plan.warnings:
        print(style("warning", "warning ") + visible(warning), file=stream)
    print(report.text_findings(findings, style, plan.target_services()), file=stream)


# -- sub-commands ----------------------------------------------------------------------

def cmd_run(args: argparse.Namespace, env: Mapping[str, str], scanned: Optional[Scanned] = None) -> int:
    command = _command(args)
    plan = _plan(args, _request(args, command, args.service), env)
    explain = pipeline.explainer(env, args.plugin_flags, plan)
    checked = pipeline.check(plan, explain, scanned)
    if checked.code and args.kill:
        from devlint import stop

        if stop.offer(checked.verdicts, plan.platform, command, explain, args.yes):
            checked = pipeline.check(plan, explain)
    if checked.code and args.wait:
        checked = _wait(args, plan, checked, explain)
    code = checked.code
    if checked.findings or plan.warnings or args.format == "json":
        _print_findings(args, plan, checked.findings, env, sys.stderr, code)
    if code:
        print(visible("devlint: not starting `" + " ".join(command) + "`"), file=sys.stderr)
        return code
    from devlint.launch import execute

    return execute(command)


def _command(args: argparse.Namespace) -> List[str]:
    """run's command, after checking run's options."""
    command = list(args.command)
    if command and command[0] == "--":
        command = command[1:]
    if not command:
        raise UsageError("run needs a command: devlint run -- flask run")
    if not 0 <= args.wait < float("inf"):  # also nan
        raise UsageError(f"--wait takes a number of seconds >= 0, not {args.wait:g}")
    if args.yes and not args.kill:
        raise UsageError("--yes answers --kill's question; use it together with --kill")
    return command


def _wait(args: argparse.Namespace, plan: Plan, checked: Checked, explain: Explain) -> Checked:
    """Re-check until the ports are released or the time is up: one live status line on a
    terminal, a plain line per change otherwise. Ctrl-C ends the wait (exit 130)."""
    import time

    if not checked.held_only():
        return checked
    deadline = time.monotonic() + args.wait
    live = isatty(sys.stderr)
    width = _columns() - 1
    shown = ""
    try:
        while checked.held_only() and time.monotonic() < deadline:
            holders = sorted({_holder(lst) for judged in checked.verdicts for lst in judged.verdict.listeners})
            what = visible(f"devlint: waiting for {', '.join(holders)} to be released")  # process names
            if live:
                status = f"{what}, {max(0.0, deadline - time.monotonic()):.0f} s left"[:width]
                print("\r" + status.ljust(len(shown)), end="", file=sys.stderr, flush=True)
                shown = status
            elif what != shown:
                print(f"{what} (up to {args.wait:g} s)", file=sys.stderr, flush=True)
                shown = what
            time.sleep(0.25)
            checked = pipeline.check(plan, explain)
    finally:
        if live and shown:
            print("\r" + " " * len(shown) + "\r", end="", file=sys.stderr, flush=True)
    if checked.held_only():
        print(f"devlint: still in use after waiting {args.wait:g} s", file=sys.stderr)
    elif shown:
        print("devlint: ports released", file=sys.stderr)
    return checked


def _holder(listener: Listener) -> str:
    if listener.pid:
        return f"port {listener.port} (pid {listener.pid} {listener.process or ''})".replace(" )", ")")
    return f"port {listener.port} (uid {listener.uid})"


def _columns() -> int:
    import shutil

    return shutil.get_terminal_size((100, 24)).columns


def cmd_check(args: argparse.Namespace, env: Mapping[str, str], scanned: Optional[Scanned] = None) -> int:
    plan = _plan(args, _request(args, names=args.services), env)
    checked = pipeline.check(plan, pipeline.explainer(env, args.plugin_flags, plan), scanned)
    _print_findings(args, plan, checked.findings, env, sys.stdout, checked.code)
    return checked.code


def cmd_config(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    from devlint import plan as planning
    from devlint import report

    plan = planning.build(_request(args, names=args.services), env)
    if args.format == "json":
        print(report.json_report(plan.findings, plan.services, plan.targets, plan.config_path, plan.platform,
                                 0, {"config_reason": plan.config_reason, "warnings": list(plan.warnings)}))
    else:
        print(report.text_config(plan.services, plan.targets, plan.config_path, plan.config_reason,
                                 plan.warnings, _style(args, sys.stdout, env)))
    return int(ExitCode.OK)


def cmd_who(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    from devlint import report
    from devlint.model import Endpoint, Service
    from devlint.sockets import scan

    ports: List[int] = []
    for word in args.ports:
        if not (word.isascii() and word.isdigit()) or not 1 <= int(word) <= 65535:
            raise UsageError(f"who: {word!r} is not a port (1-65535)")
        ports.append(int(word))
    snapshot = scan(ports or None)
    if not ports:
        ports = sorted({lst.port for lst in snapshot.listeners})
    explain = pipeline.explainer(env, args.plugin_flags)
    notes: Dict[int, str] = {}
    for listener in snapshot.listeners:
        found = explain(listener, Service("who"), Endpoint("port", listener.port), snapshot.platform)
        if found:
            notes[id(listener)] = found.text()
    if args.format == "json":
        import json

        print(json.dumps({"devlint": __version__, "platform": snapshot.platform, "backend": snapshot.backend,
                          "ports": {str(p): [dict(lst.data(), known_as=notes.get(id(lst)))
                                             for lst in snapshot.on_port(p) + snapshot.others_on(p)]
                                    for p in ports}}, indent=2))
    else:
        print(report.text_who(ports, snapshot, notes, _style(args, sys.stdout, env)))
    return int(ExitCode.OK)


def cmd_plugins(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    from devlint.manager import PluginHost, disabled_from

    host = PluginHost(disabled_from(env, args.plugin_flags))
    if args.format == "json":
        import json

        print(json.dumps([info.__dict__ for info in host.infos], indent=2))
        return int(ExitCode.OK)
    for info in host.infos:
        print(visible(f"{info.name} {info.version} ({info.module}, from {info.distribution})"))
        print(visible(f"  hooks: {', '.join(info.hooks)}"))
        if info.codes:
            print(visible(f"  codes: {', '.join(info.codes)}"))
    if host.disabled:
        print(visible(f"disabled: {', '.join(sorted(host.disabled))}"))
    return int(ExitCode.OK)


def cmd_probe(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    from devlint import probe, report

    try:
        path = probe.request_target(args.path)
    except ValueError as exc:
        raise UsageError(f"--path {exc}") from None
    try:
        origin = None if args.origin is None else probe.serialise_origin(args.origin)
    except ValueError as exc:
        raise UsageError(f"--origin {exc}") from None
    plan = _plan(args, _request(args, names=args.services), env)
    origin = origin or _stack_origin(plan)
    findings: List[Finding] = []
    answers: Dict[str, Any] = {}
    lines: List[str] = []
    for svc in plan.target_services():
        if svc.origin and not args.services:
            continue  # frontends are what sends the requests, not what is probed
        for endpoint in svc.endpoints:
            result = probe.probe_endpoint(endpoint, origin, path)
            answers[f"{svc.name}/{endpoint.name}"] = [probe.answer_data(a) for a in result]
            # CORS is judged where browsers call cross-origin: a backend with known CORS
            # settings, or what the user pointed at (SERVICE or --origin).
            judge = bool(args.services) or args.origin is not None or svc.cors_origins is not None
            findings.extend(probe.findings_for(svc, endpoint, result, origin, judge_cors=judge))
            lines.append(f"{svc.name} {endpoint.name} port {endpoint.port} (Origin: {origin})")
            for answer in result:
                lines.append("  " + _answer_line(answer))
    code = pipeline.exit_code(findings)
    if args.format == "json":
        print(report.json_report(findings, plan.services, plan.targets, plan.config_path, plan.platform, code,
                                 {"probe": answers}))
        return code
    if not lines:
        print("devlint: nothing to probe: no backend service here (see `devlint config`; `devlint init` "
              "writes a devlint.toml)", file=sys.stderr)
        return code
    style = _style(args, sys.stdout, env)
    print("\n".join(visible(line) for line in lines))  # names and headers from outside devlint
    print(report.text_findings(findings, style, [s for s in plan.target_services() if not s.origin]))
    return code


def _stack_origin(plan: Plan) -> str:
    """The origin the stack's frontend serves (its first service with one), serialised as a
    browser sends it; http://localhost:4200 when there is none. UsageError when a project
    file made it something no browser sends."""
    from devlint import probe

    svc = next((svc for svc in plan.services if svc.origin), None)
    if svc is None or svc.origin is None:
        return "http://localhost:4200"
    try:
        return probe.serialise_origin(svc.origin)
    except ValueError as exc:
        raise UsageError(f"the origin of service {svc.name!r} (see `devlint config`) cannot be sent: {exc}; "
                         "pass --origin") from None


def _answer_line(answer: Any) -> str:
    if answer.error:
        return f"{answer.address:<10} {answer.error}"
    who = answer.owner.owner() if answer.owner else "process not found"
    if len(answer.allow_origin) > 1:
        origin = f"{len(answer.allow_origin)} values: " + ", ".join(answer.allow_origin)
    else:
        origin = answer.allow_origin[0] if answer.allow_origin else "missing"
    return (f"{answer.address:<10} → {who}; OPTIONS {answer.preflight_status}, GET {answer.plain_status}; "
            f"Server: {answer.server or '-'}; Access-Control-Allow-Origin: {origin}")


def cmd_init(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    """Write devlint.toml in the working folder (files.write_text: never through a link).
    Without --force an existing devlint.toml, a symbolic link even dangling, is refused;
    with --force the name is replaced as a whole: a link is replaced by the new file and
    its target is left untouched (what "overwrite devlint.toml here" means, and nothing is
    ever written outside this folder)."""
    from pathlib import Path

    from devlint import files
    from devlint.config import CONFIG_NAME
    from devlint.init import discover_services, render

    cwd = Path(working_dir())
    found = discover_services(cwd, env, tuple(args.plugin_flags))
    text = render(found)
    if args.dry_run:
        print(text, end="")
        return int(ExitCode.OK)
    try:
        written = files.write_text(cwd, CONFIG_NAME, text, replace=args.force)
    except FileExistsError:
        what = " (a symbolic link)" if os.path.islink(cwd / CONFIG_NAME) else ""
        raise UsageError(f"{CONFIG_NAME} already exists here{what}; pass --force to overwrite it or --dry-run "
                         "to see it") from None
    except OSError as exc:
        raise UsageError(f"cannot write {cwd / CONFIG_NAME}: {exc.strerror or exc}") from None
    names = ", ".join(item.service.kind or "ports" for item in found) or "no services; edit it by hand"
    print(visible(f"devlint: wrote {CONFIG_NAME} ({names}); `devlint config` shows what it resolves to"))
    if written.replaced == "symlink":
        print(visible(f"devlint: {CONFIG_NAME} was a symbolic link (to {written.link_target or '?'}): it is now a "
                      "file; the link's target was not changed"))
    return int(ExitCode.OK)
