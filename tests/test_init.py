"""`devlint init` on folders with real framework files: the example stack, and files from
the shared corpus (read where they are, through symlinks). What it writes must be a
config that `devlint config` and `devlint check` accept (exit 0 or 1, never 2)."""

from __future__ import annotations

import json
import os
import shutil
import stat
import sys
from pathlib import Path

import pytest

from devlint import files
from tests.runner import devlint

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[1]
STACK = REPO / "examples" / "stack"
CORPUS = Path(os.environ.get("DEVLINT_CORPUS", "/work/shared/corpus"))






def accepted(cwd: Path) -> str:
    """Run `devlint --strict config` and `devlint check` on cwd's devlint.toml; return config's output."""
    shown = devlint(cwd, "--strict", "config")
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert "devlint.toml" in shown.stdout
    checked = devlint(cwd, "check")
    assert checked.returncode in (0, 1), checked.stdout + checked.stderr
    assert "Traceback" not in checked.stderr
    return shown.stdout


@pytest.fixture
def stack(tmp_path: Path) -> Path:
    dest = tmp_path / "stack"
    shutil.copytree(STACK, dest, ignore=shutil.ignore_patterns("node_modules", ".angular", "dist", "devlint.toml"))
    return dest


def test_init_on_the_example_stack(stack: Path) -> None:
    result = devlint(stack, "init")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("devlint: wrote devlint.toml (")
    text = (stack / "devlint.toml").read_text()
    assert '[services.backend]\nkind = "flask"\npath = "backend"\n' in text
    assert "# http: 127.0.0.1:5000  (port: backend/.flaskenv:2 FLASK_RUN_PORT;" in text
    assert "[services.firebase]\nkind = \"firebase\"\n" in text
    assert ('command = "firebase emulators:start --only auth,hosting,functions --project demo-devlint"'
            "  # from package.json scripts.emulators") in text
    assert "(port: firebase.json:10 emulators.auth.port;" in text
    assert '[services.frontend]\nkind = "angular"\npath = "frontend"\ncommand = "ng serve"' in text
    shown = accepted(stack)
    assert "backend" in shown and "firebase" in shown


def test_refuses_to_overwrite_without_force(stack: Path) -> None:
    (stack / "devlint.toml").write_text("# mine\n")
    refused = devlint(stack, "init")
    assert refused.returncode == 2
    assert refused.stderr == ("devlint: devlint.toml already exists here; pass --force to overwrite it "
                              "or --dry-run to see it\n")
    assert (stack / "devlint.toml").read_text() == "# mine\n"

    dry = devlint(stack, "init", "--dry-run")
    assert dry.returncode == 0
    assert dry.stdout.startswith("# devlint.toml, written by `devlint init`")
    assert "[services.backend]" in dry.stdout
    assert (stack / "devlint.toml").read_text() == "# mine\n"

    forced = devlint(stack, "init", "--force")
    assert forced.returncode == 0
    assert (stack / "devlint.toml").read_text() == dry.stdout


def test_an_empty_folder_gets_a_commented_template(tmp_path: Path) -> None:
    result = devlint(tmp_path, "init")
    assert result.returncode == 0
    assert "no services; edit it by hand" in result.stdout
    assert "# [services.api]" in (tmp_path / "devlint.toml").read_text()
    assert devlint(tmp_path, "--strict", "config").returncode == 0


def corpus_file(folder: str, name: str) -> Path:
    path = CORPUS / folder / name
    if not path.is_file():
        pytest.skip(f"the shared corpus is not here ({path} is missing)")
    return path


@pytest.mark.parametrize("firebase, flaskenv, package", [
    ("001.json", "001.flaskenv", "001.json"),
    ("003.json", "003.flaskenv", "003.json"),
    ("005.json", "005.flaskenv", "005.json"),
])
def test_init_on_corpus_files(tmp_path: Path, firebase: str, flaskenv: str, package: str) -> None:
    root = tmp_path / "project"
    (root / "backend").mkdir(parents=True)
    (root / "web").mkdir()
    (root / "firebase.json").symlink_to(corpus_file("firebase", firebase))
    (root / "backend" / ".flaskenv").symlink_to(corpus_file("flaskenv", flaskenv))
    (root / "backend" / "app.py").write_text("from flask import Flask\napp = Flask(__name__)\n")
    (root / "web" / "package.json").symlink_to(corpus_file("packagejson", package))
    angular = CORPUS / "angular" / "001.json"
    if angular.is_file():
        (root / "web" / "angular.json").symlink_to(angular)

    result = devlint(root, "init")
    assert result.returncode == 0, result.stderr
    text = (root / "devlint.toml").read_text()
    assert '[services.backend]\nkind = "flask"\npath = "backend"\n' in text
    assert "[services.firebase]" in text
    accepted(root)


# -- what init writes, and where -----------------------------------------------------------

def _outside(tmp_path: Path) -> Path:
    """A file outside the project (someone else's config, or /etc/something) with known text."""
    target = tmp_path / "outside" / "precious.toml"
    target.parent.mkdir()
    target.write_text("# not devlint's\n")
    return target


