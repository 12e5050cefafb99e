"""One reader per file format; each yields :class:`Passage` or :class:`Reject` for one file."""

from __future__ import annotations

import csv
import gzip
import json
import logging
import re
import sys
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import chain, islice
from pathlib import Path
from typing import Any

from modelraising.rejects import Reject
from modelraising.sources.clean import (
    SURROGATE,
    WIKI_TOKENS,
    clean_passage,
    detect_cleaner,
    gutenberg_body,
    normalize_text,
    untokenize_wikitext,
)
from modelraising.sources.files import file_suffix, unreadable
from modelraising.sources.genre import detect_genre, vote_genre
from modelraising.sources.spec import SNIFF_ROWS, TEXT_FIELDS, SourceSpec
from modelraising.sources.split import Span, hard_spans, pack_spans, sentence_spans, text_units
from modelraising.text import person_turn_starts, transcript_turns

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Passage:
    text: str
    genre: str
    title: str | None
    unit: str  # "char" or "row"
    start: int
    end: int


def _preview(text: str) -> str:
    return SURROGATE.sub("\ufffd", text[:200])


def _decode(data: bytes) -> tuple[str, bool]:
    """UTF-8 text (BOM dropped, newlines LF) and whether bytes that were not UTF-8 hide in it."""
    try:
        text, bad = data.decode("utf-8-sig"), False
    except UnicodeDecodeError:
        text, bad = data.decode("utf-8-sig", "surrogateescape"), True
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text, bad


def _looks_binary(head: bytes) -> bool:
    return b"\x00" in head


def read_txt(path: Path, spec: SourceSpec) -> Iterator[Passage | Reject]:
    """A text file as passages; one genre for the whole file (a book has one genre)."""
    src = str(path)
    data = path.read_bytes()
    if _looks_binary(data[:8192]):
        yield Reject(src, "unreadable file: binary content (NUL bytes)", "file")
        return
    text, bad_bytes = _decode(data)
    cleaner = detect_cleaner(text) if spec.clean == "auto" else spec.clean
    start, end, book_title = gutenberg_body(text) if cleaner == "gutenberg" else (0, len(text), None)
    file_title = spec.title or book_title  # a real title or none: a file name is no title
    units, line_mode = text_units(text, start, end, wikitext=cleaner == "wikitext", headings=True, bad_bytes=bad_bytes)
    unwrap = cleaner == "gutenberg" and not line_mode
    items: list[Passage | Reject] = []
    for span in pack_spans(text, units, spec.max_chars):
        items.extend(_span_passages(text, span, spec, cleaner, unwrap, src))
    passages = [p for p in items if isinstance(p, Passage)]
    genre = vote_genre([p.text for p in passages]) if spec.genre == "auto" else spec.genre
    for item in items:
        if isinstance(item, Passage):
            item.genre = genre
            item.title = item.title or file_title
        yield item
    log.debug("%s: cleaner %s, %s, genre %s", path, cleaner, "line mode" if line_mode else "block mode", genre)


_SENTENCE_END = re.compile(r"[a-z0-9\u2019'\")\]][.!?;:]|[.!?][\"'\u201d\u2019]")


def _no_sentence(text: str) -> bool:
    """A few short lines and no sentence: a heading left alone once WikiText's holed sentences were
    dropped ("Appearances in other media"), or a title page ("The Time Machine / An Invention / by H. G.
    Wells"). Raised, they read as a teacher saying a heading, or a post."""
    return len(text.split()) <= 12 and not _SENTENCE_END.search(text)


def _starts_a_line(text: str, i: int) -> bool:
    """Nothing but whitespace between the line's start and ``i``."""
    return not text[text.rfind("\n", 0, i) + 1 : i].strip()


