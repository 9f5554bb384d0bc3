"""How devlint starts in a project that has files named like modules (functools.py, types.py,
pluggy.py, devlint.py ...): what is imported from the working directory, and by whom.

The console script (what `pip install` writes) puts its own folder first on sys.path, never
the working directory: it must never import a project's module. `python -m devlint` is run by
Python's runner, which imports a few standard modules from the working directory before
devlint's __main__ can remove it from sys.path; devlint must notice and refuse (exit 2), never
check with a project's code standing in for the standard library.

The test venv is an editable install whose .pth hook imports functools & co. at start-up,
which would hide what a plain install does; so the `-m` cases run in a plain venv made here
(`venv --without-pip`, devlint on its sys.path by a .pth line that imports nothing).
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Dict, List

import pytest

from tests.runner import SCRIPT, base_env

REPO = Path(__file__).resolve().parents[1]
# Modules devlint or its start-up import, and devlint's own name.
DEVLINT_IMPORTS = ["devlint", "pluggy", "psutil", "colorama", "json", "argparse", "socket", "tomllib", "typing",
                   "dataclasses", "enum", "re", "shlex", "textwrap", "shutil", "signal", "struct", "marshal"]


def str_env(home: Path) -> Dict[str, str]:
    """tests.runner.base_env, as text (what subprocess's type hints want)."""
    return {os.fsdecode(k): os.fsdecode(v) for k, v in base_env(home).items()}


def stub(folder: Path, name: str) -> Path:
    """folder/name.py that leaves a marker file when imported (and nothing else)."""
    marker = folder / f"imported-{name}"
    (folder / f"{name}.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    return marker


def faithful_stub(folder: Path, name: str) -> Path:
    """folder/name.py that leaves a marker file, then runs the standard module's own source
    (so that what imports it still works: a project's module that happens to shadow one)."""
    marker = folder / f"imported-{name}"
    source = Path(sysconfig.get_path("stdlib")) / f"{name}.py"
    (folder / f"{name}.py").write_text(f"open({str(marker)!r}, 'w').close()\n"
                                       f"exec(compile(open({str(source)!r}).read(), {str(source)!r}, 'exec'))\n")
    return marker


@pytest.fixture(scope="module")
def plain_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv's python with devlint importable as a plain install would make it."""
    home = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(home)], check=True, timeout=120)
    python = home / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                             capture_output=True, text=True, check=True).stdout.strip()
    (Path(purelib) / "devlint-repo.pth").write_text(f"{REPO}\n")
    # the dependencies, as installed for the test venv (a path line each: nothing runs)
    (Path(purelib) / "devlint-deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    (Path(purelib) / "devlint_plugins").symlink_to(REPO / "plugins")  # as the editable install maps it
    return python


def imported_before_devlint(python: Path, cwd: Path) -> List[str]:
    """What `python -X importtime -m devlint --version` imports after `site` and before
    `devlint`: the modules Python's runner looks up with the working directory first."""
    result = subprocess.run([str(python), "-X", "importtime", "-m", "devlint", "--version"], cwd=cwd,
                            capture_output=True, text=True, timeout=60)
    names = [line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines() if "|" in line]
    start, end = names.index("site"), names.index("devlint")
    return [name for name in names[start + 1:end] if "." not in name and not name.startswith("_")]


def test_python_m_refuses_after_the_runner_imported_a_project_module(plain_python: Path, tmp_path: Path) -> None:
    clean = tmp_path / "clean"
    clean.mkdir()
    early = imported_before_devlint(plain_python, clean)
    project = tmp_path / "project"
    project.mkdir()
    stdlib = Path(sysconfig.get_path("stdlib"))
    markers = {name: faithful_stub(project, name) for name in early if (stdlib / f"{name}.py").is_file()}
    if not markers:
        pytest.skip(f"this Python's runner imports nothing from the working directory ({sys.version})")
    started = project / "started"
    result = subprocess.run([str(plain_python), "-m", "devlint", "run", "--", "touch", str(started)], cwd=project,
                            env=str_env(tmp_path), capture_output=True, text=True, timeout=60)
    shadowed = sorted(f"{name}.py" for name, marker in markers.items() if marker.exists())
    assert shadowed  # the runner did import them: this is what -m does
    assert result.returncode == 2, result.stderr
    assert f"`python -m devlint` imported {', '.join(shadowed)} from this folder" in result.stderr
    assert "nothing was checked" in result.stderr and "Traceback" not in result.stderr
    assert not started.exists()


@pytest.mark.skipif(sys.version_info < (3, 11), reason="-P is Python 3.11's")
def test_python_P_m_imports_nothing_from_the_project(plain_python: Path, tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / ".git").mkdir()
    markers = [stub(project, name) for name in ("functools", "types", "collections", *DEVLINT_IMPORTS)]
    result = subprocess.run([str(plain_python), "-P", "-m", "devlint", "check"], cwd=project,
                            env=str_env(tmp_path), capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert [m.name for m in markers if m.exists()] == []


@pytest.mark.skipif(SCRIPT is None, reason="the devlint console script is not installed")
@pytest.mark.parametrize("args", [["--version"], ["check"], ["config"], ["run", "--", "true"]], ids=" ".join)
def test_the_console_script_never_imports_a_project_module(tmp_path: Path, args: List[str]) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / ".git").mkdir()
    names = {"functools", "types", "collections", "warnings", "keyword", "operator", "reprlib", "contextlib",
             *DEVLINT_IMPORTS}
    markers = [stub(project, name) for name in sorted(names)]
    env = str_env(tmp_path)
    for _ in range(2):  # the second `run` / `check` is answered by the warm path (cached plan)
        result = subprocess.run([str(SCRIPT), *args], cwd=project, env=env, capture_output=True, text=True,
                                timeout=60)
        assert result.returncode == 0, result.stderr
        assert [m.name for m in markers if m.exists()] == []
    assert os.path.exists(project / "devlint.py")  # the stubs were there all along
