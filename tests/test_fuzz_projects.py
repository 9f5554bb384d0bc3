"""Property tests over the frameworks' files: whatever firebase.json, angular.json, a proxy
config, .flaskenv/.env, package.json or app.py hold, planning gives a result (possibly with
findings naming the file) or a clear error — never a traceback."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, Tuple

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devlint.config import ConfigError
from devlint.plan import Request, UsageError, build

FILES = ("firebase.json", "angular.json", "proxy.conf.json", "proxy.conf.js", ".flaskenv", ".env",
         "package.json", "app.py", "devlint.toml")
COMMANDS: Tuple[Tuple[str, ...], ...] = (
    ("flask", "run"), ("python", "app.py"), ("ng", "serve"), ("npm", "start"), ("npm", "run", "dev"),
    ("firebase", "emulators:start"), ("npx", "firebase", "emulators:start", "--only", "auth,hosting"),
)
FUZZ = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10, 70000) | st.text(max_size=12)
    | st.sampled_from(["localhost", "0.0.0.0", "::", "http://localhost:5000", "proxy.conf.json", "5000"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["emulators", "auth", "port", "host", "projects", "architect", "serve", "options",
                         "proxyConfig", "scripts", "start", "dev", "target", "context", "ui", "enabled",
                         "hosting", "websocketPort", "configurations", "defaultConfiguration", "x"]),
        inner, max_size=4),
    max_leaves=25)

text_content = st.one_of(
    json_values.map(json.dumps),
    st.text(max_size=300),
    st.binary(max_size=300).map(lambda b: b.decode("latin-1")),
    st.sampled_from(["{", '{"emulators": {"auth": {"port": "abc"}}}', "\ufeff{}", "FLASK_RUN_PORT=\x00",
                     'export FLASK_RUN_PORT="5001', "app.run(port=int(os.environ['P']))",
                     '{"scripts": {"start": "cd .. && npm start"}}', "module.exports = require('x')",
                     '{"scripts": {"dev": "npm run dev"}}', "[services.a]\nkind='flask'\n"]),
)


def plan_for(files: dict[str, bytes], command: Tuple[str, ...] | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / ".git").mkdir()
        for name, data in files.items():
            (root / name).write_bytes(data)
        try:
            plan = build(Request(cwd=root, argv=command), {"HOME": tmp, "PATH": os.environ.get("PATH", "")})
        except (ConfigError, UsageError):
            return
        for finding in plan.findings:
            assert finding.code.startswith("DL") and finding.message


@FUZZ
@given(st.dictionaries(st.sampled_from(FILES), text_content.map(lambda t: t.encode("utf-8", "surrogatepass")),
                       min_size=1, max_size=4),
       st.one_of(st.none(), st.sampled_from(COMMANDS)))
def test_any_project_files(files: dict[str, bytes], command: Any) -> None:
    plan_for(files, command)


@FUZZ
@given(st.sampled_from(FILES), st.binary(max_size=400), st.one_of(st.none(), st.sampled_from(COMMANDS)))
def test_arbitrary_bytes_in_any_file(name: str, data: bytes, command: Any) -> None:
    plan_for({name: data}, command)


def test_huge_and_odd_files() -> None:
    nested = ("[" * 5000 + "]" * 5000).encode()
    huge = b'{"emulators": {' + b" " * (5 * 1024 * 1024) + b"}}"
    for name in ("firebase.json", "angular.json", "package.json", ".flaskenv"):
        for data in (nested, huge, b"\xff\xfe\x00\x00", b"\xef\xbb\xbf{}", b"\x00" * 100):
            for command in (None, *COMMANDS):
                plan_for({name: data}, command)


def test_special_files_do_not_hang_or_crash(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    os.mkfifo(tmp_path / "firebase.json")
    (tmp_path / "angular.json").mkdir()
    os.symlink("loop-b", tmp_path / "loop-a")
    os.symlink("loop-a", tmp_path / "loop-b")
    os.symlink("loop-a", tmp_path / "devlint.toml")
    os.symlink("loop-a", tmp_path / ".flaskenv")
    for command in (None, *COMMANDS):
        build(Request(cwd=tmp_path, argv=command), {"HOME": str(tmp_path)})
