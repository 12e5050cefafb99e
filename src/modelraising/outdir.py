"""One writer per output directory, and path checks before any work starts.

Every step writes its ``--out`` in place and resumes from what it finds there, so two runs writing
the same directory at once corrupt each other (the same documents appended twice, a partial file
renamed away under the other run). :func:`claim_dir` takes an exclusive ``flock`` on a lock file in
the directory: the kernel drops it when the process ends, however it ends (kill -9 included), so
there is never a stale lock to clean up. A second run fails at once with :class:`PathError` naming
the directory and the PID that holds it.

The ``check_*`` functions turn every problem with a path the user gave (missing, unreadable, a file
where a directory belongs, not writable) into a :class:`PathError` with one line naming the path and
the problem, so a command exits 2 with that line instead of a traceback halfway through its work.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import functools
import inspect
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

LOCK_NAME = ".modelraising.lock"


class PathError(Exception):
    """A path the user gave cannot be used (one line: the option, the path and the problem)."""


def _label(path: Path, option: str | None) -> str:
    return f"{option} {path}" if option else str(path)


def _why(exc: OSError) -> str:
    return exc.strerror or str(exc)


# --------------------------------------------------------------------------------------------------
# Inputs


def _exists(path: Path, label: str, kind: str) -> None:
    """Raise unless ``path`` exists; a directory on the way that cannot be searched is said, not hidden
    behind "no such file"."""
    try:
        os.stat(path)
    except PermissionError as exc:
        raise PathError(f"{label}: cannot be read ({_why(exc)})") from None
    except OSError:
        raise PathError(f"{label}: no such {kind}" + (" (a broken symlink)" if path.is_symlink() else "")) from None


def check_input_dir(path: str | os.PathLike, option: str | None = None) -> Path:
    """``path`` is a directory this process can list and enter."""
    path = Path(path)
    label = _label(path, option)
    _exists(path, label, "directory")
    if not path.is_dir():
        raise PathError(f"{label}: not a directory")
    try:
        with os.scandir(path) as entries:
            next(entries, None)
    except OSError as exc:
        raise PathError(f"{label}: cannot be read ({_why(exc)})") from None
    return path


def check_input_file(path: str | os.PathLike, option: str | None = None) -> Path:
    """``path`` is a regular file this process can open for reading."""
    path = Path(path)
    label = _label(path, option)
    _exists(path, label, "file")
    if path.is_dir():
        raise PathError(f"{label}: is a directory, not a file")
    try:
        with open(path, "rb"):
            pass
    except OSError as exc:
        raise PathError(f"{label}: cannot be read ({_why(exc)})") from None
    return path


def check_input_files(files: list[Path], option: str | None = None) -> None:
    """Every file a step will read can be opened (checked up front, not when the step reaches it)."""
    for file in files:
        check_input_file(file, option)


# --------------------------------------------------------------------------------------------------
# Outputs


def _nearest_existing(path: Path) -> Path:
    probe = path
    while not probe.exists() and not probe.is_symlink() and probe != probe.parent:
        probe = probe.parent
    return probe


def check_output_dir(path: str | os.PathLike, option: str | None = "--out") -> Path:
    """``path`` is a writable directory, or can be created as one (nothing is created here)."""
    path = Path(path)
    label = _label(path, option)
    if path.exists() or path.is_symlink():
        if not path.is_dir():
            what = "a broken symlink" if not path.exists() else "an existing file"
            raise PathError(f"{label}: is {what}, not a directory")
        if not os.access(path, os.W_OK | os.X_OK):
            raise PathError(f"{label}: the directory is not writable (permission denied)")
        return path
    return _check_creatable(path, label)


def check_output_file(path: str | os.PathLike, option: str | None = "--out") -> Path:
    """``path`` is a file that can be written: not a directory, its directory writable or creatable."""
    path = Path(path)
    label = _label(path, option)
    if path.is_dir():
        raise PathError(f"{label}: is a directory, not a file")
    if path.exists() and not os.access(path, os.W_OK):
        raise PathError(f"{label}: the file is not writable (permission denied)")
    if not path.parent.exists():
        _check_creatable(path.parent, label)
        return path
    if not path.parent.is_dir():
        raise PathError(f"{label}: {path.parent} is not a directory")
    if not os.access(path.parent, os.W_OK | os.X_OK):
        raise PathError(f"{label}: its directory {path.parent} is not writable (permission denied)")
    return path


def _check_creatable(path: Path, label: str) -> Path:
    base = _nearest_existing(path.parent)
    if not base.is_dir():
        raise PathError(f"{label}: cannot be created ({base} is not a directory)")
    if not os.access(base, os.W_OK | os.X_OK):
        raise PathError(f"{label}: cannot be created ({base} is not writable)")
    return path


def make_output_dir(path: str | os.PathLike, option: str | None = "--out") -> Path:
    """Check, then create ``path`` (with parents); an OS refusal becomes a :class:`PathError`."""
    path = check_output_dir(path, option)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PathError(f"{_label(path, option)}: cannot be created ({_why(exc)})") from None
    return path


# --------------------------------------------------------------------------------------------------
# The lock

_HELD: dict[str, list] = {}  # lock file (resolved) -> [fd, depth]: re-entrant within one process


def _holder(lock_file: Path) -> str:
    """Who holds the lock, from what it wrote into the lock file (empty while it is still writing)."""
    try:
        text = lock_file.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        text = ""
    pid, _, command = text.partition(" ")
    return f"PID {pid}" + (f", {command}" if command else "") if pid.isdigit() else "another process"


@contextlib.contextmanager
def hold_lock(lock_file: Path, directory: Path, option: str | None = "--out") -> Iterator[None]:
    """Hold an exclusive advisory lock on ``lock_file`` (created if needed) for the ``with`` block."""
    key = os.path.realpath(lock_file)
    if key in _HELD:  # the CLI claimed it and the step function claims it again
        _HELD[key][1] += 1
        try:
            yield
        finally:
            _HELD[key][1] -= 1
        return
    label = _label(directory, option)
    try:
        fd = os.open(lock_file, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        raise PathError(f"{label}: not writable ({_why(exc)})") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        os.close(fd)
        if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            raise PathError(f"{label}: cannot be locked ({_why(exc)})") from None
        raise PathError(
            f"{label} is in use by another run ({_holder(lock_file)}); wait for it to end "
            f"or choose another {option or 'directory'}"
        ) from None
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()} {_command()}\n".encode())
    except OSError:
        pass  # the lock holds either way; only the holder's name would be missing
    _HELD[key] = [fd, 1]
    try:
        yield
    finally:
        _HELD.pop(key, None)
        os.close(fd)  # closing the last descriptor releases the flock


def _command() -> str:
    argv = [os.path.basename(sys.argv[0]), *sys.argv[1:3]] if sys.argv and sys.argv[0] else []
    return " ".join(a for a in argv if a and not a.startswith("-"))[:80]


@contextlib.contextmanager
def claim_dir(path: str | os.PathLike, option: str | None = "--out") -> Iterator[Path]:
    """Check and create the output directory ``path`` and be its only writer for the ``with`` block;
    the temp files of atomic writes that a killed writer left behind are removed first."""
    path = make_output_dir(path, option)
    first = os.path.realpath(path / LOCK_NAME) not in _HELD
    with hold_lock(path / LOCK_NAME, path, option):
        if first:
            remove_stale_temps(path)
        yield path


def remove_stale_temps(directory: Path) -> None:
    """Delete ``.NAME.XXXX.tmp`` files (:func:`modelraising.io.atomic_write_bytes` writes them and renames
    them into place; SIGKILL between the two leaves one) in ``directory`` and its ``.state``. Only the
    directory's lock holder calls this, so no writer is using them."""
    for folder in (directory, directory / ".state"):
        for tmp in folder.glob(".*.tmp"):
            with contextlib.suppress(OSError):
                if tmp.is_file():
                    tmp.unlink()


@contextlib.contextmanager
def claim_beside(path: str | os.PathLike, option: str | None = "--out") -> Iterator[Path]:
    """Be the only writer of ``path``, for a step that replaces the whole directory when it finishes
    (the lock file sits beside it, ``.NAME.modelraising.lock``, so the replacement keeps it)."""
    path = Path(path)
    check_output_dir(path, option)
    parent = make_output_dir(path.parent, option and f"{option} {path}: directory")
    with hold_lock(parent / f".{path.name}{LOCK_NAME}", path, option):
        yield path


def exclusive_out(param: str | Callable[[dict], object], *, beside: bool = False, option: str | None = "--out"):
    """Decorator: run a step function as the only writer of its output directory, named by its
    parameter ``param`` (or computed from the bound arguments; ``None`` means no lock, e.g. a
    non-zero rank under torchrun). Re-entrant, so a CLI that claimed the directory first goes on."""

    def decorate(fn):
        signature = inspect.signature(fn)

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            path = bound.arguments[param] if isinstance(param, str) else param(bound.arguments)
            if path is None:
                return fn(*args, **kwargs)
            with (claim_beside if beside else claim_dir)(path, option):
                return fn(*args, **kwargs)

        return wrapper

    return decorate
