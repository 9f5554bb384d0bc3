"""`python -m devlint`. Python puts the working directory first on sys.path for -m;
drop it, so a project's own psutil.py or pluggy.py can never be imported by devlint.

That comes too late for what Python's own runner (runpy) imports before this file runs:
on a plain install of Python 3.11 that is warnings, importlib, keyword, operator, reprlib,
collections, types, functools and contextlib (`python -X importtime -m devlint --version`
lists them between `site` and `devlint`), all looked up in the working directory first.
A project's functools.py has then already run, and devlint's standard library is not the
standard library. That cannot be undone from here, so devlint refuses to go on (exit 2) and
says how to start it safely: the `devlint` console script (its sys.path[0] is the script's
own folder), `python -P -m devlint` (3.11+) or `python -I -m devlint`, which do not put the
working directory on sys.path at all.
"""

import os
import sys

try:
    _here = os.getcwd()
except OSError:  # the working directory was deleted; the CLI says so
    _here = ""
if sys.path and sys.path[0] in ("", _here):
    del sys.path[0]


def _from_here(folder: str) -> list:  # type: ignore[type-arg]  # typing is not imported here
    """The top-level modules (not devlint itself) that were loaded from folder as sys.path[0]
    finds them there: folder/NAME.py (or .pyc, .so) or folder/NAME/__init__.py. Their file
    names relative to folder, sorted."""
    if not folder:
        return []
    found = []
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None)
        if "." in name or name in ("__main__", "devlint") or not isinstance(path, str):
            continue
        parent = os.path.dirname(os.path.abspath(path))
        if parent == folder or (os.path.basename(parent) == name and os.path.dirname(parent) == folder):
            found.append(os.path.relpath(path, folder))
    return sorted(found)


_shadowing = _from_here(_here)
if _shadowing:
    _safe = "python -P -m devlint" if sys.version_info >= (3, 11) else "python -I -m devlint"
    try:  # noqa: SIM105  # contextlib is not imported on the way to exec
        print(f"devlint: `python -m devlint` imported {', '.join(_shadowing)} from this folder before devlint "
              f"started (Python's runner looks in the working directory first); nothing was checked. Run "
              f"`devlint` (the installed command) or `{_safe}` instead.", file=sys.stderr)
    except (AttributeError, OSError, ValueError):  # no stderr (2>&-), or a full one
        pass
    raise SystemExit(2)

from devlint.warm import main  # noqa: E402  # the warm path, else the full CLI

raise SystemExit(main())
