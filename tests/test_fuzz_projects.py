"""Property tests over the frameworks' files: whatever firebase.json, angular.json, a proxy
config, .flaskenv/.env, package.json, app.py, devlint.toml or pyproject.toml hold, planning
gives a result (possibly with findings naming the file) or a clear error naming the file —
never a traceback. The same through the command line (in-process, every sub-command but
`probe`), and for files and folders devlint may not read (devlint run without capabilities:
the tests run as root, and root ignores permission bits), special files and symlink loops."""

from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple
from unittest import mock

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devlint import cli
from devlint.config import ConfigError
from devlint.plan import build
from devlint.warm import Request, UsageError
from tests.fuzzing import FUZZ
from tests.runner import assert_clean_exit, base_env, devlint_argv, run, unprivileged

FILES = ("firebase.json", "angular.json", "proxy.conf.json", "proxy.conf.js", ".flaskenv", ".env",
         "package.json", "app.py", "devlint.toml", "pyproject.toml")
CONFIGS = ("devlint.toml", "pyproject.toml")
COMMANDS: Tuple[Tuple[str, ...], ...] = (
    ("flask", "run"), ("python", "app.py"), ("ng", "serve"), ("npm", "start"), ("npm", "run", "dev"),
    ("firebase", "emulators:start"), ("npx", "firebase", "emulators:start", "--only", "auth,hosting"),
)

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
                     '{"scripts": {"dev": "npm run dev"}}', "[services.a]\nkind='flask'\n",
                     "[tool.devlint.services.a]\nport = '5000'\n", "[tool.devlint]\nservices = 3\n",
                     '[tool.devlint.services.web]\nkind = "angular"\ncommand = "ng serve \'"\n']),
)
boms = st.sampled_from([b"", b"\xef\xbb\xbf", b"\xef\xbb\xbf\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff\x00"])


def environment(home: str) -> Dict[str, str]:
    env = {"HOME": home, "PATH": os.environ.get("PATH", "")}
    if os.environ.get("DEVLINT_DISABLE_PLUGINS"):
        env["DEVLINT_DISABLE_PLUGINS"] = os.environ["DEVLINT_DISABLE_PLUGINS"]
    return env


