"""Command line: parse, run one sub-command, map every user mistake to an exit code.

A clear `devlint run -- CMD` or `devlint check` on an unchanged project never gets here:
warm.py (the console script's entry) answers it from the cached plan and one netlink query.
Here, the run path is still kept lean: with an unchanged project it loads the cached plan,
takes one socket snapshot and execs, without importing pluggy, tomllib or colorama.
Everything else is imported where it is needed.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, cast

from devlint import __version__
from devlint.model import ExitCode, Finding, Severity

if TYPE_CHECKING:
    import argparse

    from devlint.plan import Plan, Request
    from devlint.report import Style


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
        parents=[_options(top=True)])
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


def main(argv: Optional[Sequence[str]] = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    _terminate_on_sigterm()
    try:
        return _dispatch(args_list)
    except KeyboardInterrupt:
        print("devlint: interrupted", file=sys.stderr)
        return int(ExitCode.INTERRUPTED)
    except _Terminated:
        return int(ExitCode.TERMINATED)
    except Exception as exc:  # user mistakes become one clear message and exit 2
        code, message = _classify(exc)
        if message is None:
            raise
        print(f"devlint: {message}", file=sys.stderr)
        return code


def _classify(exc: Exception) -> Tuple[int, Optional[str]]:
    from devlint.config import ConfigError
    from devlint.launch import LaunchError
    from devlint.manager import PluginError
    from devlint.plan import UsageError

    if isinstance(exc, ConfigError):
        return int(ExitCode.USAGE), f"error in {exc}"
    if isinstance(exc, (UsageError, PluginError)):
        return int(ExitCode.USAGE), str(exc)
    if isinstance(exc, LaunchError):
        return exc.code, str(exc)
    return 0, None


class _Terminated(BaseException):
    pass


def _terminate_on_sigterm() -> None:
    """SIGTERM during checks ends devlint quietly with 143 (128+15), as a shell would report.
    Left alone when the caller ignores SIGTERM, so the command inherits that."""
    import _signal as signal  # type: ignore[import-not-found]  # signal.py builds enums (≈ 0.5 ms)

    if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        def handler(signum: int, frame: Any) -> None:
            raise _Terminated()

        signal.signal(signal.SIGTERM, handler)


def _plain_run(argv: List[str]) -> Optional[argparse.Namespace]:
    """What the parser makes of `run -- CMD`, the form warm.py reads, without argparse (with
    what it imports and builds, ≈ 5-7 ms of a cold run); None for any other form. Nothing
    after `--` is an option, so these are the parser's defaults (tests/test_cold.py)."""
    if len(argv) < 3 or argv[0] != "run" or argv[1] != "--":
        return None
    from types import SimpleNamespace

    args = SimpleNamespace(action="run", command=argv[1:], config=None, format="text", color="auto",
                           plugin_flags=[], strict=False, no_cache=False, service=[], wait=0, kill=False, yes=False)
    return cast("argparse.Namespace", args)  # the same attributes, and handlers only read them


def _dispatch(argv: List[str]) -> int:
    env = os.environ
    plain = _plain_run(argv)
    if plain is not None:
        return cmd_run(plain, env)
    parser = _parser()
    args = parser.parse_args(argv)
    if args.action is None:
        parser.print_help(sys.stderr)
        return int(ExitCode.USAGE)
    handler: Callable[[argparse.Namespace, Mapping[str, str]], int] = {
        "run": cmd_run, "check": cmd_check, "who": cmd_who, "config": cmd_config, "plugins": cmd_plugins,
        "probe": cmd_probe, "init": cmd_init,
    }[args.action]
    return handler(args, env)


# -- planning ------------------------------------------------------------------------

def _cwd() -> Path:
    try:
        return Path(os.getcwd())
    except OSError as exc:
        from devlint.plan import UsageError

        raise UsageError(f"the working directory cannot be read ({exc.strerror or exc}); cd to a folder "
                         "that exists") from None


def _request(args: argparse.Namespace, argv: Optional[Tuple[str, ...]] = None,
             names: Sequence[str] = ()) -> Request:
    from devlint.plan import Request

    return Request(cwd=_cwd(), argv=argv, names=tuple(names), config=args.config,
                   strict=args.strict, plugin_flags=tuple(args.plugin_flags))


