"""devlint's overhead, measured as whole processes side by side in one run.

    python bench/run.py            # everything (about a minute)
    python bench/run.py --quick    # fewer repetitions, no 10,000-listener case

Times `devlint run -- true` on a three-service stack (Flask + Firebase with 6 emulators
+ Angular with a proxy: 12 ports) against `python -c pass` on the same interpreter and
`true`, cold (no plan cache) and repeated (plan cache warm); then `devlint check` with
10 / 1,000 / 10,000 extra listeners held by a helper process against `ss -ltnp` and
`lsof -nP -iTCP -sTCP:LISTEN` asked about the same ports. Prints medians, ratios and the
peak RSS of each process (ru_maxrss survives exec on Linux, so devlint's own peak counts).
Runs are interleaved, so a slow moment of the machine hits every command alike.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Mapping, Sequence, Tuple

HOLDER = r"""
import resource, socket, sys
count = int(sys.argv[1])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, count + 100)), hard))
socks = []
for _ in range(count):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    socks.append(s)
print("ready", flush=True)
sys.stdin.read()
"""


def free_ports(count: int) -> List[int]:
    ports: List[int] = []
    socks = []
    while len(ports) < count:
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


def make_stack(root: Path) -> List[int]:
    """A Flask + Firebase (6 emulators) + Angular (with proxy) project; returns its ports."""
    p = free_ports(12)
    (root / ".git").mkdir()
    (root / "backend").mkdir()
    (root / "backend" / ".flaskenv").write_text(f"FLASK_APP=app\nFLASK_RUN_PORT={p[0]}\n")
    (root / "backend" / "app.py").write_text("from flask import Flask\napp = Flask(__name__)\n")
    emulators = {"auth": p[1], "functions": p[2], "firestore": p[3], "hosting": p[4], "storage": p[5],
                 "database": p[6]}
    firebase = {"emulators": {**{k: {"port": v} for k, v in emulators.items()},
                              "ui": {"enabled": True, "port": p[7]}, "hub": {"port": p[8]},
                              "logging": {"port": p[9]}}}
    firebase["emulators"]["firestore"]["websocketPort"] = p[10]
    (root / "firebase.json").write_text(json.dumps(firebase, indent=2))
    (root / "frontend").mkdir()
    angular = {"version": 1, "projects": {"web": {"projectType": "application", "architect": {"serve": {
        "builder": "@angular/build:dev-server",
        "options": {"port": p[11], "proxyConfig": "proxy.conf.json"}}}}}}
    (root / "frontend" / "angular.json").write_text(json.dumps(angular, indent=2))
    (root / "frontend" / "proxy.conf.json").write_text(
        json.dumps({"/api": {"target": f"http://127.0.0.1:{p[0]}", "secure": False}}))
    (root / "devlint.toml").write_text(
        '[services.api]\nkind = "flask"\npath = "backend"\n\n'
        '[services.web]\nkind = "angular"\npath = "frontend"\n\n'
        '[services.firebase]\nkind = "firebase"\nproject = "demo-bench"\n')
    return p


def timed(argv: Sequence[str], cwd: Path, env: Mapping[str, str]) -> Tuple[float, int, int]:
    """(seconds, exit code, peak RSS in KiB) of one whole process."""
    start = time.perf_counter()
    proc = subprocess.Popen(list(argv), cwd=cwd, env=dict(env), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return elapsed, proc.returncode, int(usage.ru_maxrss)


def compare(commands: Dict[str, Sequence[str]], cwd: Path, env: Mapping[str, str], runs: int,
            envs: Mapping[str, Mapping[str, str]] = {}) -> Dict[str, Dict[str, float]]:
    times: Dict[str, List[float]] = {name: [] for name in commands}
    rss: Dict[str, List[int]] = {name: [] for name in commands}
    for name, argv in commands.items():  # warm the page cache and the plan cache
        timed(argv, cwd, envs.get(name, env))
    for _ in range(runs):
        for name, argv in commands.items():
            seconds, code, peak = timed(argv, cwd, envs.get(name, env))
            if code not in (0, 1):
                raise SystemExit(f"{name}: exit {code}: {' '.join(argv)}")
            times[name].append(seconds)
            rss[name].append(peak)
    return {name: {"median_ms": statistics.median(times[name]) * 1000,
                   "rss_kib": statistics.median(rss[name])} for name in commands}


def hold(count: int) -> "subprocess.Popen[str]":
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(count)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    if proc.stdout.readline().strip() != "ready":
        raise SystemExit("the listener helper did not start")
    return proc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--runs", type=int, default=0)
    parser.add_argument("--json", metavar="FILE", help="also write the numbers here")
    args = parser.parse_args()
    runs = args.runs or (10 if args.quick else 40)
    devlint = shutil.which("devlint", path=os.path.dirname(sys.executable)) or shutil.which("devlint")
    if devlint is None:
        raise SystemExit("devlint is not installed in this environment (pip install .)")
    results: Dict[str, object] = {
        "machine": f"{platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "interpreter": sys.executable,
    }
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        ports = make_stack(root)
        cache = root / "cache"
        env = dict(os.environ, XDG_CACHE_HOME=str(cache))
        env.pop("DEVLINT_NO_CACHE", None)
        cold_env = dict(env, DEVLINT_NO_CACHE="1")
        check = subprocess.run([devlint, "check"], cwd=root, env=cold_env, capture_output=True, text=True)
        print(check.stdout.strip().splitlines()[-1] if check.stdout.strip() else check.stderr)

        launch = compare({
            "true": ["true"],
            "python -c pass": [sys.executable, "-c", "pass"],
            "devlint run -- true (cold)": [devlint, "run", "--", "true"],
            "devlint run -- true (repeated)": [devlint, "run", "--", "true"],
        }, root, env, runs, envs={"devlint run -- true (cold)": cold_env})
        floor = launch["python -c pass"]
        print(f"\nLaunch overhead ({runs} runs each, medians, {len(ports)} ports):")
        for name, row in launch.items():
            print(f"  {name:<32} {row['median_ms']:7.1f} ms  {row['median_ms'] / floor['median_ms']:5.2f} × python"
                  f"   peak RSS {row['rss_kib'] / 1024:5.1f} MiB ({row['rss_kib'] / floor['rss_kib']:.2f} ×)")
        results["launch"] = launch

        filter_ss = " or ".join(f"sport = :{p}" for p in ports)
        scans: Dict[str, object] = {}
        counts = (10, 1000) if args.quick else (10, 1000, 10000)
        for count in counts:
            holder = hold(count)
            try:
                commands: Dict[str, Sequence[str]] = {"devlint check": [devlint, "check"]}
                if shutil.which("ss"):
                    commands["ss -ltnp"] = ["ss", "-ltnpH", filter_ss]
                if shutil.which("lsof"):
                    commands["lsof -iTCP -sTCP:LISTEN"] = ["lsof", "-nP", "-sTCP:LISTEN",
                                                           "-iTCP:" + ",".join(map(str, ports))]
                row = compare(commands, root, env, max(5, runs // 4))
            finally:
                holder.terminate()
                holder.wait()
            scans[str(count)] = row
            mine = row["devlint check"]["median_ms"]
            ratios = "  ".join(f"{mine / r['median_ms']:.2f} × {name}" for name, r in row.items() if name != "devlint check")
            print(f"\n{count:>6} extra listeners: " + "  ".join(f"{n} {r['median_ms']:.1f} ms" for n, r in row.items()))
            print(f"        devlint check = {ratios}")
        results["scan"] = scans
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
