"""devlint's overhead, measured as whole processes side by side in one run.

    python bench/run.py              # everything (about a minute, with the install)
    python bench/run.py --quick      # fewer repetitions; same rows
    python bench/run.py --devlint .venv/bin/devlint   # measure an existing install

By default the benchmark makes a fresh virtual environment with a regular
`pip install <this checkout>` (an editable install adds an import hook to every start)
and measures its `devlint` console script: what a user gets.

Launch: `devlint run -- true` on a generated three-service stack (Flask + Firebase with
6 emulators + Angular with a proxy; 14 ports; no node_modules needed) against
`python -c pass` on the same interpreter with the same flags as the console script
(none: its `#!` line is the bare venv interpreter, so both pay for `site`), `true`, and
`python -c "import pluggy, tomllib"`, the floor of a cold run with devlint's settled
dependencies (it must read devlint.toml and load pluggy plugins; tomli before 3.11).
devlint runs cold (DEVLINT_NO_CACHE=1), after an edit (devlint.toml's mtime changed before
each run: the cached plan is invalid, rebuilt and saved) and warm (cached plan). Peak RSS comes
from GNU time (`/usr/bin/time -f %M`): ru_maxrss of a child forked from this Python
process would include this process's own pages, since Linux carries the peak across
fork and exec.

Scans: `devlint check` (plan cached) with 10 / 1,000 / 10,000 extra loopback listeners
held by helper processes, against `ss -ltnp` and `lsof -nP -iTCP -sTCP:LISTEN`, each
asked about the stack's ports.

Contenders are interleaved (one run of each, repeated), so load drift hits all alike;
the table shows medians and ratios, ready to paste into BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Dict, List, Mapping, Optional, Sequence, Tuple

ROOT = Path(__file__).resolve().parent.parent
GNU_TIME = "/usr/bin/time"
HOLDER = r"""
import resource, socket, sys
count = int(sys.argv[1])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
if soft < count + 64:
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, count + 64), hard))
socks = []
for port in [int(p) for p in sys.argv[2:]] + [0] * count:
    s = socket.socket()
    s.bind(("127.0.0.1", port))
    s.listen(1)
    socks.append(s)