def _plan(args: argparse.Namespace, request: Request, env: Mapping[str, str]) -> Tuple[Plan, bool]:
    """The plan, from the cache when every input is unchanged. Returns (plan, cached)."""
    from devlint import plan as planning

    use_cache = not args.no_cache and not env.get("DEVLINT_NO_CACHE")
    if use_cache:
        from devlint import cache

        cached = cache.load(request, env)
        if cached is not None:
            return cached, True
    built = planning.build(request, env)
    if use_cache and not built.findings and not built.warnings:
        from devlint import cache

        cache.save(request, env, built)
    return built, False


def _snapshot(plan: Plan) -> Any:
    from devlint.sockets import scan

    ports = {ep.port for svc in plan.target_services() for ep in svc.endpoints}
    return scan(ports, plan.platform or None)


def _explainer(args: argparse.Namespace, env: Mapping[str, str], config_disabled: Sequence[str] = ()) -> Any:
    """A function asking plugins about a listener; loads them only when first called."""
    host: List[Any] = []

    def explain(listener: Any, service: Any, endpoint: Any, platform: str) -> Any:
        if not host:
            from devlint.manager import PluginHost, disabled_from

            host.append(PluginHost(disabled_from(env, args.plugin_flags, config_disabled)))
        return host[0].explain_listener(listener, service, endpoint, platform)

    return explain


def _findings(args: argparse.Namespace, plan: Plan, env: Mapping[str, str]) -> List[Finding]:
    snapshot = _snapshot(plan)
    found = list(plan.findings)
    if not snapshot.listeners:  # nothing listens on any port: all clear (the usual cold run)
        return found
    from devlint.checks import port_findings

    found.extend(port_findings(plan.target_services(), snapshot, plan.services, _explainer(args, env)))
    return found


def _style(args: argparse.Namespace, stream: Any, env: Mapping[str, str]) -> Style:
    from devlint.report import Style

    return Style(args.color, stream, env)


def _exit_code(findings: Sequence[Finding]) -> int:
    return int(ExitCode.FINDINGS if any(f.severity >= Severity.ERROR for f in findings) else ExitCode.OK)


def _print_findings(args: argparse.Namespace, plan: Plan, findings: List[Finding], env: Mapping[str, str],
                    stream: Any, code: int) -> None:
    from devlint import report

    if args.format == "json":
        print(report.json_report(findings, plan.services, plan.targets, plan.config_path, plan.platform, code),
              file=stream)
        return
    style = _style(args, stream, env)
    for warning in plan.warnings:
        print(style("warning", "warning ") + warning, file=stream)
    print(report.text_findings(findings, style, plan.target_services()), file=stream)


# -- sub-commands ----------------------------------------------------------------------

