"""The source passage a record was raised from, read again from the source file.

A record names its source file (``metadata.source``) and passage id (``metadata.source_id``). The file
is read again with :func:`modelraising.sources.read_sources` and the options the raise used (from its
manifest's ``inputs``), so the passages and their ids come out as they did then; a file that has
moved is found among the ``--source`` paths by its name. Passages of the files read last are kept
(up to :data:`CACHE_CHARS` characters), so paging through one book reads it once.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from pathlib import Path

log = logging.getLogger(__name__)
CACHE_CHARS = 64_000_000


class SourceLookup:
    """Source passages by (source file, passage id), for the record pages of one or more directories."""

    def __init__(self, extra: list[str] | None = None):
        self.extra = [Path(p) for p in extra or []]
        self.specs: dict[str, dict] = {}  # source path -> SourceSpec fields the raise used
        self._resolved: dict[str, Path | None] = {}
        self._cache: OrderedDict[str, dict[str, str]] = OrderedDict()
        self._chars = 0
        self._lock = threading.Lock()

    def add_manifest(self, manifest: dict | None) -> None:
        """Remember the reading options of each input of a raise manifest."""
        for item in (manifest or {}).get("inputs") or []:
            spec = item.get("spec")
            if isinstance(spec, dict) and item.get("path"):
                self.specs[str(item["path"])] = spec

    def resolve(self, source: str | None) -> Path | None:
        """The file to read for a record's ``source``: where it was, else a ``--source`` file of that
        name (or a file of that name inside a ``--source`` directory)."""
        if not source:
            return None
        if source not in self._resolved:
            self._resolved[source] = self._find(Path(source))
        return self._resolved[source]

    def _find(self, path: Path) -> Path | None:
        for candidate in self.extra:
            if candidate.is_file() and (candidate == path or candidate.name == path.name):
                return candidate
        for candidate in self.extra:
            if candidate.is_dir():
                found = next(iter(sorted(candidate.rglob(path.name))), None)
                if found is not None:
                    return found
        return path if path.is_file() else None

    def passage(self, meta: dict) -> tuple[str | None, str]:
        """(passage text, note): the text is None when it cannot be found; the note says where it came
        from or why it is missing."""
        source, source_id = meta.get("source"), meta.get("source_id")
        if not source or not source_id:
            return None, "the record does not name its source passage (metadata.source / source_id)"
        path = self.resolve(str(source))
        if path is None:
            return None, f"source file {source} not found (give it with --source PATH)"
        with self._lock:
            passages = self._cache.get(str(path))
            if passages is not None:
                self._cache.move_to_end(str(path))
        if passages is None:
            try:
                passages = self._read(path, str(source))
            except Exception as exc:  # a source that cannot be read again costs the side-by-side view only
                log.warning("view: cannot read source %s: %s", path, exc)
                return None, f"source file {path} could not be read ({exc})"
        text = passages.get(str(source_id))
        if text is None:
            return (
                None,
                f"passage {source_id} not found in {path} (changed since the raise, or read with other options)",
            )
        offsets = meta.get("offsets") or {}
        where = f"{offsets.get('unit')}s {offsets.get('start')}-{offsets.get('end')}" if offsets.get("unit") else ""
        return text, f"{path}" + (f", {where}" if where else "")

    def _read(self, path: Path, recorded: str) -> dict[str, str]:
        from modelraising.document import Document
        from modelraising.sources import SourceSpec, read_sources

        fields = dict(
            self.specs.get(recorded) or next((s for p, s in self.specs.items() if Path(p).name == path.name), {})
        )
        fields["path"] = str(path)
        fields.pop("limit", None)  # a limited raise still names passages by the same ids
        spec = SourceSpec.model_validate(fields)
        passages = {item.id: item.text for item in read_sources([spec]) if isinstance(item, Document)}
        size = sum(len(t) for t in passages.values())
        with self._lock:
            if size <= CACHE_CHARS:
                self._cache[str(path)] = passages
                self._chars += size
                while self._chars > CACHE_CHARS and len(self._cache) > 1:
                    _, dropped = self._cache.popitem(last=False)
                    self._chars -= sum(len(t) for t in dropped.values())
        return passages