def plan_for(files: Dict[str, bytes], command: Optional[Tuple[str, ...]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / ".git").mkdir()
        for name, data in files.items():
            (root / name).write_bytes(data)
        try:
            plan = build(Request(cwd=root, argv=command), environment(tmp))
        except ConfigError as exc:  # only the config files are the user's config
            assert exc.file in CONFIGS, str(exc)
            assert exc.line is not None or not exc.key, f"names a key but no line: {exc}"
            return
        except UsageError:
            return
        for finding in plan.findings:
            assert finding.code.startswith("DL") and finding.message


@FUZZ
@given(st.dictionaries(st.sampled_from(FILES), text_content.map(lambda t: t.encode("utf-8", "surrogatepass")),
                       min_size=1, max_size=4),
       st.one_of(st.none(), st.sampled_from(COMMANDS)))
def test_any_project_files(files: Dict[str, bytes], command: Any) -> None:
    plan_for(files, command)


@FUZZ
@given(st.sampled_from(FILES), st.binary(max_size=400), st.one_of(st.none(), st.sampled_from(COMMANDS)))
def test_arbitrary_bytes_in_any_file(name: str, data: bytes, command: Any) -> None:
    plan_for({name: data}, command)


@FUZZ
@given(st.sampled_from(FILES), boms, text_content, st.one_of(st.none(), st.sampled_from(COMMANDS)))
def test_byte_order_marks(name: str, bom: bytes, text: str, command: Any) -> None:
    plan_for({name: bom + text.encode("utf-8", "surrogatepass")}, command)


# -- the command line, in-process ---------------------------------------------------------------

CLI_RUNS: List[List[str]] = [["check"], ["--format", "json", "check"], ["config"], ["config", "--format", "json"],
                             ["init", "--dry-run"], ["run", "--", "flask", "run"], ["run", "--", "npm", "start"],
                             ["run", "--", "ng", "serve"], ["check", "--strict"]]


def cli_for(files: Dict[str, bytes], args: List[str]) -> None:
    """devlint's main() on a project: an exit code and messages, never an exception. A
    usage or config error (2) names a file of the project (or says what was asked)."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / ".git").mkdir()
        for name, data in files.items():
            (root / name).write_bytes(data)
        out, err = io.StringIO(), io.StringIO()
        cwd = os.getcwd()
        env = {**environment(tmp), "DEVLINT_NO_CACHE": "1", "NO_COLOR": "1"}
        try:
            os.chdir(root)
            with mock.patch.dict(os.environ, env, clear=True), contextlib.redirect_stdout(out), \
                    contextlib.redirect_stderr(err), mock.patch("devlint.launch.execute", return_value=0):
                code = cli.main(args)
        finally:
            os.chdir(cwd)
        assert code in (0, 1, 2), (code, err.getvalue())
        if code == 2:
            message = err.getvalue()
            assert message.startswith("devlint: "), message
            assert any(name in message for name in files) or "plugin" in message, message
        if "json" in args and code != 2:
            json.loads(out.getvalue())


@FUZZ
@given(st.dictionaries(st.sampled_from(FILES), text_content.map(lambda t: t.encode("utf-8", "surrogatepass")),
                       min_size=1, max_size=4),
       st.sampled_from(CLI_RUNS))
def test_command_line_on_any_project(files: Dict[str, bytes], args: List[str]) -> None:
    cli_for(files, args)


def test_huge_and_odd_files() -> None:
    nested = ("[" * 5000 + "]" * 5000).encode()
    huge = b'{"emulators": {' + b" " * (5 * 1024 * 1024) + b"}}"
    for name in ("firebase.json", "angular.json", "package.json", ".flaskenv"):
        for data in (nested, huge, b"\xff\xfe\x00\x00", b"\xef\xbb\xbf{}", b"\x00" * 100):
            for command in (None, *COMMANDS):
                plan_for({name: data}, command)


def test_special_files_do_not_hang_or_crash(tmp_path: Path) -> None:
    """A FIFO (reading it would block), a folder, /dev/zero (endless) and symlink loops
    where framework files are expected: findings or nothing, never a hang."""
    (tmp_path / ".git").mkdir()
    os.mkfifo(tmp_path / "firebase.json")
    (tmp_path / "angular.json").mkdir()
    os.symlink("/dev/zero", tmp_path / "package.json")
    os.symlink("loop-b", tmp_path / "loop-a")
    os.symlink("loop-a", tmp_path / "loop-b")
    os.symlink("loop-a", tmp_path / ".flaskenv")
    os.symlink("loop-a", tmp_path / "proxy.conf.json")
    os.symlink(".", tmp_path / "self")  # a folder loop: self/self/self/...
    for command in (None, *COMMANDS):
        build(Request(cwd=tmp_path, argv=command), environment(str(tmp_path)))
        build(Request(cwd=tmp_path / "self" / "self" / "self", argv=command), environment(str(tmp_path)))


@pytest.mark.parametrize("kind", ["loop", "dangling", "folder", "fifo", "/dev/zero"])
@pytest.mark.parametrize("name", CONFIGS)
def test_config_that_cannot_be_used_is_an_error_not_an_absence(tmp_path: Path, name: str, kind: str) -> None:
    """A devlint.toml (or pyproject.toml) that is there but unusable must not be skipped:
    devlint would then check a different config, or none, and say "clear"."""
    (tmp_path / ".git").mkdir()
    target = tmp_path / name
    if kind == "loop":
        os.symlink(name, target)
    elif kind == "dangling":
        os.symlink("missing.toml", target)
    elif kind == "folder":
        target.mkdir()
    elif kind == "fifo":
        os.mkfifo(target)
    else:
        os.symlink("/dev/zero", target)
    (tmp_path / "sub").mkdir()
    for cwd in (tmp_path, tmp_path / "sub"):
        with pytest.raises(ConfigError) as caught:
            build(Request(cwd=cwd), environment(str(tmp_path)))
        assert caught.value.file.endswith(name)


# -- files and folders devlint may not read --------------------------------------------------------

UNPRIVILEGED = unprivileged()


def _stack(root: Path) -> None:
    (root / ".git").mkdir(parents=True)
    (root / "backend").mkdir()
    (root / "backend" / ".flaskenv").write_text("FLASK_RUN_PORT=5077\n")
    (root / "backend" / "app.py").write_text("from flask import Flask\napp = Flask(__name__)\n")
    (root / "firebase.json").write_text('{"emulators": {"auth": {"port": 9177}}}')
    (root / "package.json").write_text('{"scripts": {"start": "ng serve --port 4277"}}')
    (root / "devlint.toml").write_text('[services.api]\nkind = "flask"\npath = "backend"\n\n'
                                       '[services.auth]\nkind = "firebase"\n')
    for path in [root, *root.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)


@pytest.mark.skipif(UNPRIVILEGED is None, reason="root without setpriv: cannot drop capabilities")
@pytest.mark.parametrize("unreadable", ["devlint.toml", "backend/.flaskenv", "backend/app.py", "firebase.json",
                                        "package.json", "backend", ".", ".git"])
def test_unreadable_files_and_folders(tmp_path: Path, unreadable: str) -> None:
    """One file or folder of the project is mode 000; devlint runs without the capabilities
    that let root ignore that (see tests/runner.py: unprivileged)."""
    assert UNPRIVILEGED is not None
    root = tmp_path / "project"
    _stack(root)
    (root / unreadable).chmod(0)
    env = base_env(tmp_path)
    for args in (["check"], ["config"], ["run", "--", "true"], ["--format", "json", "check"]):
        result = run([*UNPRIVILEGED, *map(str, devlint_argv(*args))], root, env)
        err = assert_clean_exit(result, 0, 1, 2)
        out = result.stdout.decode("utf-8", "replace")
        if unreadable in ("devlint.toml", "."):  # the config itself: exit 2, naming it
            assert result.returncode == 2 and "devlint.toml" in err and "Permission denied" in err, err
        elif unreadable in ("backend/.flaskenv", "backend") and args != ["config"]:
            # not "clear" with Flask's default port: the service's settings are unknown
            assert result.returncode in (1, 2), (args, out, err)
            assert "backend/.flaskenv" in out + err and "Permission denied" in out + err, (args, out, err)