print("ready", flush=True)
sys.stdin.read()
"""
PER_HOLDER = 4000  # listeners per helper process (fewer when RLIMIT_NOFILE is low)


# -- the stack -----------------------------------------------------------------------

def free_ports(count: int, low: int = 20000, high: int = 32000) -> List[int]:
    """Ports free on 127.0.0.1 and ::1, below Linux's ephemeral range (32768+), so the
    helpers' listeners (port 0) and other programs' outgoing connections never take them."""
    ports: List[int] = []
    start = low + os.getpid() % (high - low)
    for i in range(high - low):
        port = low + (start - low + i) % (high - low)
        try:
            for family, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
                with socket.socket(family) as s:
                    s.bind((host, port))
        except OSError:
            continue
        ports.append(port)
        if len(ports) == count:
            return ports
    raise SystemExit(f"not {count} free ports between {low} and {high}")


def make_stack(root: Path) -> List[int]:
    """Flask API + Firebase (6 emulators, hub, logging, UI, eventarc, tasks) + Angular with a
    proxy to the API, laid out like examples/stack; every port chosen free. Returns them."""
    p = free_ports(14)
    (root / ".git").mkdir()
    (root / "backend").mkdir()
    (root / "backend" / ".flaskenv").write_text(f"FLASK_APP=app\nFLASK_RUN_PORT={p[0]}\n")
    (root / "backend" / "app.py").write_text(
        "from flask import Flask, jsonify\nfrom flask_cors import CORS\n\napp = Flask(__name__)\n"
        f'CORS(app, origins=["http://localhost:{p[1]}"])\n\n\n@app.get("/api/health")\n'
        'def health():\n    return jsonify(status="ok")\n')
    (root / "frontend").mkdir()
    angular = {"version": 1, "projects": {"web": {"projectType": "application", "root": "", "sourceRoot": "src",
                                                  "architect": {"serve": {
                                                      "builder": "@angular/build:dev-server",
                                                      "options": {"port": p[1], "proxyConfig": "proxy.conf.json"}}}}}}
    (root / "frontend" / "angular.json").write_text(json.dumps(angular, indent=2))
    (root / "frontend" / "proxy.conf.json").write_text(
        json.dumps({"/api": {"target": f"http://127.0.0.1:{p[0]}", "secure": False}}, indent=2))
    (root / "frontend" / "package.json").write_text(
        json.dumps({"name": "web", "private": True, "scripts": {"start": "ng serve"}}, indent=2))
    emulators = ("auth", "functions", "firestore", "hosting", "storage", "database", "hub", "logging", "ui",
                 "eventarc", "tasks")
    settings: Dict[str, Dict[str, int]] = {name: {"port": port} for name, port in zip(emulators, p[2:])}
    settings["firestore"]["websocketPort"] = p[13]
    firebase = {
        "hosting": {"public": "public"}, "functions": {"source": "functions"},
        "firestore": {"rules": "firestore.rules"}, "storage": {"rules": "storage.rules"},
        "database": {"rules": "database.rules.json"}, "emulators": settings,
    }
    (root / "firebase.json").write_text(json.dumps(firebase, indent=2))
    (root / "functions").mkdir()
    (root / "public").mkdir()
    (root / "devlint.toml").write_text(
        '[services.api]\nkind = "flask"\npath = "backend"\n\n'
        '[services.web]\nkind = "angular"\npath = "frontend"\n\n'
        '[services.firebase]\nkind = "firebase"\nproject = "demo-bench"\n')
    for path in root.rglob("*"):  # written "long ago": nothing is too new to cache
        os.utime(path, (time.time() - 60, time.time() - 60))
    return p


def make_large_proxy(root: Path, routes: int = 2000, headers: int = 200) -> Path:
    """A second config (large/devlint.toml) beside make_stack's: its API, and an Angular app on the
    same port whose proxy.conf.js has `routes` routes sharing one const options object of `headers`
    headers (≈ 50 kB), the JS reader's worst case before it read a const once, not at every use
    (1.5 s). Returns the config's path."""
    api_port = int((root / "backend" / ".flaskenv").read_text().split("FLASK_RUN_PORT=")[1].split()[0])
    serve = json.loads((root / "frontend" / "angular.json").read_text())["projects"]["web"]["architect"]["serve"]
    web_port = serve["options"]["port"]
    folder = root / "large"
    folder.mkdir()
    head = ",\n".join(f'    "x-bench-{i}": "value {i}"' for i in range(headers))
    text = (f"// {routes} routes sharing one options object\nconst common = {{\n"
            f'  target: "http://127.0.0.1:{api_port}",\n  secure: false,\n  changeOrigin: true,\n'
            f"  headers: {{\n{head}\n  }},\n}};\n\nmodule.exports = {{\n"
            + "".join(f'  "/api/r{i}": common,\n' for i in range(routes)) + "};\n")
    (folder / "proxy.conf.js").write_text(text)
    angular = {"version": 1, "projects": {"web": {"projectType": "application", "root": "", "architect": {
        "serve": {"builder": "@angular/build:dev-server",
                  "options": {"port": web_port, "proxyConfig": "proxy.conf.js"}}}}}}
    (folder / "angular.json").write_text(json.dumps(angular, indent=2))
    config = folder / "devlint.toml"
    config.write_text('[services.api]\nkind = "flask"\npath = "../backend"\n\n[services.web]\nkind = "angular"\n')
    return config


def make_many_services(root: Path, count: int = 2000) -> Path:
    """services/devlint.toml: `count` services, each a table with a port and a host: the config
    whose validation was quadratic in its keys (2,000 services took 16.6 s). Returns its path."""
    folder = root / "services"
    folder.mkdir()
    config = folder / "devlint.toml"
    config.write_text("".join(f'[services.s{i}]\nport = {20000 + i}\nhost = "127.0.0.1"\n\n' for i in range(count)))
    return config


