"""The viewer's index of one directory: built once, reused until a record file changes.

One SQLite file (``DIR/.view/index.sqlite``, or a user cache directory when DIR is read-only):

- ``recs``: one row per record in file order (``rec`` = 0-based ordinal): id, where it lies (file,
  byte offset and length, or Parquet row), and the few fields the list shows; indexed by id and
  source id. Texts stay in the record files and are read back by position.
- ``postings``: for every ``facet:value`` key the sorted record numbers as a uint32 blob. Filters are
  numpy masks built from these (an AND of facets, an OR within one), so a filter costs the same on
  any corpus size: a few milliseconds per million records.
- ``fts``: a contentless FTS5 table (``detail=none``: words only, no positions, so the index is
  about a fifth of the text) over the text with special tags removed; phrases are checked against
  the record text (:mod:`modelraising.view.search`).
- ``meta``: the signature of the record files it was built from, and the summary counts.

Audit flags (``audit-flags.jsonl``) are loaded into postings of their own and reloaded when that
file changes, without rebuilding the rest. The build writes a temporary file and renames it into
place, so a killed build leaves no half index behind.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sqlite3
import time
from array import array
from collections import Counter, OrderedDict, defaultdict
from collections.abc import Callable
from pathlib import Path

import numpy as np

from modelraising.view.corpus import Corpus
from modelraising.view.facets import ANY, FACET_NAMES, NONE, SentenceSample, facet_keys, plain_text, preview, row_fields

log = logging.getLogger(__name__)
FORMAT = 3  # bump when the layout changes: older indexes are rebuilt
BATCH = 2000
SAMPLE_BYTES = 64 << 20  # below this much record data every record's sentences are counted
DIFFICULTY_BINS = 200
ROW_COLUMNS = (
    "rec",
    "id",
    "file",
    "pos",
    "len",
    "source_id",
    "title",
    "form",
    "genre",
    "kind",
    "pillars",
    "value",
    "harm",
    "action",
    "stage",
    "position",
    "difficulty",
    "chars",
    "preview",
)

_SCHEMA = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE files(file INTEGER PRIMARY KEY, name TEXT, first_rec INTEGER, records INTEGER);
CREATE TABLE recs(rec INTEGER PRIMARY KEY, id TEXT, file INTEGER, pos INTEGER, len INTEGER, source_id TEXT,
                  title TEXT, form TEXT, genre TEXT, kind TEXT, pillars TEXT, value TEXT, harm TEXT, action TEXT,
                  stage TEXT, position INTEGER, difficulty REAL, chars INTEGER, preview TEXT);
CREATE TABLE postings(key TEXT PRIMARY KEY, n INTEGER, recs BLOB);
CREATE TABLE rec_flags(rec INTEGER PRIMARY KEY, flags TEXT);
CREATE VIRTUAL TABLE fts USING fts5(text, content='', detail=none, tokenize='unicode61 remove_diacritics 2');
"""


def index_path(corpus: Corpus) -> Path:
    """``DIR/.view/index.sqlite`` when DIR is writable, else under the user's cache directory."""
    local = corpus.path / ".view"
    if os.access(corpus.path, os.W_OK) or (local.is_dir() and os.access(local, os.W_OK)):
        return local / "index.sqlite"
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "modelraising" / "view"
    digest = hashlib.sha256(str(corpus.path.resolve()).encode()).hexdigest()[:16]
    return cache / f"{corpus.path.name}-{digest}.sqlite"


def _signature(corpus: Corpus) -> str:
    return json.dumps({"format": FORMAT, "kind": corpus.kind, "fmt": corpus.fmt, "files": corpus.signature()})


def _file_signature(path: Path) -> str:
    try:
        st = path.stat()
    except OSError:
        return "absent"
    return f"{st.st_size}:{st.st_mtime_ns}"


