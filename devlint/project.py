"""The plugins' window onto the user's project: files and environment, recorded.

Every file a plugin reads and every environment variable it looks up goes through a
Project, which remembers what it saw (a file's stamp: size, mtime, inode, ctime, device and
a CRC-32 of the bytes it read, see cache.stamp; or that it was absent).
That record is what makes the cached plan safe: the plan is reused only while every
input it was built from is unchanged.

A Project never imports or executes anything from the user's tree: it only reads text.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Tuple

# One record of a file, shared with the warm path (which cannot import this module).
from devlint.cache import stamp, stamp_of

MAX_FILE_BYTES = 4 * 1024 * 1024

# cache.stamp of a file as it was read: (size, mtime_ns, inode, ctime_ns, device, crc32 or
# None for a folder); None when it was absent.
FileStamp = Optional[Tuple[int, int, int, int, int, Optional[int]]]


class FileProblem(Exception):
    """A project file exists but cannot be read as text."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


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


def _read_regular(path: str, shown: str) -> Tuple[os.stat_result, bytes]:
    """(fstat, bytes) of a regular file of at most MAX_FILE_BYTES, read through one
    descriptor: opened with O_NONBLOCK (a file swapped for a FIFO after the caller's stat
    does not hang), checked by fstat, then read whole. FileProblem otherwise."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        raise FileProblem(shown, f"cannot be read ({exc.strerror or exc})") from None
    try:
        st = os.fstat(fd)
        if (st.st_mode & 0o170000) != 0o100000:
            raise FileProblem(shown, "is not a regular file")
        chunks: List[bytes] = []
        size = 0
        while size <= MAX_FILE_BYTES:
            chunk = os.read(fd, MAX_FILE_BYTES + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise FileProblem(shown, f"cannot be read ({exc.strerror or exc})") from None
    finally:
        os.close(fd)
    if size > MAX_FILE_BYTES:
        raise FileProblem(shown, f"is over {MAX_FILE_BYTES} bytes; devlint reads files up to {MAX_FILE_BYTES}")
    return st, b"".join(chunks)


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

    def read_text(self, relative: str, base: str = ".") -> Optional[str]:
        """The file's text, or None when it does not exist.

        Raises FileProblem when it exists but is unreadable, too large, or not text;
        callers turn that into a finding naming the file.
        """
        full = self.path(relative, base)
        key = str(full)
        st = stamp(key)
        self.files_read[key] = st
        shown = self.display(full)
        if st is None:
            try:
                os.stat(key)
            except (FileNotFoundError, NotADirectoryError, ValueError):
                return None  # absent (or a dangling link): the framework's default applies
            except OSError as exc:  # a folder we may not enter, a symlink loop: not an absence
                raise FileProblem(shown, f"cannot be read ({exc.strerror or exc})") from None
            return None  # it appeared meanwhile: read it next time
        if os.path.isdir(key):
            raise FileProblem(shown, "is a directory, expected a file")
        if not os.path.isfile(key):  # a FIFO or device would block or never end
            raise FileProblem(shown, "is not a regular file")
        if st[0] > MAX_FILE_BYTES:
            raise FileProblem(shown, f"is {st[0]} bytes; devlint reads files up to {MAX_FILE_BYTES}")
        opened, data = _read_regular(key, shown)
        self.files_read[key] = stamp_of(opened, data)  # the record of exactly the bytes read
        try:
            return decode_text(data)
        except NotText as exc:
            raise FileProblem(f"{shown}:{exc.line}", "is not valid UTF-8 text") from None

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