def _span_passages(
    text: str, span: Span, spec: SourceSpec, cleaner: str, unwrap: bool, src: str
) -> Iterator[Passage | Reject]:
    """One packed span as a cleaned passage, or the Reject that says why it is not one."""
    raw = text[span.start : span.end]
    location = f"chars {span.start}-{span.end}"
    if span.bad:
        yield Reject(src, "invalid UTF-8", location, preview=_preview(raw))
        return
    clean = clean_passage(raw, cleaner, unwrap)
    if span.contents:
        yield Reject(src, "table of contents", location, preview=_preview(clean))
    elif not span.has_text:
        yield Reject(src, "heading without text", location, preview=_preview(clean))
    elif len(clean) < spec.min_chars:
        reason = "too many <unk> tokens" if cleaner == "wikitext" and "<unk>" in raw else "empty or too short"
        yield Reject(src, reason, location, preview=_preview(clean or raw))
    elif _no_sentence(clean) and _starts_a_line(text, span.start):  # a whole block, not a cut through one
        yield Reject(src, "heading without text", location, preview=_preview(clean))
    elif len(clean) <= spec.max_chars:
        yield Passage(clean, "", span.title, "char", span.start, span.end)
    else:  # cleaning grew the text (a rare NFC expansion): cut the raw span finer
        for a, b in hard_spans(text, span.start, span.end, spec.max_chars // 2):
            yield from _span_passages(text, Span(a, b, span.title), spec, cleaner, unwrap, src)


@dataclass(slots=True)
class _Record:
    row: int
    location: str
    text: str
    title: str | None
    id: str | None  # the record's own "id" field, so a reject can be traced back


_NUMERIC = re.compile(r"\s*[-+]?[\d.,eE:/ ]*\s*")


def pick_text_field(rows: list[dict[str, Any]]) -> str | None:
    """ "text", "content" or "body" when present, else the string field with the longest mean length.

    Fields within 10% of the longest count as a tie, won by the first in the record (HH-RLHF: "chosen"
    before "rejected"); numeric-looking strings (CSV ids, counts) do not count.
    """
    for name in TEXT_FIELDS:
        if any(isinstance(r.get(name), str) for r in rows):
            return name
    totals: dict[str, int] = {}
    for r in rows:
        for key, value in r.items():
            if isinstance(value, str) and not _NUMERIC.fullmatch(value):
                totals[key] = totals.get(key, 0) + len(value)
            else:
                totals.setdefault(key, 0)
    if not totals or max(totals.values()) == 0:
        return None
    best = max(totals.values())
    return next(k for k, total in totals.items() if total >= 0.9 * best)


def _field_text(
    src: str, row: int, location: str, record: dict[str, Any], name: str, spec: SourceSpec
) -> _Record | Reject:
    """The text of one record, or a Reject saying why there is none."""
    rid = record.get("id")
    rid = str(rid) if isinstance(rid, (str, int)) and not isinstance(rid, bool) else None
    if name not in record:
        preview = json.dumps(record, ensure_ascii=False, default=str)
        return Reject(src, f"missing text field {name!r}", location, rid, _preview(preview))
    value = record[name]
    if not isinstance(value, str):
        return Reject(src, f"text field {name!r} is not a string", location, rid, _preview(repr(value)))
    title = record.get("title") if name != "title" else None
    return _Record(row, location, value, title if isinstance(title, str) and title.strip() else spec.title, rid)


_STREAM_ERRORS = (EOFError, OSError, zlib.error)  # a truncated or corrupt gzip (BadGzipFile is an OSError)
# the C scanner json.loads uses, without its whitespace checks (set by JSONDecoder.__init__, not in typeshed)
_scan_json = json.JSONDecoder().scan_once  # type: ignore[attr-defined]


def _json_object(raw: bytes, n: int, src: str) -> dict[str, Any] | Reject | None:
    """Line ``n`` as a JSON object, a Reject saying why it is not one, or None for a blank line."""
    if n == 1 and raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError:
        if not raw.strip():
            return None
        return Reject(src, "invalid UTF-8", f"line {n}", preview=_preview(raw.decode("utf-8", "surrogateescape")))
    try:
        obj, end = _scan_json(line, 0)
        if end != len(line) and line[end:] != "\n":
            raise StopIteration  # json.loads decides what follows (more whitespace, or an error)
    except (StopIteration, json.JSONDecodeError):
        if not raw.strip():
            return None
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            return Reject(src, f"invalid JSON: {exc.msg}", f"line {n}", preview=_preview(line))
    if type(obj) is not dict:
        return Reject(src, "not a JSON object", f"line {n}", preview=_preview(line))
    return obj


def read_jsonl(path: Path, spec: SourceSpec) -> Iterator[Passage | Reject]:
    """JSON Lines (optionally gzip): one record per line, bad lines rejected one by one."""
    src = str(path)
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rb") as f:
        n = 0
        head: list[tuple[int, dict[str, Any] | Reject]] = []  # the first SNIFF_ROWS items (objects, rejects)
        broken = False
        try:
            for raw in f:
                n += 1
                item = _json_object(raw, n, src)
                if item is not None:
                    head.append((n, item))
                    if len(head) == SNIFF_ROWS:
                        break
        except _STREAM_ERRORS as exc:
            head.append((n + 1, Reject(src, f"unreadable file: {exc}", f"line {n + 1}" if n else "file")))
            broken = True
        name = spec.text_field or pick_text_field([o for _, o in head if type(o) is dict])
        if name is None:
            yield from (o for _, o in head if isinstance(o, Reject))  # the rest: objects (exactly dict)
            if any(type(o) is dict for _, o in head):
                yield Reject(src, "no text field found (set text_field)", "file")
            return
        for k, obj in head:
            if isinstance(obj, Reject):
                yield obj
            else:
                yield from _object_passages(obj, k, name, spec, src)
        if broken:
            return
        try:
            for raw in f:
                n += 1
                item = _json_object(raw, n, src)
                if type(item) is dict:
                    yield from _object_passages(item, n, name, spec, src)
                elif isinstance(item, Reject):  # else None: a blank line
                    yield item
        except _STREAM_ERRORS as exc:
            yield Reject(src, f"unreadable file: {exc}", f"line {n + 1}" if n else "file")


def _object_passages(obj: dict[str, Any], n: int, name: str, spec: SourceSpec, src: str) -> list[Passage | Reject]:
    """The passages of JSONL line ``n`` (the common case without building a _Record first)."""
    value = obj.get(name)
    if type(value) is not str:
        return _record_passages(_field_text(src, n - 1, f"line {n}", obj, name, spec), spec, src)
    title = obj.get("title") if name != "title" else None
    if not (isinstance(title, str) and title.strip()):
        title = spec.title
    return _row_passages(value, title, n - 1, spec, src, obj, f"line {n}")


_CSV_ERROR_LIMIT = 1000  # consecutive unparseable rows after which the rest of a CSV file is given up


def read_csv(path: Path, spec: SourceSpec) -> Iterator[Passage | Reject]:
    """CSV with a header row; a row with the wrong number of fields or bad bytes is rejected alone."""
    src = str(path)
    with open(path, "rb") as fb:
        if _looks_binary(fb.read(8192)):
            yield Reject(src, "unreadable file: binary content (NUL bytes)", "file")
            return
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    with open(path, encoding="utf-8-sig", errors="surrogateescape", newline="") as f:
        rows = _csv_rows(csv.reader(f), src)
        header = None
        for header in rows:  # the first parseable row is the header
            if not isinstance(header, Reject):
                break
            yield header
        if not isinstance(header, list):
            return  # no rows at all: read_sources reports an empty file
        records = _csv_records(rows, header, src)
        head = list(islice(records, SNIFF_ROWS))
        name = spec.text_field or pick_text_field([r for _, r in (h for h in head if not isinstance(h, Reject))])
        if name is None or name not in header:
            reason = f"missing text field {name!r}" if name else "no text field found (set text_field)"
            yield Reject(src, reason, "file", preview=_preview(",".join(header)))
            return
        for item in chain(head, records):
            if isinstance(item, Reject):
                yield item
            else:
                row, record = item
                yield from _record_passages(_field_text(src, row, f"row {row}", record, name, spec), spec, src)


def _csv_rows(reader, src: str) -> Iterator[list[str] | Reject]:
    """Non-empty rows; a row the csv module cannot parse is a Reject (too many in a row end the file)."""
    errors = 0
    while True:
        try:
            row = next(reader)
            errors = 0
        except StopIteration:
            return
        except csv.Error as exc:
            errors += 1
            yield Reject(src, f"unreadable row: {exc}", f"line {reader.line_num}")
            if errors >= _CSV_ERROR_LIMIT:
                yield Reject(src, "unreadable file: too many unparseable rows", f"line {reader.line_num}")
                return
            continue
        if row:
            yield row


def _csv_records(
    rows: Iterator[list[str] | Reject], header: list[str], src: str
) -> Iterator[tuple[int, dict] | Reject]:
    for row_index, row in enumerate(rows):
        location = f"row {row_index}"
        if isinstance(row, Reject):
            yield row
        elif len(row) != len(header):
            yield Reject(
                src,
                f"wrong number of fields ({len(row)}, expected {len(header)})",
                location,
                preview=_preview(",".join(row)),
            )
        elif SURROGATE.search("".join(row)):
            yield Reject(src, "invalid UTF-8", location, preview=_preview(",".join(row)))
        else:
            yield row_index, dict(zip(header, row))


_PARQUET_BATCH = 1024


def read_parquet(path: Path, spec: SourceSpec) -> Iterator[Passage | Reject]:
    """Parquet, read in record batches (never the whole table at once)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    src = str(path)
    row = 0
    try:
        pf = pq.ParquetFile(path)
        schema = pf.schema_arrow
        strings = [f.name for f in schema if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)]
        name = spec.text_field
        if name is None and strings:
            sample = next(pf.iter_batches(batch_size=SNIFF_ROWS, columns=strings), None)
            name = pick_text_field(sample.to_pylist()) if sample is not None else None
        if name is None or name not in schema.names:
            reason = f"missing text field {name!r}" if name else "no text field found (set text_field)"
            yield Reject(src, reason, "file", preview=_preview(", ".join(schema.names)))
            return
        columns = [name] + [c for c in ("title", "id") if c in schema.names and c != name]
        for batch in pf.iter_batches(batch_size=_PARQUET_BATCH, columns=columns):
            for record in batch.to_pylist():
                yield from _record_passages(_field_text(src, row, f"row {row}", record, name, spec), spec, src)
                row += 1
    except (OSError, pa.ArrowException) as exc:  # not parquet, a corrupt footer or page: the rest is one reject
        yield Reject(src, f"unreadable file: {exc}", f"row {row}" if row else "file")


def _record_passages(record: _Record | Reject, spec: SourceSpec, src: str) -> list[Passage | Reject]:
    """One row as passages: oversized and empty rows rejected, genre decided per row."""
    if isinstance(record, Reject):
        return [record]
    return _row_passages(record.text, record.title, record.row, spec, src, {"id": record.id}, record.location)


def _record_id(record: dict[str, Any]) -> str | None:
    rid = record.get("id")
    return str(rid) if isinstance(rid, (str, int)) and not isinstance(rid, bool) else None


def _row_passages(
    text: str, title: str | None, row: int, spec: SourceSpec, src: str, record: dict[str, Any], location: str
) -> list[Passage | Reject]:
    """The passages of one row's text (a list: most rows are one passage); ``record`` gives the id of a reject."""
    if len(text) > spec.max_doc_chars:
        return [
            Reject(src, f"oversized ({len(text)} chars > max_doc_chars)", location, _record_id(record), _preview(text))
        ]
    ascii_text = text.isascii()
    if not ascii_text and SURROGATE.search(text):
        return [Reject(src, "invalid UTF-8", location, _record_id(record), _preview(text))]
    cleaner = spec.clean
    if cleaner == "auto":
        cleaner = "wikitext" if " @" in text and any(t in text for t in WIKI_TOKENS) else "none"
    if cleaner == "gutenberg":
        start, end, _ = gutenberg_body(text)
        text = text[start:end]
    elif cleaner == "wikitext":
        text = untokenize_wikitext(text)
    clean = normalize_text(text)
    if len(clean) < spec.min_chars:
        return [Reject(src, "empty or too short", location, _record_id(record), _preview(clean))]
    genre = detect_genre(clean) if spec.genre == "auto" else spec.genre
    if len(clean) <= spec.max_chars:
        return [Passage(clean, genre, title, "row", row, row)]
    starts = person_turn_starts(clean)
    if starts is not None:
        return _chat_passages(clean, starts, genre, title, row, spec, src, _record_id(record), location)
    out: list[Passage | Reject] = []
    units, _ = text_units(clean, 0, len(clean), wikitext=False, headings=False, bad_bytes=False)
    for span in pack_spans(clean, units, spec.max_chars):
        piece = normalize_text(clean[span.start : span.end])
        if len(piece) < spec.min_chars:
            out.append(
                Reject(
                    src, "empty or too short", f"{location} chars {span.start}-{span.end}", _record_id(record), piece
                )
            )
        else:
            out.append(Passage(piece, genre, title, "row", row, row))
    return out


def _chat_passages(
    clean: str,
    starts: list[int],
    genre: str,
    title: str | None,
    row: int,
    spec: SourceSpec,
    src: str,
    record_id: str | None,
    location: str,
) -> list[Passage | Reject]:
    """A long chat transcript cut between exchanges (a person's turn and the answers after it), packed up
    to ``max_chars``, so every passage after the first opens with what the person said (the first also
    holds what came before the person's first turn, a greeting or a system line): a piece opening on an
    answer would present the assistant's words as the request. An exchange longer than ``max_chars``
    keeps its opening, whole sentences; the rest of it, cut from its question, is a reject."""
    bounds = [0, *starts[1:], len(clean)]
    pieces: list[tuple[int, int]] = []
    for a, b in zip(bounds[:-1], bounds[1:]):
        if pieces and b - pieces[-1][0] <= spec.max_chars:
            pieces[-1] = (pieces[-1][0], b)
        else:
            pieces.append((a, b))
    out: list[Passage | Reject] = []
    for a, b in pieces:
        end = b
        if b - a > spec.max_chars:
            fits = [y for _, y in sentence_spans(clean, a, b, spec.max_chars) if y - a <= spec.max_chars]
            end = fits[-1] if fits else hard_spans(clean, a, b, spec.max_chars)[0][1]
            turns = transcript_turns(clean[a:end]) or []
            if turns and not clean[a + turns[-1][2] : end].strip():  # the cut fell right after a speaker's label
                end = a + turns[-1][1]
        piece = normalize_text(clean[a:end])
        if len(piece) < spec.min_chars:
            out.append(Reject(src, "empty or too short", f"{location} chars {a}-{end}", record_id, piece))
        else:
            out.append(Passage(piece, genre, title, "row", row, row))
        if end < b:
            rest = normalize_text(clean[end:b])
            reason = "rest of a chat exchange longer than a passage"
            out.append(Reject(src, reason, f"{location} chars {end}-{b}", record_id, _preview(rest)))
    return out


_READERS = {".txt": read_txt, ".jsonl": read_jsonl, ".jsonl.gz": read_jsonl, ".csv": read_csv, ".parquet": read_parquet}


def read_file(path: Path, spec: SourceSpec) -> Iterator[Passage | Reject]:
    """One file's passages; a file that cannot be opened or parsed at all is one Reject at "file"
    (a directory that cannot be listed: one Reject at "directory")."""
    if path.is_dir() or not path.exists():
        reason = unreadable(path) or "unreadable file: not found"
        yield Reject(str(path), reason, "directory" if reason.startswith("unreadable directory") else "file")
        return
    reader = _READERS[file_suffix(path) or ""]
    try:
        yield from reader(path, spec)
    except OSError as exc:
        yield Reject(str(path), f"unreadable file: {exc.strerror or exc}", "file")
    except _DATA_ERRORS as exc:  # a corrupt container must not stop the run (a bug, e.g. a TypeError, still raises)
        log.debug("unreadable %s", path, exc_info=True)
        yield Reject(str(path), f"unreadable file: {type(exc).__name__}: {exc}", "file")


_DATA_ERRORS = (ValueError, EOFError, csv.Error, zlib.error)  # what a corrupt file raises
