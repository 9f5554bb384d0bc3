"""`python -m devlint`. Python puts the working directory first on sys.path for -m;
drop it, so a project's own psutil.py or pluggy.py can never be imported by devlint."""

import os
import sys

try:
    _here = os.getcwd()
except OSError:  # the working directory was deleted; the CLI says so
    _here = ""
if sys.path and sys.path[0] in ("", _here):
    del sys.path[0]

from devlint.warm import main  # the warm path, else the full CLI

raise SystemExit(main())