def cmd_run(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    command = list(args.command)
    if command and command[0] == "--":
        command = command[1:]
    if not command:
        from devlint.plan import UsageError

        raise UsageError("run needs a command: devlint run -- flask run")
    if args.wait < 0:
        from devlint.plan import UsageError

        raise UsageError("--wait takes a number of seconds >= 0")
    if args.yes and not args.kill:
        from devlint.plan import UsageError

        raise UsageError("--yes answers --kill's question; use it together with --kill")
    request = _request(args, tuple(command), args.service)
    plan, _ = _plan(args, request, env)
    findings = _findings(args, plan, env)
    if _exit_code(findings) and args.kill:
        findings = _kill_stale(args, plan, findings, command, env)
    if _exit_code(findings) and args.wait:
        findings = _wait(args, plan, findings, env)
    code = _exit_code(findings)
    if findings or plan.warnings or args.format == "json":
        _print_findings(args, plan, findings, env, sys.stderr, code)
    if code:
        print("devlint: not starting `" + " ".join(command) + "`", file=sys.stderr)
        return code
    from devlint.launch import execute

    return execute(command)


def _held_only(findings: Sequence[Finding]) -> bool:
    """Only "port in use" errors: the kind a server shutting down resolves."""
    from devlint.checks import HELD_CODE, SHADOWED_CODE

    errors = [f for f in findings if f.severity >= Severity.ERROR]
    return bool(errors) and all(f.code in (HELD_CODE, SHADOWED_CODE) for f in errors)


def _wait(args: argparse.Namespace, plan: Plan, findings: List[Finding], env: Mapping[str, str]) -> List[Finding]:
    """Re-check until the ports are released or the time is up: one live status line on a
    terminal, a plain line per change otherwise. Ctrl-C ends the wait (exit 130)."""
    import time

    if not _held_only(findings):
        return findings
    deadline = time.monotonic() + args.wait
    live = _isatty(sys.stderr)
    width = _columns() - 1
    shown = ""
    try:
        while _held_only(findings) and time.monotonic() < deadline:
            holders = sorted({f"port {lst['port']} (pid {lst['pid']} {lst['process'] or ''})".replace(" )", ")")
                              if lst["pid"] else f"port {lst['port']} (uid {lst['uid']})"
                              for f in findings for lst in f.evidence.get("listeners", ())})
            what = f"devlint: waiting for {', '.join(holders)} to be released"
            if live:
                status = f"{what}, {max(0.0, deadline - time.monotonic()):.0f} s left"[:width]
                print("\r" + status.ljust(len(shown)), end="", file=sys.stderr, flush=True)
                shown = status
            elif what != shown:
                print(f"{what} (up to {args.wait:g} s)", file=sys.stderr, flush=True)
                shown = what
            time.sleep(0.25)
            findings = _findings(args, plan, env)
    finally:
        if live and shown:
            print("\r" + " " * len(shown) + "\r", end="", file=sys.stderr, flush=True)
    if _held_only(findings):
        print(f"devlint: still in use after waiting {args.wait:g} s", file=sys.stderr)
    elif shown:
        print("devlint: ports released", file=sys.stderr)
    return findings


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _columns() -> int:
    import shutil

    return shutil.get_terminal_size((100, 24)).columns


def _kill_stale(args: argparse.Namespace, plan: Plan, findings: List[Finding], command: Sequence[str],
                env: Mapping[str, str]) -> List[Finding]:
    """Offer to stop each holder that is a stale dev server of the user's own (rules in
    stop.py); say why every other holder is left alone. Re-checks after stopping."""
    from devlint import stop
    from devlint.model import Endpoint, Listener, Service

    explain = _explainer(args, env)
    stopped = False
    seen: set[Tuple[Optional[int], Optional[int], str, int]] = set()
    for finding in findings:
        for data in finding.evidence.get("listeners", ()):
            key = (data["pid"], data["uid"], data["address"], data["port"])
            if key in seen or (data["pid"] is not None and any(k[0] == data["pid"] for k in seen)):
                continue
            seen.add(key)
            listener = Listener(data["address"], data["port"], data["family"], data["v6only"], data["pid"],
                                data["process"], tuple(data["cmdline"]) if data["cmdline"] else None,
                                data["uid"], data["user"])
            svc = next((s for s in plan.services if s.name == finding.service), Service(finding.service))
            endpoint = next((e for e in svc.endpoints if e.port == listener.port), Endpoint("port", listener.port))
            decision = stop.decide(listener, explain(listener, svc, endpoint, plan.platform), plan.platform, command)
            who = listener.owner()
            if not decision.allowed:
                print(f"devlint: --kill: leaving {who} on port {listener.port} alone: {decision.reason}",
                      file=sys.stderr)
            elif stop.confirm(f"Stop {who} on port {listener.port}, {decision.reason}?", args.yes):
                print(f"devlint: --kill: {stop.stop(listener)}", file=sys.stderr)
                stopped = True
            else:
                print(f"devlint: --kill: left {who} running", file=sys.stderr)
    return _findings(args, plan, env) if stopped else findings


def cmd_check(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    plan, _ = _plan(args, _request(args, names=args.services), env)
    findings = _findings(args, plan, env)
    code = _exit_code(findings)
    _print_findings(args, plan, findings, env, sys.stdout, code)
    return code


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
    from devlint import culprits, report
    from devlint.model import Endpoint, Service
    from devlint.plan import UsageError
    from devlint.sockets import scan

    ports: List[int] = []
    for word in args.ports:
        if not word.isdigit() or not 1 <= int(word) <= 65535:
            raise UsageError(f"who: {word!r} is not a port (1-65535)")
        ports.append(int(word))
    snapshot = scan(ports or None)
    if not ports:
        ports = sorted({lst.port for lst in snapshot.listeners})
    explain = _explainer(args, env)
    notes: Dict[int, str] = {}
    for listener in snapshot.listeners:
        found = culprits.match(listener, snapshot.platform) or explain(
            listener, Service("who"), Endpoint("port", listener.port), snapshot.platform)
        if found:
            notes[id(listener)] = f"{found.title}: {found.why}; {found.fix}."
    if args.format == "json":
        import json

        print(json.dumps({"devlint": __version__, "platform": snapshot.platform, "backend": snapshot.backend,
                          "ports": {str(p): [dict(report.listener_data(lst), known_as=notes.get(id(lst)))
                                             for lst in snapshot.on_port(p)] for p in ports}}, indent=2))
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
        print(f"{info.name} {info.version} ({info.module}, from {info.distribution})")
        print(f"  hooks: {', '.join(info.hooks)}")
    if host.disabled:
        print(f"disabled: {', '.join(sorted(host.disabled))}")
    return int(ExitCode.OK)


def cmd_probe(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    from devlint import probe, report
    from devlint.plan import UsageError

    plan, _ = _plan(args, _request(args, names=args.services), env)
    origin = args.origin or next((svc.origin for svc in plan.services if svc.origin), None) \
        or "http://localhost:4200"
    if not args.path.startswith("/") or any(c.isspace() for c in args.path):
        raise UsageError(f"--path {args.path!r}: expected a URL path starting with / and without spaces")
    findings: List[Finding] = []
    answers: Dict[str, Any] = {}
    lines: List[str] = []
    for svc in plan.target_services():
        if svc.origin and not args.services:
            continue  # frontends are what sends the requests, not what is probed
        for endpoint in svc.endpoints:
            result = probe.probe_endpoint(endpoint, origin, args.path)
            answers[f"{svc.name}/{endpoint.name}"] = [probe.answer_data(a) for a in result]
            # CORS is judged where browsers call cross-origin: a backend with known CORS
            # settings, or what the user pointed at (SERVICE or --origin).
            judge = bool(args.services) or args.origin is not None or svc.cors_origins is not None
            findings.extend(probe.findings_for(svc, endpoint, result, origin, judge_cors=judge))
            lines.append(f"{svc.name} {endpoint.name} port {endpoint.port} (Origin: {origin})")
            for answer in result:
                lines.append("  " + _answer_line(answer))
    code = _exit_code(findings)
    if args.format == "json":
        print(report.json_report(findings, plan.services, plan.targets, plan.config_path, plan.platform, code,
                                 {"probe": answers}))
        return code
    if not lines:
        print("devlint: nothing to probe: no backend service here (see `devlint config`; `devlint init` "
              "writes a devlint.toml)", file=sys.stderr)
        return code
    style = _style(args, sys.stdout, env)
    print("\n".join(lines))
    print(report.text_findings(findings, style, [s for s in plan.target_services() if not s.origin]))
    return code


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
    from devlint.config import CONFIG_NAME
    from devlint.init import discover_services, render
    from devlint.plan import UsageError

    cwd = _cwd()
    target = cwd / CONFIG_NAME
    found = discover_services(cwd, env, tuple(args.plugin_flags))
    text = render(found)
    if args.dry_run:
        print(text, end="")
        return int(ExitCode.OK)
    if target.exists() and not args.force:
        raise UsageError(f"{CONFIG_NAME} already exists here; pass --force to overwrite it or --dry-run to see it")
    try:
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {target}: {exc.strerror or exc}") from None
    names = ", ".join(item.service.kind or "ports" for item in found) or "no services; edit it by hand"
    print(f"devlint: wrote {CONFIG_NAME} ({names}); `devlint config` shows what it resolves to")
    return int(ExitCode.OK)
