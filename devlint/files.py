"""Reading and writing files safely: the one place devlint opens a file that someone else
may have put there, or writes one into a project folder.

Why it is hand-written: no library reads through one checked descriptor (``io.open`` and
``Path.read_bytes`` block on a FIFO, follow a link, and check nothing between open and
read) or writes without following a link (``Path.write_text`` opens with
``O_CREAT|O_TRUNC``, which follows a symbolic link, dangling or not, so a `devlint.toml`
link made by anyone who could write the folder would have devlint write wherever it
points). What each helper guarantees:

- ``read_regular``: one descriptor, opened with O_NONBLOCK (a FIFO put at the name does not
  hang the open), with O_NOFOLLOW when asked (a link at the name is refused), relative to a
  folder descriptor when given; judged by fstat of that descriptor (a regular file, within
  the size limit, and whatever trust check the caller passes) before a byte is read; then
  read to the end, never past limit + 1 bytes. Every refusal is one exception, ``Unreadable``,
  whose reason a message shows after the file's name.
- ``untrusted``: whether a stat says the file (or folder) may have been written by another
  user, under a policy each caller states: the plan cache (ours, nobody else may write:
  ``cache._not_ours``), config discovery (yours or root's, not every user's to write:
  ``config._distrust``), the Firebase hub files in the shared temp folder (ours, whatever
  the mode: ``processes._read_hub_file``).
- ``write_text``: the folder is opened once and every step is relative to that descriptor
  (``dir_fd``), and the name must be a plain file name: nothing is ever written outside the
  folder given, even if a path component is swapped for a link meanwhile. A new file is
  created with ``O_CREAT|O_EXCL|O_NOFOLLOW`` (``create``): an existing name, a link or a
  dangling link included, is refused with FileExistsError. Replacing (``replace``) writes a
  temporary file in the same folder and renames it over the name (``os.replace``,
  rename(2)): the name's old file or symbolic link is replaced as a whole, a link's target
  is never opened, and a reader sees the old text or the new, never half of it. A regular
  file's permission bits are kept; anything else gets the mode a new file gets (0666 minus
  the umask). Owner and group are the writer's, as for any new file. (The plan cache writes
  the same way with its own few lines, cache._write says why.)

This module imports only os at load time: the plan cache (``cache.stamp``, on every warm
`devlint run`) reads through it; anything else is imported where it is used.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Callable, Optional, Tuple, Union

    StrPath = Union[str, "os.PathLike[str]"]

# Flags that exist only on some systems: elsewhere (Windows) there is nothing to refuse.
_READ = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


# -- reading -------------------------------------------------------------------------------

class Unreadable(OSError):
    """A file read_regular would not or could not read. reason: what a message shows after
    the file's name ("is not a regular file", "cannot be read (Permission denied)", ...);
    errno: the system's error when it refused, else None; too_large: refused for its size
    alone (the file itself is fine)."""

    def __init__(self, reason: str, errno: Optional[int] = None, too_large: bool = False) -> None:
        super().__init__(errno, reason)
        self.reason = reason
        self.too_large = too_large

    def __str__(self) -> str:
        return self.reason


def read_regular(path: str, limit: int, *, dir_fd: Optional[int] = None, follow: bool = True,
                 cut: bool = False, why_not: Optional[Callable[[os.stat_result], Optional[str]]] = None,
                 ) -> Tuple[os.stat_result, bytes]:
    """(fstat, bytes) of the regular file at path (relative to dir_fd when given), read whole
    through one descriptor; Unreadable otherwise.

    Opened with O_NONBLOCK, and with O_NOFOLLOW unless follow (a link at the name: "cannot be
    read (Too many levels of symbolic links)"). Refused after fstat, before any byte is read:
    anything but a regular file; a file over limit bytes (unless cut); whatever why_not(fstat)
    gives a reason against (a trust check, e.g. ``untrusted``). Read until end of file (one
    os.read may return less), at most limit + 1 bytes: a file that grew past limit meanwhile is
    refused too, or with cut its first limit + 1 bytes are returned (for a caller that only
    looks into it or only hashes what is small enough)."""
    try:
        fd = os.open(path, _READ | (0 if follow else _NOFOLLOW), dir_fd=dir_fd)
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the name
        raise _unreadable(exc) from None
    try:
        import stat

        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise Unreadable("is not a regular file")
        if st.st_size > limit and not cut:
            raise Unreadable(f"is {st.st_size} bytes; devlint reads files up to {limit}", too_large=True)
        problem = why_not(st) if why_not is not None else None
        if problem is not None:
            raise Unreadable(problem)
        chunks = []
        left = limit + 1
        while left > 0:
            chunk = os.read(fd, left)
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
    except Unreadable:
        raise
    except OSError as exc:
        raise _unreadable(exc) from None
    finally:
        os.close(fd)
    if left <= 0 and not cut:
        raise Unreadable(f"is over {limit} bytes; devlint reads files up to {limit}", too_large=True)
    return st, b"".join(chunks)


def _unreadable(exc: Exception) -> Unreadable:
    strerror = getattr(exc, "strerror", None)
    return Unreadable(f"cannot be read ({strerror or exc})", getattr(exc, "errno", None))


def untrusted(st: os.stat_result, *, root_ok: bool, group_write_ok: bool, world_write_ok: bool) -> Optional[str]:
    """Why a file (or folder) with this stat may have been written by someone else, or None.

    The owner must be this user, or root when root_ok ("it is owned by NAME (uid N), not by
    you"). Its group may write to it only when group_write_ok ("its group can write to it"),
    every user only when world_write_ok ("every user can write to it"). A symbolic link's own
    mode bits are never used (Linux gives every link 0777): only its owner is judged. Each
    caller passes its policy (see the module's notes). Elsewhere than POSIX: None."""
    getuid = getattr(os, "getuid", None)
    if getuid is None:
        return None
    if st.st_uid != getuid() and not (root_ok and st.st_uid == 0):
        return f"it is owned by {user_name(st.st_uid)}, not by you" + (" or root" if root_ok else "")
    if (st.st_mode & 0o170000) == 0o120000:  # S_IFLNK
        return None
    if st.st_mode & 0o002 and not world_write_ok:
        return "every user can write to it"
    if st.st_mode & 0o020 and not group_write_ok:
        return "its group can write to it"
    return None


def user_name(uid: int) -> str:
    """A user as ``name (uid N)``, or ``uid N`` when it has no name."""
    try:
        import pwd

        return f"{pwd.getpwuid(uid).pw_name} (uid {uid})"
    except (ImportError, KeyError):
        return f"uid {uid}"


# -- writing -------------------------------------------------------------------------------

class Written:
    """What ``write_text`` did. path: folder/name. replaced: None (a new file), "file" or
    "symlink". link_target: what a replaced link pointed to (left untouched), else None.
    (A plain class, not a dataclass: dataclasses and typing would add ≈ 8 ms to every warm
    run, which imports this module.)"""

    __slots__ = ("link_target", "path", "replaced")

    def __init__(self, path: str, replaced: Optional[str] = None, link_target: Optional[str] = None) -> None:
        self.path = path
        self.replaced = replaced
        self.link_target = link_target

    def __repr__(self) -> str:
        return f"Written(path={self.path!r}, replaced={self.replaced!r}, link_target={self.link_target!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Written) and (self.path, self.replaced, self.link_target) == (
            other.path, other.replaced, other.link_target)

    def __hash__(self) -> int:
        return hash((self.path, self.replaced, self.link_target))


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
    import stat

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
