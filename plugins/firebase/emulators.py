"""The facts about firebase-tools' emulators: names, default ports and hosts, which move by themselves.

Data only, no logic. Sources, in firebase-tools:

- ``src/emulator/constants.ts``: ``DEFAULT_PORTS``, ``FIND_AVAILBLE_PORT_BY_DEFAULT`` (the
  emulators that take the next free port when theirs is busy and no port was set),
  ``EMULATOR_DESCRIPTION``, ``DEFAULT_HOST`` ("localhost").
- ``src/emulator/portUtils.ts``: ``EMULATOR_CAN_LISTEN_ON_PRIMARY_ONLY`` (false only for the hub
  and the UI, which listen on every address their host resolves to; the others bind the first
  one), and ``resolveHostAndAssignPorts``, which never gives hosting port 5001.
- ``src/emulator/controller.ts``: ``filterEmulatorTargets``/``shouldStart`` (which emulators
  start), ``getListenConfig`` (host and port of each), the Firestore websocket and Data Connect
  Postgres listeners.
- ``src/emulator/types.ts``: ``ALL_SERVICE_EMULATORS`` and ``EMULATORS_SUPPORTED_BY_UI``.
- ``src/emulator/dns.ts``: "localhost" is pre-populated as [127.0.0.1, ::1], IPv4 first, on every
  OS (``devlint.addresses.LOOPBACKS`` in that order).
"""

from __future__ import annotations

from typing import Dict, NamedTuple, Tuple

from devlint.addresses import LOCALHOST
from devlint.model import Source


class Emulator(NamedTuple):
    """One emulator as firebase-tools starts it when firebase.json sets nothing."""

    port: int  # constants.ts DEFAULT_PORTS
    moves: bool  # constants.ts FIND_AVAILBLE_PORT_BY_DEFAULT: takes the next free port by itself
    description: str  # constants.ts EMULATOR_DESCRIPTION


EMULATORS: Dict[str, Emulator] = {
    "hub": Emulator(4400, True, "emulator hub"),
    "ui": Emulator(4000, True, "Emulator UI"),
    "logging": Emulator(4500, True, "Logging Emulator"),
    "apphosting": Emulator(5002, True, "App Hosting Emulator"),
    "auth": Emulator(9099, False, "Authentication Emulator"),
    "functions": Emulator(5001, False, "Functions Emulator"),
    "firestore": Emulator(8080, False, "Firestore Emulator"),
    "database": Emulator(9000, False, "Database Emulator"),
    "hosting": Emulator(5000, True, "Hosting Emulator"),
    "pubsub": Emulator(8085, False, "Pub/Sub Emulator"),
    "storage": Emulator(9199, False, "Storage Emulator"),
    "eventarc": Emulator(9299, True, "Eventarc Emulator"),
    "dataconnect": Emulator(9399, False, "Data Connect Emulator"),
    "tasks": Emulator(9499, True, "Cloud Tasks Emulator"),
}

# constants.ts DEFAULT_HOST, and the source devlint names for every default it takes from here.
DEFAULT_HOST = LOCALHOST
DEFAULT_SOURCE = Source("default", "firebase-tools default")

# types.ts ALL_SERVICE_EMULATORS (the order in which devlint lists the ones that start).
SERVICE_EMULATORS = (
    "apphosting",
    "auth",
    "functions",
    "firestore",
    "database",
    "hosting",
    "pubsub",
    "storage",
    "eventarc",
    "dataconnect",
    "tasks",
)
# What --only accepts: the service emulators, and extensions (which run inside functions).
ONLY_NAMES = (*SERVICE_EMULATORS, "extensions")
# controller.ts: eventarc and tasks start with functions, when functions has something to run.
WITH_FUNCTIONS = ("functions", "eventarc", "tasks")
# types.ts EMULATORS_SUPPORTED_BY_UI: the UI starts only when one of these is a target.
UI_SUPPORTED = ("auth", "database", "firestore", "functions", "storage", "extensions")
# portUtils.ts EMULATOR_CAN_LISTEN_ON_PRIMARY_ONLY is false only for these: they listen on
# every address the host resolves to; all others bind the first one only.
MULTI_LISTEN = ("hub", "ui")
# portUtils.ts: hosting never gets this port (it is functions' default), it moves past it.
HOSTING_NEVER = EMULATORS["functions"].port
# serve/hosting.ts: with several sites, site i > 0 listens on the first site's port + 4 + i.
HOSTING_SITE_OFFSET = 4


class Secondary(NamedTuple):
    """A second listener of an emulator, set by a port key of its own in firebase.json; it
    moves by itself when that key is not set (controller.ts)."""

    emulator: str  # the emulator it belongs to
    key: str  # its port key under emulators.<emulator>
    name: str  # the endpoint's name (portUtils.ts PortName where it has one)
    port: int  # its default port
    unless_env: str = ""  # not started when this environment variable is set


SECONDARIES: Tuple[Secondary, ...] = (
    Secondary("firestore", "websocketPort", "firestore.websocket", 9150),
    Secondary("dataconnect", "postgresPort", "dataconnect.postgres", 5432,
              unless_env="FIREBASE_DATACONNECT_POSTGRESQL_STRING"),
)

# The environment variables that change what starts or where (read through Project.getenv).
ENV_VARS = ("START_LOGGING_EMULATOR", "WSL_DISTRO_NAME", "FIREBASE_DATACONNECT_POSTGRESQL_STRING")
