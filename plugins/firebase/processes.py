"""Explaining a listener that is a running Firebase emulator suite (a live hook: only for a port
that is not clear).

Two kinds of evidence. The process's command line: firebase-tools' node process
(``firebase emulators:start``), or one of the emulators it downloads into
``~/.cache/firebase/emulators/`` (src/emulator/downloadableEmulators.ts), the JVM ones among them
run as ``java -jar <name>-v<version>.jar``. And the hub locator file ``hub-<project>.json`` that
the emulator hub writes into the temp folder while a suite runs and removes when it stops cleanly
(src/emulator/hub.ts ``EmulatorHub.getLocatorFilePath``), naming the hub's port and origins.
"""

from __future__ import annotations

import os
from typing import Any, Dict, Optional, Sequence, Set

from devlint.model import Endpoint, Explanation, Listener, Service
from devlint.process import basename as program_name
from devlint.process import folder, program

from .cli import is_firebase
from .rules import KIND

# The Java jars firebase-tools downloads and runs for the JVM emulators.
JAVA_EMULATORS = (
    "cloud-firestore-emulator",
    "cloud-storage-rules-runtime",
    "pubsub-emulator",
    "firebase-database-emulator",
)
DOWNLOADS = "/.cache/firebase/emulators/"
HUB_FILES = "hub-*.json"
MAX_HUB_FILES = 50
MAX_HUB_FILE_BYTES = 1 << 20


def explain(listener: Listener, service: Service, endpoint: Endpoint) -> Optional[Explanation]:
    """What a listener in the way is, when it is firebase-tools or one of its emulators (at the
    program position: `emulator_process`). Next to a firebase service it is a suite from an
    earlier run; next to another, a suite in the way. It is stale (a dev server of the user's
    own, which --kill may offer to stop) only when its working folder is the service's folder
    (firebase-tools runs in the folder of firebase.json, and starts its emulators there);
    otherwise it is explained, not stale."""
    what = emulator_process(listener.cmdline)
    if what is None:
        return None
    ours = service.kind == KIND
    project_id = service.details.get("project") if ours else None
    hub = hub_file_for(listener, project_id if isinstance(project_id, str) else None)
    project = os.path.realpath(service.path)
    cwd = folder(listener.pid)
    here = cwd == project
    # why and fix end without a full stop: the report joins them as "title: why; fix."
    why = f"{listener.owner()} is {what} still listening on {listener.where()}" + (f"; {hub}" if hub else "")
    if not here:
        why += (f", started in another folder ({cwd})" if cwd else ", in a folder devlint cannot read") \
            + f", not {project}"
    if ours and here:
        why += ". It looks like an emulator suite from an earlier run that was not stopped"
        fix = (f"stop it (Ctrl-C in its terminal, or `kill {listener.pid}`), or run devlint with --kill"
               if listener.pid else "stop the earlier `firebase emulators:start` (Ctrl-C in its terminal)")
    else:
        fix = "stop that emulator suite, or move one of them to another port" + (
            f" ({endpoint.fix.format(port=endpoint.port + 1)})" if endpoint.fix else "")
    return Explanation(title=f"Firebase emulator ({what})", why=why, fix=fix, stale=here)


def emulator_process(cmdline: Optional[Sequence[str]]) -> Optional[str]:
    """What a process is, when the program its command line runs (`devlint.process.program`:
    the executable, or the script an interpreter runs) is firebase-tools or one of its
    emulators: ``firebase``/``firebase.js`` or a script under a ``firebase-tools`` package, a
    program under ``~/.cache/firebase/emulators/``, or ``java`` whose ``-jar``/``-cp`` names
    one of the JVM emulators. `ssh host firebase emulators:start` and `echo …` are not."""
    found = program(cmdline)
    if found is None or found.kind not in ("exe", "script"):
        return None
    value = found.value.replace("\\", "/")
    if found.kind == "exe" and program_name(value) == "java":
        return _java_emulator(found.args)
    if is_firebase(value) or "/firebase-tools/" in value:
        sub = next((w for w in found.args if not w.startswith("-")), "")
        if sub.startswith("emulators:"):
            return f"firebase-tools (`firebase {sub}`)"
        return "a firebase-tools process" if "/firebase-tools/" in value else None
    if DOWNLOADS in value:
        return "a downloaded firebase emulator"
    return None


def _java_emulator(args: Sequence[str]) -> Optional[str]:
    """The JVM emulator a java command line runs (its ``-jar`` file, or its ``-cp`` class
    path, read up to the main class), or None."""
    i = 0
    while i < len(args) and args[i].startswith("-"):
        if args[i] in ("-jar", "-cp", "-classpath", "--class-path") and i + 1 < len(args):
            path = args[i + 1].replace("\\", "/")
            for jar in JAVA_EMULATORS:
                if jar in os.path.basename(path) or f"/{jar}" in path:
                    return f"the Java {jar} of firebase-tools"
            if DOWNLOADS in path:
                return "a downloaded firebase emulator"
            if args[i] == "-jar":
                return None
            i += 2
            continue
        i += 1
    return None


def hub_file_for(listener: Listener, project_id: Optional[str] = None) -> Optional[str]:
    """The hub locator file (hub-<project>.json in the temp folder, written while an emulator
    suite runs and removed when it stops cleanly) that names this listener's port, or that
    belongs to the service's project, as a sentence; None when there is none."""
    import glob
    import tempfile

    folder = tempfile.gettempdir()
    for path in sorted(glob.glob(os.path.join(folder, HUB_FILES)))[:MAX_HUB_FILES]:
        data = _read_hub_file(path)
        if data is None:
            continue
        ports = _hub_ports(data)
        shown_ports = ", ".join(str(p) for p in sorted(ports))
        file_project = os.path.basename(path)[len("hub-"):-len(".json")]
        if listener.port in ports or (listener.pid is not None and data.get("pid") == listener.pid):
            return (f"{path} (written by firebase-tools while a suite runs) says the emulator hub "
                    f"of project {file_project!r} is on port {shown_ports}")
        if project_id is not None and file_project == project_id and ports:
            return (f"{path} shows an emulator suite of project {project_id!r} still running "
                    f"(hub on port {shown_ports})")
    return None


def _read_hub_file(path: str) -> Optional[Dict[str, Any]]:
    """A hub file's JSON object, or None. The temp folder is shared: read only regular files of
    our own (files.read_regular: without blocking on a FIFO or following a link, at most
    MAX_HUB_FILE_BYTES), and survive whatever they hold. Trust policy (files.untrusted): owned
    by this user, whatever its mode; it only adds a sentence to an explanation."""
    import json

    from devlint.files import read_regular, untrusted

    def not_ours(st: os.stat_result) -> Optional[str]:
        return untrusted(st, root_ok=False, group_write_ok=True, world_write_ok=True)

    try:
        data = json.loads(read_regular(path, MAX_HUB_FILE_BYTES, follow=False, why_not=not_ours)[1].decode("utf-8"))
    except (OSError, ValueError, RecursionError):  # files.Unreadable is an OSError
        return None
    return data if isinstance(data, dict) else None


def _hub_ports(data: Dict[str, Any]) -> Set[int]:
    """The ports a hub file names: its `port`, and the port of each of its `origins`."""
    ports: Set[int] = set()
    if isinstance(data.get("port"), int):
        ports.add(data["port"])
    for origin in data.get("origins") or ():
        if isinstance(origin, str) and origin.rsplit(":", 1)[-1].isdigit():
            ports.add(int(origin.rsplit(":", 1)[-1]))
    return ports