# -- measuring -----------------------------------------------------------------------

Prepare = Callable[[], None]


class Contender:
    def __init__(self, name: str, argv: Sequence[str], env: Optional[Mapping[str, str]] = None,
                 before: Optional[Prepare] = None, codes: Sequence[int] = (0,)) -> None:
        self.name, self.argv, self.env, self.before, self.codes = name, list(argv), env, before, tuple(codes)
        self.times: List[float] = []
        self.rss: List[int] = []

    @property
    def median_ms(self) -> float:
        return statistics.median(self.times) * 1000

    @property
    def rss_mib(self) -> Optional[float]:
        return statistics.median(self.rss) / 1024 if self.rss else None


def timed(c: Contender, cwd: Path, env: Mapping[str, str]) -> float:
    """Wall time of one whole process (fork, exec, run, exit, reap)."""
    if c.before:
        c.before()
    start = time.perf_counter()
    proc = subprocess.Popen(c.argv, cwd=cwd, env=dict(c.env or env), stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, err = proc.communicate()
    elapsed = time.perf_counter() - start
    if proc.returncode not in c.codes:
        raise SystemExit(f"{c.name}: exit {proc.returncode}: {' '.join(c.argv)}\n{err.decode(errors='replace')}")
    return elapsed


def peak_rss_kib(c: Contender, cwd: Path, env: Mapping[str, str]) -> int:
    """Peak RSS of the process alone, measured by GNU time from a small parent."""
    if c.before:
        c.before()
    out = subprocess.run([GNU_TIME, "-f", "%M", "-o", "/dev/stdout", "--", *c.argv], cwd=cwd,
                         env=dict(c.env or env), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True)
    return int(out.stdout.strip().splitlines()[-1])


def race(contenders: Sequence[Contender], cwd: Path, env: Mapping[str, str], runs: int,
         rss_runs: int = 0) -> None:
    for c in contenders:  # warm the page cache and the plan cache
        timed(c, cwd, env)
    for _ in range(runs):
        for c in contenders:
            c.times.append(timed(c, cwd, env))
    for _ in range(rss_runs):
        for c in contenders:
            c.rss.append(peak_rss_kib(c, cwd, env))


def hold(count: int, also: Sequence[int] = ()) -> List[subprocess.Popen[str]]:
    """Helper processes holding `count` loopback listeners between them (ephemeral ports),
    the first one also on 127.0.0.1 ports `also`."""
    helpers: List[subprocess.Popen[str]] = []
    try:
        left = count
        while left > 0 or not helpers:
            n = min(left, PER_HOLDER)
            extra = [] if helpers else [str(p) for p in also]
            proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(n), *extra], stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, text=True)
            helpers.append(proc)
            assert proc.stdout is not None
            if proc.stdout.readline().strip() != "ready":
                raise SystemExit(f"a listener helper could not open {n} sockets")
            left -= n
    except BaseException:
        release(helpers)
        raise
    return helpers


def release(helpers: Sequence[subprocess.Popen[str]]) -> None:
    for proc in helpers:
        proc.terminate()
    for proc in helpers:
        proc.wait()


# -- the install ---------------------------------------------------------------------

def install(into: Path) -> Path:
    """A fresh venv with a regular (non-editable) install of this checkout."""
    subprocess.run([sys.executable, "-m", "venv", str(into)], check=True)
    python = into / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", str(ROOT)],
                   check=True, stdout=subprocess.DEVNULL)
    return into / "bin" / "devlint"


def interpreter_of(script: Path) -> List[str]:
    """The console script's `#!` line: interpreter and flags, as the kernel runs it."""
    first = script.read_text(errors="replace").splitlines()[0]
    if not first.startswith("#!"):
        raise SystemExit(f"{script} has no #! line")
    words = first[2:].split()
    if words and os.path.basename(words[0]) == "env":
        words = words[1:]
    return words