@pytest.mark.parametrize("force", [False, True], ids=["no-force", "force"])
def test_a_symlinked_devlint_toml_is_never_followed(stack: Path, tmp_path: Path, force: bool) -> None:
    """A devlint.toml that is a link to a file elsewhere: without --force init refuses (exit 2,
    naming the link); with --force the link itself is replaced by a regular file. Either way
    the link's target keeps its text."""
    target = _outside(tmp_path)
    (stack / "devlint.toml").symlink_to(target)
    result = devlint(stack, "init", *(["--force"] if force else []))
    assert target.read_text() == "# not devlint's\n"
    if not force:
        assert result.returncode == 2
        assert result.stderr == ("devlint: devlint.toml already exists here (a symbolic link); pass --force to "
                                 "overwrite it or --dry-run to see it\n")
        assert (stack / "devlint.toml").is_symlink()
        return
    assert result.returncode == 0, result.stderr
    assert f"was a symbolic link (to {target})" in result.stdout
    assert not (stack / "devlint.toml").is_symlink()
    assert tomllib.loads((stack / "devlint.toml").read_text())["services"]["backend"]["kind"] == "flask"


@pytest.mark.parametrize("force", [False, True], ids=["no-force", "force"])
def test_a_dangling_symlink_is_not_followed_either(tmp_path: Path, force: bool) -> None:
    """A link to a name that does not exist yet: writing through it would create a file
    wherever the link says. It is refused, or replaced with --force; the target never appears."""
    root = tmp_path / "project"
    root.mkdir()
    target = tmp_path / "elsewhere" / "created.toml"
    target.parent.mkdir()
    (root / "devlint.toml").symlink_to(target)
    result = devlint(root, "init", *(["--force"] if force else []))
    assert result.returncode == (0 if force else 2), result.stderr
    assert not target.exists()
    assert (root / "devlint.toml").is_symlink() is not force


def test_force_keeps_the_mode_of_the_file_it_replaces(stack: Path) -> None:
    config = stack / "devlint.toml"
    config.write_text("# mine\n")
    config.chmod(0o640)
    assert devlint(stack, "init", "--force").returncode == 0
    assert stat.S_IMODE(config.stat().st_mode) == 0o640
    assert config.read_text().startswith("# devlint.toml, written by `devlint init`")
    assert [p.name for p in stack.iterdir() if p.name.startswith(".devlint.toml")] == []  # no temp file left


HOSTILE = "\n[services.evil]\nport = 1\n# \x1b[31m\r\x07\u202e"


def _hostile_project(root: Path) -> None:
    """Project files whose text carries newlines and terminal escapes where init copies text:
    a folder name, a .flaskenv host (a quoted dotenv value with \\n), an npm script's name
    and a command-line flag."""
    (root / ".git").mkdir(parents=True)
    api = root / f"api{HOSTILE}"
    api.mkdir()
    (api / ".flaskenv").write_text('FLASK_APP=app.py\nFLASK_RUN_PORT=5001\n'
                                   'FLASK_RUN_HOST="127.0.0.1\\n[services.host]\\nport = 2\\n\x1b[2J"\n')
    (api / "app.py").write_text("from flask import Flask\napp = Flask(__name__)\n")
    web = root / "web"
    web.mkdir()
    (web / "angular.json").write_text('{"projects": {"web": {"architect": {"serve": '
                                      '{"builder": "@angular-devkit/build-angular:dev-server"}}}}}')
    scripts = {f"start{HOSTILE}": f"ng serve --port 4300 --host 'localhost{HOSTILE}'"}
    (web / "package.json").write_text(json.dumps({"scripts": scripts}))


def test_text_from_project_files_cannot_inject_lines(tmp_path: Path) -> None:
    """The written file parses (tomllib), has exactly the tables init meant (one per service
    found, none from the hostile text), every line is a key, a table or a comment, and holds
    no control character; the values keep the text, escaped."""
    root = tmp_path / "project"
    _hostile_project(root)
    result = devlint(root, "init")
    assert result.returncode == 0, result.stderr
    text = (root / "devlint.toml").read_text()
    parsed = tomllib.loads(text)
    assert sorted(parsed["services"]) == sorted([f"api{HOSTILE}", "web"])
    assert parsed["services"][f"api{HOSTILE}"]["path"] == f"api{HOSTILE}"
    assert not any(c in text for c in "\x1b\r\x07\u202e")
    for line in text.splitlines():
        assert line == "" or line.startswith(("#", "[services.", "kind =", "path =", "command =")), line
    assert "# from web/package.json scripts.start\\n[services.evil]\\nport = 1\\n# \\x1b[31m\\r\\x07\\u202e" in text
    accepted_or_reported(root)


def accepted_or_reported(cwd: Path) -> None:
    """`devlint config` reads the written file without a usage error (exit 0)."""
    shown = devlint(cwd, "config")
    assert shown.returncode == 0, shown.stdout + shown.stderr


def test_write_text_writes_only_plain_names_in_the_folder(tmp_path: Path) -> None:
    for name in ("../escape.toml", "sub/devlint.toml", "..", "", "a\0b"):
        with pytest.raises(ValueError):
            files.write_text(tmp_path, name, "x")
    assert list(tmp_path.iterdir()) == []
    written = files.write_text(tmp_path, "devlint.toml", "x = 1\n")
    assert (written.replaced, (tmp_path / "devlint.toml").read_text()) == (None, "x = 1\n")
    with pytest.raises(FileExistsError):
        files.write_text(tmp_path, "devlint.toml", "y = 2\n")
    assert files.write_text(tmp_path, "devlint.toml", "y = 2\n", replace=True).replaced == "file"
    assert (tmp_path / "devlint.toml").read_text() == "y = 2\n"
