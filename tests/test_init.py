"""`devlint init` on folders with real framework files: the example stack, and files from
the shared corpus (read where they are, through symlinks). What it writes must be a
config that `devlint config` and `devlint check` accept (exit 0 or 1, never 2)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.runner import devlint

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