def warm_path_taken(devlint: Path, cwd: Path, env: Mapping[str, str]) -> bool:
    """Whether a repeated `devlint run -- true` stayed on the warm path (never imported the CLI)."""
    out = subprocess.run([str(devlint), "run", "--", "true"], cwd=cwd, env={**env, "PYTHONPROFILEIMPORTTIME": "1"},
                         capture_output=True, text=True)
    return out.returncode == 0 and "devlint.warm" in out.stderr and "devlint.cli" not in out.stderr


# -- report --------------------------------------------------------------------------

def machine(python: Sequence[str], version: str) -> List[str]:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return [f"- CPU: {cpu}; `nproc`: {os.cpu_count()}",
            f"- kernel: {platform.system()} {platform.release()}",
            f"- Python: {version}; measured interpreter: `{' '.join(python)}`",
            f"- load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}"]


def python_version(python: Sequence[str]) -> str:
    return subprocess.run([*python, "-c", "import platform; print(platform.python_version())"],
                          capture_output=True, text=True).stdout.strip()


def verdict(value: float, limit: float) -> str:
    return f"≤ {limit:g}x — {'**met**' if value <= limit else '**not met**'}"


def options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (a quick look, noisier)")
    parser.add_argument("--runs", type=int, default=0, help="repetitions of each launch contender")
    parser.add_argument("--devlint", type=Path, help="measure this devlint console script instead of a fresh install")
    parser.add_argument("--counts", default="10,1000,10000", help="extra listeners for the scan rows")
    parser.add_argument("--json", metavar="FILE", help="also write the raw numbers here")
    return parser.parse_args()


def check_tools() -> bool:
    """Say which measuring tools are missing; fit PER_HOLDER to the fd limit. Returns whether
    GNU time is there (peak RSS)."""
    missing = [tool for tool in ("ss", "lsof") if shutil.which(tool) is None]
    if missing:
        print(f"note: {', '.join(missing)} not installed (apt-get install iproute2 lsof); those columns stay empty",
              file=sys.stderr)
    have_time = os.access(GNU_TIME, os.X_OK)
    if not have_time:
        print("note: GNU time is not installed (apt-get install time); no peak RSS", file=sys.stderr)
    global PER_HOLDER
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY:
        PER_HOLDER = max(100, min(PER_HOLDER, hard - 64))  # each helper raises its soft limit to this
    return have_time


def devlint_to_measure(given: Optional[Path], work: Path) -> Tuple[Path, str]:
    """The console script to measure (given, or a fresh install) and how it was obtained."""
    if given:
        devlint = given.resolve()
        return devlint, f"`{devlint}` (given with --devlint)"
    print("installing devlint into a fresh venv (pip install .) ...", file=sys.stderr)
    return install(work / "venv"), "a regular `pip install .` into a fresh venv (not editable)"


def environments(work: Path) -> Tuple[Dict[str, str], Dict[str, str]]:
    """The environment of every contender (own cache folder, no colour), and the cold one."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DEVLINT_", "PYTHON"))}
    env.update(XDG_CACHE_HOME=str(work / "cache"), NO_COLOR="1")
    return env, {**env, "DEVLINT_NO_CACHE": "1"}


def clear_summary(devlint: Path, stack: Path, cold_env: Mapping[str, str]) -> str:
    """`devlint check`'s summary line for the stack; exits unless it is clear."""
    config = subprocess.run([str(devlint), "config"], cwd=stack, env=cold_env, capture_output=True, text=True)
    check = subprocess.run([str(devlint), "check"], cwd=stack, env=cold_env, capture_output=True, text=True)
    if check.returncode != 0 or "warning" in check.stdout:
        raise SystemExit(f"the bench stack is not clear:\n{config.stdout}{check.stdout}{check.stderr}")
    summary = check.stdout.strip().splitlines()[-1]
    print(f"stack: {summary}", file=sys.stderr)
    return summary


