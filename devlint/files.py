"""Writing a file into a project folder without following links: `devlint init` (and the
fixes that edit a project's files).

Why it is hand-written: ``Path.write_text`` opens the name with ``O_CREAT|O_TRUNC``, which
follows a symbolic link, dangling or not, so a `devlint.toml` link made by anyone who could
write the folder would have devlint write wherever it points. Here:

- the folder is opened once and every step is relative to that descriptor (``dir_fd``),
  and the name must be a plain file name: nothing is ever written outside the folder given,
  even if a path component is swapped for a link meanwhile;
- a new file is created with ``O_CREAT|O_EXCL|O_NOFOLLOW`` (``create``): an existing name,
  a link or a dangling link included, is refused with FileExistsError;
- replacing (``replace``) writes a temporary file in the same folder and renames it over
  the name (``os.replace``, rename(2)): the name's old file or symbolic link is replaced as
  a whole, a link's target is never opened, and a reader sees the old text or the new, never
  half of it. A regular file's permission bits are kept; anything else gets the mode a new
  file gets (0666 minus the umask). Owner and group are the writer's, as for any new file.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from typing import Optional, Union

StrPath = Union[str, "os.PathLike[str]"]


@dataclass(frozen=True)
class Written:
    """What ``write_text`` did. path: folder/name. replaced: None (a new file), "file" or
    "symlink". link_target: what a replaced link pointed to (left untouched), else None."""

    path: str
    replaced: Optional[str] = None
    link_target: Optional[str] = None


def write_text(folder: StrPath, name: str, text: str, replace: bool = False) -> Written:
    """Write text (UTF-8) as folder/name, never following a link at name.

    replace=False: create it; FileExistsError when the name exists in any form (a file, a
    directory, a link even dangling). replace=True: atomically replace whatever file or link
    is there (IsADirectoryError for a directory). ValueError when name is not a plain file
    name; other OSErrors (EACCES, ENOSPC, EROFS...) as raised, with nothing left behind.
    """
    if not name or name in (".", "..") or "/" in name or "\0" in name or (os.altsep and os.altsep in name):
        raise ValueError(f"not a plain file name: {name!r}")
    data = text.encode("utf-8")
    where = os.path.join(os.fspath(folder), name)
    dir_fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        if not replace:
            _create(dir_fd, name, data, _new_file_mode())
            return Written(where)
        return _replace(dir_fd, name, data, where)
    finally:
        os.close(dir_fd)


def _new_file_mode() -> int:
    """0666 minus the umask: the mode open(2) would give a new file."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def _create(dir_fd: int, name: str, data: bytes, mode: int) -> None:
    """Exclusive create, no-follow, written and synced; removed again if writing fails."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open(name, flags, 0o600, dir_fd=dir_fd)
    try:
        os.fchmod(fd, mode)  # not through open's mode, which the umask would narrow again
        _write_all(fd, data)
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        os.unlink(name, dir_fd=dir_fd)
        raise
    os.close(fd)


def _replace(dir_fd: int, name: str, data: bytes, where: str) -> Written:
    try:
        old: Optional[os.stat_result] = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        old = None
    if old is not None and stat.S_ISDIR(old.st_mode):
        raise IsADirectoryError(21, "is a directory", where)
    keep = old is not None and stat.S_ISREG(old.st_mode)
    mode = stat.S_IMODE(old.st_mode) if keep and old is not None else _new_file_mode()
    target = _link_target(dir_fd, name) if old is not None and stat.S_ISLNK(old.st_mode) else None
    temp = _temp_name(name)
    _create(dir_fd, temp, data, mode)
    try:
        os.replace(temp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException:
        os.unlink(temp, dir_fd=dir_fd)
        raise
    if old is None:
        return Written(where)
    if stat.S_ISLNK(old.st_mode):
        return Written(where, "symlink", target)
    return Written(where, "file")


def _link_target(dir_fd: int, name: str) -> Optional[str]:
    """What the link points to, for the message only (it is never opened)."""
    try:
        return os.readlink(name, dir_fd=dir_fd)
    except OSError:
        return None


def _temp_name(name: str) -> str:
    """A name free in the folder right now (created with O_EXCL, so a race only fails)."""
    import secrets

    return f".{name}.{secrets.token_hex(6)}.tmp"


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]