def build_index(corpus: Corpus, path: Path, progress: Callable[[int], None] | None = None) -> dict:
    """Index every record of ``corpus`` into ``path`` (atomically); returns the build stats."""
    started = time.perf_counter()
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_abandoned_builds(path)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.building")
    con = sqlite3.connect(tmp)
    con.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-65536;" + _SCHEMA)
    postings: dict[str, array] = defaultdict(lambda: array("I"))
    total_bytes = sum(p.stat().st_size for p in corpus.files)
    sample = SentenceSample(-(-total_bytes // SAMPLE_BYTES))
    difficulty = array("f")
    rows, texts = [], []
    files: list[list] = [[i, p.name, None, 0] for i, p in enumerate(corpus.files)]
    chars_total = rec = 0
    for fi, pos, length, record in corpus.iter_located():
        text, raw_meta = record["text"], record.get("metadata")
        meta = raw_meta if isinstance(raw_meta, dict) else {}
        doc_id = str(record.get("id"))
        for key in facet_keys(meta):
            postings[key].append(rec)
        f = row_fields(meta)
        rows.append(
            (
                rec,
                doc_id,
                fi,
                pos,
                length,
                f["source_id"],
                f["title"],
                f["form"],
                f["genre"],
                f["kind"],
                f["pillars"],
                f["value"],
                f["harm"],
                f["action"],
                f["stage"],
                f["position"],
                f["difficulty"],
                len(text),
                preview(text),
            )
        )
        texts.append((rec, plain_text(text)))
        if files[fi][2] is None:
            files[fi][2] = rec
        files[fi][3] += 1
        chars_total += len(text)
        difficulty.append(f["difficulty"] if f["difficulty"] is not None else np.nan)
        sample.add(doc_id, text, meta)
        rec += 1
        if len(rows) >= BATCH:
            _flush(con, rows, texts)
            if progress:
                progress(rec)
    _flush(con, rows, texts)
    if progress:
        progress(rec)
    for file_row in files:
        file_row[2] = file_row[2] if file_row[2] is not None else rec
    con.executemany("INSERT INTO files VALUES (?, ?, ?, ?)", files)
    _write_postings(con, postings)
    con.execute("CREATE INDEX recs_id ON recs(id)")
    con.execute("CREATE INDEX recs_source_id ON recs(source_id)")
    summary = {
        "records": rec,
        "chars": chars_total,
        "sentences": sample.top(),
        "difficulty": _difficulty_bins(np.frombuffer(difficulty, dtype=np.float32), con),
    }
    stats = {"records": rec, "build_s": round(time.perf_counter() - started, 2)}
    con.executemany(
        "INSERT INTO meta VALUES (?, ?)",
        [
            ("signature", _signature(corpus)),
            ("summary", json.dumps(summary)),
            ("flags_sig", ""),
            ("stats", json.dumps(stats)),
        ],
    )
    con.execute("INSERT INTO fts(fts) VALUES ('optimize')")
    con.commit()
    con.close()
    os.replace(tmp, path)
    stats["bytes"] = path.stat().st_size
    stats["build_s"] = round(time.perf_counter() - started, 2)
    log.info("indexed %d records of %s in %.1fs (%.0f MB)", rec, corpus.path, stats["build_s"], stats["bytes"] / 1e6)
    return stats


def _remove_abandoned_builds(path: Path) -> None:
    """Temporary files of builds whose process is gone (killed mid-build); a live build's file stays."""
    for tmp in path.parent.glob(f"{path.name}.*.building"):
        try:
            os.kill(int(tmp.name.split(".")[-2]), 0)
        except (ValueError, ProcessLookupError):
            tmp.unlink(missing_ok=True)
        except PermissionError:
            pass


def _flush(con: sqlite3.Connection, rows: list, texts: list) -> None:
    con.executemany(f"INSERT INTO recs VALUES ({', '.join('?' * len(ROW_COLUMNS))})", rows)
    con.executemany("INSERT INTO fts(rowid, text) VALUES (?, ?)", texts)
    rows.clear()
    texts.clear()


def _write_postings(con: sqlite3.Connection, postings: dict[str, array]) -> None:
    by_facet: dict[str, list[np.ndarray]] = defaultdict(list)
    for key, recs in postings.items():
        arr = np.frombuffer(recs, dtype=np.uint32)
        con.execute("INSERT INTO postings VALUES (?, ?, ?)", (key, len(arr), arr.tobytes()))
        by_facet[key.split(":", 1)[0]].append(arr)
    for facet, arrays in by_facet.items():  # facet:* = records with any value of the facet
        union = np.unique(np.concatenate(arrays)).astype(np.uint32)
        con.execute("INSERT INTO postings VALUES (?, ?, ?)", (f"{facet}:{ANY}", len(union), union.tobytes()))


def _difficulty_bins(values: np.ndarray, con: sqlite3.Connection) -> dict | None:
    """Difficulty along the corpus order (the curriculum position in an ordered directory), in bins:
    min, mean and max, and the stage most records of the bin belong to."""
    known = ~np.isnan(values)
    if not known.any():
        return None
    n = len(values)
    edges = np.linspace(0, n, min(DIFFICULTY_BINS, n) + 1).astype(int)
    stages = [r[0] for r in con.execute("SELECT stage FROM recs ORDER BY rec")] if n <= 2_000_000 else []
    bins = []
    for a, b in zip(edges[:-1], edges[1:]):
        chunk = values[a:b][known[a:b]]
        if b <= a or not len(chunk):
            continue
        stage = Counter(stages[a:b]).most_common(1)[0][0] if stages else None
        bins.append(
            {
                "start": int(a),
                "end": int(b),
                "min": float(chunk.min()),
                "mean": float(chunk.mean()),
                "max": float(chunk.max()),
                "stage": stage,
            }
        )
    return {"records": int(known.sum()), "bins": bins}


class Index:
    """Queries over a built index: facet counts, filter masks, rows to show, record locations."""

    def __init__(self, path: Path, corpus: Corpus):
        self.path, self.corpus = path, corpus
        self.con = sqlite3.connect(f"file:{path}?mode=rw", uri=True, check_same_thread=False)
        self.con.execute("PRAGMA cache_size=-32768")
        self.con.execute("PRAGMA mmap_size=268435456")
        meta = dict(self.con.execute("SELECT key, value FROM meta"))
        self.summary = json.loads(meta["summary"])
        self.stats = json.loads(meta.get("stats", "{}"))
        self.n = int(self.summary["records"])
        self.files = [
            (name, first, count)
            for _, name, first, count in self.con.execute(
                "SELECT file, name, first_rec, records FROM files ORDER BY file"
            )
        ]
        self.extra: dict[str, np.ndarray] = {}  # postings held in memory (review flags)
        self._masks: OrderedDict = OrderedDict()
        self.refresh_flags()

    # ------------------------------------------------------------------------------------ facets

    def counts(self) -> dict[str, list[tuple[str, int]]]:
        """Per facet, its values with their record counts, most frequent first (``*`` excluded)."""
        out: dict[str, list[tuple[str, int]]] = {name: [] for name in FACET_NAMES}
        for key, n in self.con.execute("SELECT key, n FROM postings"):
            facet, value = key.split(":", 1)
            if value != ANY and facet in out:
                out[facet].append((value, n))
        for key, arr in self.extra.items():
            facet, value = key.split(":", 1)
            if value != ANY and len(arr):
                out.setdefault(facet, []).append((value, len(arr)))
        for values in out.values():
            values.sort(key=lambda kv: (-kv[1], kv[0]))
        return out

    def postings(self, key: str) -> np.ndarray:
        if key in self.extra:
            return self.extra[key]
        row = self.con.execute("SELECT recs FROM postings WHERE key = ?", (key,)).fetchone()
        return np.frombuffer(row[0], dtype=np.uint32) if row else np.zeros(0, dtype=np.uint32)

    def mask(self, filters: dict[str, list[str]]) -> np.ndarray | None:
        """Records that pass every filter (values of one facet OR-ed; ``*`` any value, ``-`` none), or
        None when nothing is filtered."""
        active = {f: sorted(set(v)) for f, v in filters.items() if v and f in FACET_NAMES}
        if not active:
            return None
        key = json.dumps(sorted(active.items()))
        cached = self._masks.get(key)
        if cached is not None:
            self._masks.move_to_end(key)
            return cached
        mask = np.ones(self.n, dtype=bool)
        for facet, values in active.items():
            one = np.zeros(self.n, dtype=bool)
            for value in values:
                if value == NONE:
                    none = np.ones(self.n, dtype=bool)
                    none[self.postings(f"{facet}:{ANY}")] = False
                    one |= none
                else:
                    one[self.postings(f"{facet}:{value}")] = True
            mask &= one
        self._masks[key] = mask
        if len(self._masks) > 32:
            self._masks.popitem(last=False)
        return mask

    def set_extra(self, key: str, recs) -> None:
        """Replace an in-memory posting list (review flags change while the viewer runs)."""
        self.extra[key] = np.unique(np.asarray(list(recs), dtype=np.uint32))
        self._masks.clear()

    def clear_extra(self, facet: str) -> None:
        for key in [k for k in self.extra if k.startswith(facet + ":")]:
            del self.extra[key]
        self._masks.clear()

    # ------------------------------------------------------------------------------- audit flags

    def refresh_flags(self) -> None:
        """Load ``audit-flags.jsonl`` into ``flag:*`` postings when it changed since the last load."""
        flags_file = self.corpus.side / "audit-flags.jsonl"
        sig = _file_signature(flags_file)
        (old,) = self.con.execute("SELECT value FROM meta WHERE key = 'flags_sig'").fetchone() or ("",)
        if sig == old:
            return
        first = {name: (start, count) for name, start, count in self.files}
        postings: dict[str, list[int]] = defaultdict(list)
        per_rec: dict[int, list[str]] = {}
        if flags_file.is_file():
            with open(flags_file, encoding="utf-8") as f:
                for line in f:
                    try:
                        item = json.loads(line)
                        start, count = first[item["file"]]
                        index = int(item["index"])
                    except (ValueError, KeyError, TypeError):
                        continue
                    if 0 <= index < count:
                        names = [str(x) for x in item.get("flags") or []]
                        per_rec[start + index] = names
                        for name in names:
                            postings[f"flag:{name}"].append(start + index)
        with self.con:
            self.con.execute("DELETE FROM postings WHERE key LIKE 'flag:%'")
            self.con.execute("DELETE FROM rec_flags")
            for key, recs in postings.items():
                arr = np.unique(np.asarray(recs, dtype=np.uint32))
                self.con.execute("INSERT INTO postings VALUES (?, ?, ?)", (key, len(arr), arr.tobytes()))
            if per_rec:
                arr = np.asarray(sorted(per_rec), dtype=np.uint32)
                self.con.execute("INSERT INTO postings VALUES (?, ?, ?)", (f"flag:{ANY}", len(arr), arr.tobytes()))
            self.con.executemany("INSERT INTO rec_flags VALUES (?, ?)", [(r, ",".join(v)) for r, v in per_rec.items()])
            self.con.execute("INSERT OR REPLACE INTO meta VALUES ('flags_sig', ?)", (sig,))
        self._masks.clear()

    # -------------------------------------------------------------------------------------- rows

    def rows(self, recs: list[int]) -> list[dict]:
        """The list columns of ``recs`` (in that order), with their audit flags."""
        if not recs:
            return []
        marks = ",".join("?" * len(recs))
        found = {
            r[0]: dict(zip(ROW_COLUMNS, r))
            for r in self.con.execute(f"SELECT {', '.join(ROW_COLUMNS)} FROM recs WHERE rec IN ({marks})", recs)
        }
        flags = dict(self.con.execute(f"SELECT rec, flags FROM rec_flags WHERE rec IN ({marks})", recs))
        out = []
        for rec in recs:
            row = found.get(rec)
            if row is not None:
                row["flags"] = flags[rec].split(",") if flags.get(rec) else []
                out.append(row)
        return out

    def row(self, rec: int) -> dict | None:
        rows = self.rows([rec])
        return rows[0] if rows else None

    def recs_with(self, column: str, value: str, limit: int = 50) -> list[int]:
        """Records whose ``id`` or ``source_id`` equals ``value``."""
        assert column in ("id", "source_id")
        return [
            r
            for (r,) in self.con.execute(
                f"SELECT rec FROM recs WHERE {column} = ? ORDER BY rec LIMIT ?", (value, limit)
            )
        ]

    def file_index(self, rec: int) -> tuple[str, int]:
        """(file name, 0-based index in the file) of a record, as the audit and review files name it."""
        for name, first, count in self.files:
            if first <= rec < first + count:
                return name, rec - first
        raise IndexError(rec)

    def close(self) -> None:
        self.con.close()


def open_index(
    corpus: Corpus, *, rebuild: bool = False, progress: Callable[[int], None] | None = None, path: Path | None = None
) -> Index:
    """The index of ``corpus``, built first when missing, stale (a record file changed) or ``rebuild``."""
    path = path or index_path(corpus)
    current = False
    if path.is_file() and not rebuild:
        try:
            con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            try:
                row = con.execute("SELECT value FROM meta WHERE key = 'signature'").fetchone()
            finally:
                con.close()
            current = bool(row) and row[0] == _signature(corpus)
        except sqlite3.Error:
            current = False
    if not current:
        build_index(corpus, path, progress)
    return Index(path, corpus)