def launch_contenders(devlint: Path, python: Sequence[str], version: str, stack: Path,
                      cold_env: Mapping[str, str]) -> Tuple[List[Contender], Contender, Contender]:
    """The launch rows, the floor (`python -c pass`) and the cold floor (pluggy + tomllib)."""
    toml = stack / "devlint.toml"
    edits = [0]

    def edit() -> None:  # what an editor's save does to the cached plan: a new mtime
        edits[0] += 1
        past = time.time() - 10 - edits[0] * 0.001
        os.utime(toml, (past, past))

    floor = Contender("python -c pass", [*python, "-c", "pass"])
    toml_module = "tomllib" if tuple(map(int, version.split(".")[:2])) >= (3, 11) else "tomli"
    deps = Contender(f'python -c "import pluggy, {toml_module}"', [*python, "-c", f"import pluggy, {toml_module}"])
    launch = [
        Contender("true", ["true"]),
        floor,
        Contender("python -I -S -c pass (bare, for reference)", [python[0], "-I", "-S", "-c", "pass"]),
        deps,
        Contender("devlint run -- true, cold (no cache)", [str(devlint), "run", "--", "true"], cold_env),
        Contender("devlint run -- true, after an edit", [str(devlint), "run", "--", "true"], before=edit),
        Contender("devlint run -- true, warm (cached)", [str(devlint), "run", "--", "true"]),
        Contender("devlint check, cold, a 2,000-route proxy.conf.js (large/)",
                  [str(devlint), "--config", str(make_large_proxy(stack)), "check"], cold_env),
        Contender("devlint config, cold, 2,000 services (services/)",
                  [str(devlint), "--config", str(make_many_services(stack)), "config"], cold_env),
    ]
    return launch, floor, deps


def scan_rows(devlint: Path, stack: Path, env: Mapping[str, str], ports: Sequence[int], counts: Sequence[int],
              scan_runs: int) -> Dict[str, List[Contender]]:
    """`devlint check` against ss and lsof with extra listeners held, then with the API's port held."""
    filter_ss = "( " + " or ".join(f"sport = :{p}" for p in ports) + " )"
    scans: Dict[str, List[Contender]] = {}
    cases = [(f"{n:,}", n, False) for n in counts]
    if counts:  # the other answer: a port of the stack is taken, so devlint finds its owner
        cases.append((f"{max(counts):,} + the API's port held", max(counts), True))
    for label, count, held in cases:
        print(f"scan: {label} extra listeners, {scan_runs} interleaved runs ...", file=sys.stderr)
        helpers = hold(count, ports[:1] if held else ())
        try:
            row = [Contender("devlint check", [str(devlint), "check"], codes=(1,) if held else (0,))]
            if shutil.which("ss"):
                row.append(Contender("ss -ltnp", ["ss", "-ltnpH", filter_ss]))
            if shutil.which("lsof"):
                row.append(Contender("lsof", ["lsof", "-nP", "-sTCP:LISTEN", "-iTCP:" + ",".join(map(str, ports))],
                                     codes=(0, 1)))
            race(row, stack, env, scan_runs)
        finally:
            release(helpers)
        scans[label] = row
    return scans


def header(summary: str, measured: str, warm_ok: bool, about: Sequence[str], runs: int, scan_runs: int,
           elapsed: float) -> List[str]:
    return [f"devlint {summary.split(':', 1)[-1].strip()}; measured: {measured}; "
            f"warm path taken: {'yes' if warm_ok else '**no**'}.",
            "",
            *about,
            f"- load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; "
            f"{runs} launch runs, {scan_runs} scan runs per contender, {elapsed:.0f} s",
            "- command: `python bench/run.py" + "".join(f" {a}" for a in sys.argv[1:]) + "`",
            ""]


