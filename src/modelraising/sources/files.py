"""Which files a source names: expansion of paths, directories and globs, and why a file cannot be read."""

from __future__ import annotations

import glob
import logging
import os
import re
from pathlib import Path

from modelraising.sources.spec import SUFFIXES, SourceError, SourceSpec

log = logging.getLogger(__name__)


def file_suffix(path: Path) -> str | None:
    """The supported suffix of a file name (".jsonl.gz", ".txt", ...), or None."""
    name = path.name.lower()
    return next((s for s in SUFFIXES if name.endswith(s) and len(name) > len(s)), None)


def source_name(path: Path) -> str:
    """The file name without its supported extension: moby_dick.txt -> moby_dick."""
    suffix = file_suffix(path)
    return path.name[: -len(suffix)] if suffix else path.stem


def pretty_title(stem: str) -> str:
    """A readable title from a file stem: "moby_dick" -> "Moby Dick"."""
    return " ".join(w[:1].upper() + w[1:] for w in re.split(r"[\s_\-.]+", stem) if w)


def _dir_files(root: Path) -> list[Path]:
    """Supported files under ``root`` (hidden ones skipped, symlinked directories not followed), plus
    every subdirectory that cannot be listed and every broken symlink: :func:`read_file` turns those
    into rejects, so a file that cannot be read is reported, never silently left out."""
    found: list[Path] = []

    def unlisted(exc: OSError) -> None:
        found.append(Path(exc.filename))

    for base, dirs, files in os.walk(root, onerror=unlisted):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            path = Path(base, name)
            if not name.startswith(".") and file_suffix(path) and (path.is_file() or not path.exists()):
                found.append(path)
    return sorted(found)


def unreadable(path: Path) -> str | None:
    """Why ``path`` (a source file, or a directory :func:`_dir_files` could not list) cannot be read,
    or None when it can be opened."""
    if path.is_symlink() and not path.exists():
        return "unreadable file: broken symlink"
    try:
        if path.is_dir():
            with os.scandir(path):
                return None
        with open(path, "rb"):
            return None
    except OSError as exc:
        kind = "directory" if path.is_dir() else "file"
        return f"unreadable {kind}: {exc.strerror or exc}"


def _spec_files(spec: SourceSpec) -> list[Path]:
    path = Path(spec.path).expanduser()
    kinds = ", ".join(SUFFIXES)
    try:
        path.stat()
    except PermissionError:  # a directory on the way cannot be searched: report it, do not call it missing
        return [path]
    except OSError:
        pass
    if path.is_dir():
        if unreadable(path):
            return [path]  # read_file rejects it: "unreadable directory: Permission denied"
        files = _dir_files(path)
        if not files:
            raise SourceError(f"source {spec.path!r}: the directory holds no {kinds} files")
        return files
    if path.exists():
        if not file_suffix(path):
            raise SourceError(f"source {spec.path!r}: unsupported file type (expected one of {kinds})")
        return [path]
    if glob.has_magic(spec.path):
        matched: set[Path] = set()
        for match in map(Path, glob.glob(str(path), recursive=True)):
            if match.is_dir():
                matched.update(_dir_files(match))
            elif file_suffix(match):
                matched.add(match)
        if not matched:
            raise SourceError(f"source {spec.path!r}: the glob matches no {kinds} files")
        return sorted(matched)
    if path.is_symlink():
        raise SourceError(f"source {spec.path!r}: a broken symlink")
    raise SourceError(f"source {spec.path!r}: no such file or directory")


def expand_sources(specs: list[SourceSpec]) -> list[tuple[Path, SourceSpec]]:
    """Every file the specs name, sorted within each spec, each file once (the first spec naming it wins)."""
    out: list[tuple[Path, SourceSpec]] = []
    seen: set[Path] = set()
    for spec in specs:
        for path in _spec_files(spec):
            key = path.resolve()
            if key in seen:
                log.warning("%s is named by more than one source; reading it once", path)
                continue
            seen.add(key)
            out.append((path, spec))
    return out
