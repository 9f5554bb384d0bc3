"""The plugins' window onto the user's project: files and environment, recorded.

Every file a plugin reads and every environment variable it looks up goes through a
Project, which remembers what it saw (a file's stamp: size, mtime, inode, ctime, device and
a CRC-32 of the bytes it read, see cache.stamp; or that it was absent).
That record is what makes the cached plan safe: the plan is reused only while every
input it was built from is unchanged.

A Project never imports or executes anything from the user's tree: it only reads text,
each file once, through files.read_regular (one descriptor: no hang on a FIFO, a regular
file of at most MAX_FILE_BYTES), and records the stamp of exactly the bytes it read.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Tuple

# One record of a file, shared with the warm path (which cannot import this module).
from devlint.cache import stamp, stamp_of
from devlint.files import Unreadable, read_regular

MAX_FILE_BYTES = 4 * 1024 * 1024
# Files devlint parses rule by rule in Python (dotenv files, JavaScript configs) cost ≈ 4-6 µs
# a byte on hostile input: a smaller cap keeps the worst case near a second. Real ones are a
# few kilobytes.
MAX_PARSED_BYTES = 256 * 1024

# cache.stamp of a file as it was read: (size, mtime_ns, inode, ctime_ns, device, crc32 or
# None for a folder); None when it was absent.
FileStamp = Optional[Tuple[int, int, int, int, int, Optional[int]]]


class FileProblem(Exception):
    """A project file exists but cannot be read as text. path: the file as messages show it,
    followed by ":line" when line (where in it the problem is) is known; reason: what is
    wrong, shown after it; too_large: refused for its size alone (MAX_FILE_BYTES, or the
    reader's smaller limit), not because it is broken."""

    def __init__(self, shown: str, reason: str, line: Optional[int] = None, too_large: bool = False) -> None:
        self.path = shown if line is None else f"{shown}:{line}"
        self.reason = reason
        self.line = line
        self.too_large = too_large
        super().__init__(f"{self.path}: {reason}")


class NotText(ValueError):
    """Bytes that are not UTF-8; line is where the first bad byte is."""

    def __init__(self, line: int) -> None:
        super().__init__(f"not valid UTF-8 text (line {line})")
        self.line = line


def decode_text(data: bytes) -> str:
    """UTF-8 text with an optional BOM, as editors write config files."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NotText(data[: exc.start].count(b"\n") + 1) from None


def _hidden(path: str) -> bool:
    """Whether something is at path that we may not look at (not merely absent)."""
    try:
        os.stat(path)
    except (FileNotFoundError, NotADirectoryError, ValueError):
        return False
    except OSError:
        return True
    return False


class Project:
    """The directory devlint runs for, with recorded reads.

    root: the folder relative paths are taken from (the config file's folder, or the
    working directory when there is no config). Paths handed to plugins and shown in
    messages are relative to root where possible.
    """

    def __init__(
        self,
        root: Path,
        env: Optional[Mapping[str, str]] = None,
        platform: Optional[str] = None,
        config_path: Optional[Path] = None,
    ) -> None:
        import sys

        self.root = root
        self.config_path = config_path
        self.platform = platform or sys.platform
        self._env: Mapping[str, str] = os.environ if env is None else env
        self.files_read: Dict[str, FileStamp] = {}
        self.env_read: Dict[str, Optional[str]] = {}

    # -- paths --------------------------------------------------------------
    def path(self, relative: str, base: str = ".") -> Path:
        """Resolve a path from the project root (or from base, itself under the root)."""
        return (self.root / base / relative) if not os.path.isabs(relative) else Path(relative)

    def display(self, path: Path) -> str:
        """A path as messages show it: relative to the root when below it."""
        try:
            return os.path.relpath(path, self.root) if path.is_absolute() else str(path)
        except ValueError:  # another drive on Windows
            return str(path)

    # -- recorded reads -----------------------------------------------------
    def exists(self, relative: str, base: str = ".") -> bool:
        full = str(self.path(relative, base))
        st = stamp(full)
        self.files_read[full] = st
        if st is None:  # absent, or there but hidden from us (EACCES, ELOOP): read_text says which
            return _hidden(full)
        return os.path.isfile(full)

    def read_text(self, relative: str, base: str = ".", limit: int = MAX_FILE_BYTES) -> Optional[str]:
        """The file's text, or None when it does not exist.

        Raises FileProblem when it exists but is unreadable, larger than limit bytes
        (MAX_PARSED_BYTES for files parsed rule by rule), or not text; callers turn that
        into a finding naming the file.
        """
        full = self.path(relative, base)
        key = str(full)
        shown = self.display(full)
        try:
            st = os.stat(key)  # only to tell "absent" from "there but hidden", and to name a non-file
        except (FileNotFoundError, NotADirectoryError, ValueError):
            self.files_read[key] = None
            return None  # absent (or a dangling link): the framework's default applies
        except OSError as exc:  # a folder we may not enter, a symlink loop: not an absence
            self.files_read[key] = None
            raise FileProblem(shown, f"cannot be read ({exc.strerror or exc})") from None
        if stat.S_ISDIR(st.st_mode):
            problem = "is a directory, expected a file"
        elif not stat.S_ISREG(st.st_mode):  # a FIFO or device would block or never end
            problem = "is not a regular file"
        else:
            try:  # too big, unreadable, or swapped for something else since the stat
                opened, data = read_regular(key, limit)
            except Unreadable as exc:
                if exc.too_large:
                    self.files_read[key] = stamp(key)
                    raise FileProblem(shown, exc.reason, too_large=True) from None
                problem = exc.reason
            else:
                self.files_read[key] = stamp_of(opened, data)  # the record of exactly the bytes read
                try:
                    return decode_text(data)
                except NotText as exc:
                    raise FileProblem(shown, "is not valid UTF-8 text", exc.line) from None
        self.files_read[key] = stamp(key)  # as it is now: a change to it invalidates the plan
        raise FileProblem(shown, problem)

    def listdir(self, relative: str, base: str = ".") -> List[str]:
        """The names in a folder, sorted; empty when it is absent or unreadable. The folder's
        stamp is recorded: adding or removing an entry changes it."""
        full = str(self.path(relative, base))
        self.files_read[full] = stamp(full)
        try:
            return sorted(os.listdir(full))
        except (OSError, ValueError):
            return []

    def getenv(self, name: str) -> Optional[str]:
        value = self._env.get(name)
        self.env_read[name] = value
        return value

    @property
    def environ(self) -> Mapping[str, str]:
        """The raw environment, unrecorded: for passing on, not for deciding."""
        return self._env