def launch_table(launch: Sequence[Contender], floor: Contender, deps: Contender) -> List[str]:
    lines = ["| launch | median | x `python -c pass` | peak RSS | x python RSS | target |",
             "|---|---:|---:|---:|---:|---|"]
    targets = {"cold (no cache)": 3.0, "after an edit": 3.0, "warm (cached)": 2.0}
    deps_ratio = deps.median_ms / floor.median_ms
    for c in launch:
        ratio = c.median_ms / floor.median_ms
        rss = c.rss_mib
        rss_ratio = rss / floor.rss_mib if rss is not None and floor.rss_mib else None
        limit = next((v for k, v in targets.items() if c.name.endswith(k)), None)
        target = verdict(ratio, limit) if limit else "the cold target's floor" if c is deps else ""
        if c.name.endswith(("cold (no cache)", "after an edit")):
            target += f"; floor {deps_ratio:.2f}x"
        if c.name.endswith("warm (cached)") and rss_ratio is not None:
            target += f"; RSS {verdict(rss_ratio, 1.5)}"
        lines.append(f"| `{c.name}` | {c.median_ms:.1f} ms | {ratio:.2f}x | "
                     f"{f'{rss:.1f} MiB' if rss is not None else 'n/a'} | "
                     f"{f'{rss_ratio:.2f}x' if rss_ratio is not None else ''} | {target} |")
    return lines


def scan_table(scans: Mapping[str, Sequence[Contender]]) -> List[str]:
    lines = ["| extra listeners | `devlint check` | `ss -ltnp` | `lsof -iTCP -sTCP:LISTEN` | x ss | x lsof "
             "| target (10,000) |",
             "|---:|---:|---:|---:|---:|---:|---|"]
    for label, row in scans.items():
        mine = row[0].median_ms
        others = {c.name: c.median_ms for c in row[1:]}
        ss, lsof = others.get("ss -ltnp"), others.get("lsof")
        target = ""
        if label == "10,000":
            target = "; ".join(x for x in (
                f"ss {verdict(mine / ss, 0.5)}" if ss else "",
                f"lsof {verdict(mine / lsof, 0.2)}" if lsof else "") if x)
        lines.append(f"| {label} | {mine:.1f} ms | {f'{ss:.1f} ms' if ss else 'n/a'} | "
                     f"{f'{lsof:.1f} ms' if lsof else 'n/a'} | "
                     f"{f'{mine / ss:.2f}x' if ss else ''} | {f'{mine / lsof:.2f}x' if lsof else ''} | {target} |")
    return lines


def write_json(path: str, launch: Sequence[Contender], scans: Mapping[str, Sequence[Contender]]) -> None:
    Path(path).write_text(json.dumps({
        "launch": {c.name: {"times_ms": [t * 1000 for t in c.times], "rss_kib": c.rss} for c in launch},
        "scan": {str(n): {c.name: [t * 1000 for t in c.times] for c in row} for n, row in scans.items()},
    }, indent=2))


def main() -> None:
    args = options()
    runs = args.runs or (12 if args.quick else 40)
    scan_runs = max(5, runs // 3)
    rss_runs = 3 if args.quick else 5
    counts = [int(c) for c in args.counts.split(",") if c]
    have_time = check_tools()

    with tempfile.TemporaryDirectory(prefix="devlint-bench-") as tmp:
        work = Path(tmp)
        started = time.time()
        devlint, measured = devlint_to_measure(args.devlint, work)
        python = interpreter_of(devlint)
        version = python_version(python)
        about = machine(python, version)
        stack = work / "stack"
        stack.mkdir()
        ports = make_stack(stack)
        env, cold_env = environments(work)
        summary = clear_summary(devlint, stack, cold_env)
        launch, floor, deps = launch_contenders(devlint, python, version, stack, cold_env)
        print(f"launch: {runs} interleaved runs of {len(launch)} commands ...", file=sys.stderr)
        race(launch, stack, env, runs, rss_runs if have_time else 0)
        warm_ok = warm_path_taken(devlint, stack, env)
        scans = scan_rows(devlint, stack, env, ports, counts, scan_runs)
        elapsed = time.time() - started

    lines = header(summary, measured, warm_ok, about, runs, scan_runs, elapsed)
    lines += [*launch_table(launch, floor, deps), "", *scan_table(scans)]
    print("\n".join(lines))
    if args.json:
        write_json(args.json, launch, scans)


if __name__ == "__main__":
    main()
