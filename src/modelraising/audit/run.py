"""``modelraising audit DIR``: what a raised corpus would teach, measured record by record.

Reads any raised or ordered directory (JSONL or Parquet), cuts every record into source spans and
generated text (:mod:`modelraising.audit.segments`), runs the detectors
(:mod:`modelraising.audit.detectors`), counts repeated generated sentences and verbatim charter
sentences, and summarises harm coverage. Writes ``audit.json``, ``audit.md``, ``audit.html`` and
``audit-flags.jsonl`` (one line per flagged record, for the viewer and for review), all atomically.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from modelraising.audit.detectors import DETECTORS, FIRST_PERSON, Record
from modelraising.audit.segments import PLACEHOLDER, segment
from modelraising.charter import Charter, load_charter
from modelraising.document import Document
from modelraising.io import atomic_write_json, atomic_write_text, read_documents
from modelraising.records import read_records

log = logging.getLogger(__name__)
FORMAT = "modelraising-audit/1"
EXAMPLES = 3
TOP_SENTENCES = 25
_ANY = "\0any"  # key counting records that paste any charter sentence of the value


class AuditError(Exception):
    """A directory the audit cannot read (not a modelraising output, no records)."""


class AuditThresholds(BaseModel):
    """Caps a corpus must meet; ``experiment`` fails a run that exceeds them (``audit:`` in its YAML)."""

    model_config = ConfigDict(extra="forbid")

    max_sentence_share: float = Field(
        default=0.01, ge=0, le=1, description=("No generated sentence in more than this share of records.")
    )
    max_charter_sentence_share: float = Field(
        default=0.10,
        ge=0,
        le=1,
        description=("No charter sentence verbatim in more than this share of the records where its value fires."),
    )
    max_artifact_rate: float = Field(default=0.01, ge=0, le=1, description="Each artifact detector at most this share.")
    max_voice_rate: float = Field(
        default=0.01,
        ge=0,
        le=1,
        description=("Unattributed other-narrator first person, and the I voicing a source, at most this share."),
    )
    max_harm_violations: int = Field(
        default=0,
        ge=0,
        description=("Harmful records with an approving frame, in the I's or the cast's voice, or unanswered."),
    )
    min_records_for_caps: int = Field(
        default=500,
        ge=1,
        description=("Below this many records the share caps are reported but not enforced (one record is 1% of 100)."),
    )


# --------------------------------------------------------------------------------------------------
# Reading


def most_common(counts: Counter, n: int) -> list[tuple[str, int]]:
    """The ``n`` largest counts, ties in key order (``Counter.most_common`` keeps insertion order, which
    a set's iteration made differ from run to run)."""
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n]


def record_files(directory: Path) -> list[Path]:
    files = []
    for prefix in ("raised", "ordered"):
        files += sorted(directory.glob(f"{prefix}-*.jsonl")) + sorted(directory.glob(f"{prefix}-*.parquet"))
    return files


def iter_records(directory: Path) -> Iterator[tuple[str, int, Document]]:
    """(file name, 0-based index in file, record) for every record of a raised or ordered directory."""
    files = record_files(directory)
    if not directory.is_dir():
        raise AuditError(f"{directory} is not a directory")
    if not files:
        raise AuditError(
            f"{directory} is not a modelraising output: no raised-*.jsonl|parquet or ordered-*.jsonl|parquet files"
        )
    for path in files:
        docs: Iterator[Document]
        if path.suffix == ".parquet":
            docs = (Document.from_dict(r) for r in read_records(path))
        else:
            docs = read_documents(path)
        for i, doc in enumerate(docs):
            yield path.name, i, doc


def _charter_for(directory: Path, charter: Charter | None) -> Charter | None:
    if charter is not None:
        return charter
    manifest = directory / "manifest.json"
    if manifest.exists():
        try:
            data = json.loads(manifest.read_text(encoding="utf-8"))
            path = (data.get("charter") or {}).get("path")
            if path and Path(path).exists():
                return load_charter(path)
        except (OSError, ValueError, KeyError):
            pass
    from modelraising.charter import default_charter_path

    return load_charter(default_charter_path())


def _sources_by_id(paths: list[str], ids: set[str]) -> dict[str, str]:
    """Source passages by document id, read again from the source files (for records without
    ``metadata.quoted``)."""
    from modelraising.sources import SourceSpec, read_sources

    found: dict[str, str] = {}
    for path in paths:
        if not Path(path).exists():
            continue
        try:
            for item in read_sources([SourceSpec(path=path)]):
                if isinstance(item, Document) and item.id in ids:
                    found[item.id] = item.text
        except Exception as exc:  # a source that cannot be read again only costs the fallback matching
            log.warning("audit: cannot re-read source %s (%s); its records are audited without it", path, exc)
    return found


# --------------------------------------------------------------------------------------------------
# Per-record facts


def is_harmful(meta: dict) -> bool:
    harm = meta.get("harm")
    if harm is not None:
        return bool(harm.get("harmful") or harm.get("request"))
    return bool((meta.get("value") or {}).get("harmful"))


def harm_labels(meta: dict) -> list[str]:
    harm = meta.get("harm")
    if harm is not None:
        labels = list(harm.get("labels") or [])
        return labels + (["harmful_request"] if harm.get("request") else [])
    return list((meta.get("value") or {}).get("harms") or [])


def harm_action(meta: dict) -> str:
    harm = meta.get("harm") or {}
    return harm.get("action") or (meta.get("value") or {}).get("policy_action") or "none"


_SPEAKER_TAG = re.compile(r"<\|[a-z]+\|> [^:\n]{1,60}: ")


def _norm_sentence(s: str) -> str:
    return " ".join(s.split()).strip().rstrip(".!").strip()


def charter_sentences(charter: Charter) -> dict[str, list[str]]:
    """Every sentence of the charter a reflection might paste, per value id (statement, why, do, dont,
    paraphrases)."""
    out: dict[str, list[str]] = {}
    for v in charter.values:
        texts = [v.statement, v.why, *v.do, *v.dont, *getattr(v, "paraphrases", [])]
        out[v.id] = sorted({_norm_sentence(t) for t in texts if t.strip()})
    return out


# --------------------------------------------------------------------------------------------------
# The audit


@dataclass
class Tally:
    """What one pass over a corpus counts; :func:`_report` turns it into the report."""

    n: int = 0
    per_form: Counter = field(default_factory=Counter)
    per_genre: Counter = field(default_factory=Counter)
    per_pillar: Counter = field(default_factory=Counter)
    flags_count: Counter = field(default_factory=Counter)
    examples: dict[str, list[dict]] = field(default_factory=lambda: defaultdict(list))
    sentence_records: Counter = field(default_factory=Counter)
    i_present: int = 0
    named_in_prose: int = 0
    chars_total: int = 0
    chars_source: int = 0
    segmented_without_source: int = 0
    fired: Counter = field(default_factory=Counter)
    charter_hits: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    harm_records: int = 0
    harm_by_label: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    flag_lines: list[str] = field(default_factory=list)
    seen_ids: Counter = field(default_factory=Counter)


def audit_dir(
    directory: str | Path,
    *,
    charter: Charter | None = None,
    sources: list[str] | None = None,
    thresholds: AuditThresholds | None = None,
    out: str | Path | None = None,
) -> dict:
    """Audit a raised or ordered directory; writes the report files into ``out`` (default: the
    directory itself) and returns the report."""
    directory = Path(directory)
    thresholds = thresholds or AuditThresholds()
    charter = _charter_for(directory, charter)
    me = charter.identity.name if charter else "I"
    charter_sents = charter_sentences(charter) if charter else {}
    out_dir = Path(out) if out else directory

    records = list(iter_records(directory))  # (file, index, doc): the texts of one corpus fit in memory
    need_source = [d for _, _, d in records if "quoted" not in d.metadata]
    source_texts: dict[str, str] = {}
    if need_source:
        paths = sorted(set(sources or []) | {d.metadata["source"] for d in need_source if d.metadata.get("source")})
        source_texts = _sources_by_id(paths, {d.metadata.get("source_id", d.id) for d in need_source})

    t = Tally()
    for fname, index, doc in records:
        meta = doc.metadata
        t.n += 1
        t.seen_ids[doc.id] += 1
        t.per_form[meta.get("form", "?")] += 1
        t.per_genre[meta.get("genre", "?")] += 1
        for p in meta.get("pillars") or []:
            t.per_pillar[p] += 1
        source = source_texts.get(meta.get("source_id", doc.id)) if "quoted" not in meta else None
        if "quoted" not in meta and source is None:
            t.segmented_without_source += 1
        seg = segment(doc.text, meta, source)
        t.chars_total += len(doc.text)
        t.chars_source += seg.source_chars
        prose = _SPEAKER_TAG.sub("", seg.generated.replace(PLACEHOLDER, " "))
        if FIRST_PERSON.search(prose):
            t.i_present += 1
        if me in prose:
            t.named_in_prose += 1
        for s in dict.fromkeys(seg.generated_sentences()):  # once per record, in a fixed order
            t.sentence_records[s[:300]] += 1

        harmful = is_harmful(meta)
        record = Record(seg, meta, harmful, me)
        flagged = []
        for det in DETECTORS:
            evidence = det.find(record)
            if evidence:
                t.flags_count[det.name] += 1
                flagged.append(det.name)
                if len(t.examples[det.name]) < EXAMPLES:
                    t.examples[det.name].append({"id": doc.id, "file": fname, "index": index, "evidence": evidence})
        value = (meta.get("value") or {}).get("value")
        if value:
            t.fired[value] += 1
            flat = " ".join(doc.text.split())
            pasted = [sent for sent in charter_sents.get(value, []) if sent and sent in flat]
            for sent in pasted:
                t.charter_hits[value][sent] += 1
            if pasted:
                t.charter_hits[value][_ANY] += 1
        if harmful:
            t.harm_records += 1
            action = harm_action(meta)
            for label in harm_labels(meta) or ["unlabelled"]:
                t.harm_by_label[label]["records"] += 1
                t.harm_by_label[label][f"action:{action}"] += 1
                for name in ("approving_frame_on_harm", "harm_in_own_voice", "harm_unanswered"):
                    if name in flagged:
                        t.harm_by_label[label][name] += 1
        if flagged:
            t.flag_lines.append(
                json.dumps({"id": doc.id, "file": fname, "index": index, "flags": flagged}, ensure_ascii=False)
            )

    if t.n == 0:
        raise AuditError(f"{directory} holds no records")
    dropped = _policy_drops(directory)
    report = _report(directory, t, dropped, me, thresholds)
    _write(out_dir, report, t.flag_lines)
    return report


def _policy_drops(directory: Path) -> Counter:
    """Passages the raise dropped by policy, by reason (from rejects.jsonl)."""
    drops: Counter = Counter()
    path = directory / "rejects.jsonl"
    if path.exists():
        with open(path, encoding="utf-8") as f:
            for line in f:
                try:
                    reason = json.loads(line).get("reason", "")
                except ValueError:
                    continue
                if reason.startswith("policy drop") or reason.startswith("hard drop"):
                    drops[reason.split(":")[0]] += 1
    return drops


def _share(k: int, n: int) -> float:
    return round(k / n, 4) if n else 0.0


def share_lower_bound(k: int, n: int, z: float = 1.645) -> float:
    """One-sided 95% Wilson lower bound of the share k/n.

    The repetition cap is judged on this bound, not on k/n: the most repeated of thousands of sentences
    is the maximum of noisy shares (a bank line expected in 0.6% of records lands in 1.1% of 635 by
    chance), and what the cap guards against is a line that repeats *at scale*. On large corpora the
    bound and the share agree.
    """
    if not n:
        return 0.0
    p = k / n
    centre = p + z * z / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, (centre - spread) / (1 + z * z / n))


def _report(
    directory: Path,
    t: Tally,
    dropped: Counter,
    me: str,
    thresholds: AuditThresholds,
) -> dict:
    top = most_common(t.sentence_records, TOP_SENTENCES)
    sentences_over = sum(
        1 for c in t.sentence_records.values() if share_lower_bound(c, t.n) > thresholds.max_sentence_share
    )
    instances = sum(t.sentence_records.values())
    frequent = sum(c for c in t.sentence_records.values() if c >= 10)
    charter_rows = []
    for value, count in sorted(t.fired.items()):
        hits = Counter(t.charter_hits.get(value, Counter()))
        any_pasted = hits.pop(_ANY, 0)
        worst = most_common(hits, 1)
        charter_rows.append(
            {
                "value": value,
                "fired": count,
                "records_with_any_charter_sentence": _share(any_pasted, count),
                "max_sentence_share": _share(worst[0][1], count) if worst else 0.0,
                "max_sentence": worst[0][0] if worst else None,
            }
        )
    detectors = []
    for det in DETECTORS:
        k = t.flags_count.get(det.name, 0)
        detectors.append(
            {
                "name": det.name,
                "kind": det.kind,
                "what": det.what,
                "records": k,
                "rate": _share(k, t.n),
                "examples": t.examples.get(det.name, []),
            }
        )
    harm = {
        "records": t.harm_records,
        "share": _share(t.harm_records, t.n),
        "by_label": {k: dict(sorted(v.items())) for k, v in sorted(t.harm_by_label.items())},
        "dropped_by_policy": dict(dropped),
        "approving_frame": t.flags_count.get("approving_frame_on_harm", 0),
        "in_own_voice": t.flags_count.get("harm_in_own_voice", 0),
        "unanswered": t.flags_count.get("harm_unanswered", 0),
    }
    report = {
        "format": FORMAT,
        "directory": str(directory),
        "records": t.n,
        "duplicate_ids": sum(c - 1 for c in t.seen_ids.values() if c > 1),
        "per_form": dict(sorted(t.per_form.items())),
        "per_genre": dict(sorted(t.per_genre.items())),
        "per_pillar": dict(sorted(t.per_pillar.items())),
        "voice": {
            "first_person_frame_rate": _share(t.i_present, t.n),
            "names_itself_in_prose": _share(t.named_in_prose, t.n),
            "name": me,
        },
        "verbatim_share": _share(t.chars_source, t.chars_total),
        "records_without_source_spans": t.segmented_without_source,
        "repetition": {
            "generated_sentence_instances": instances,
            "distinct_generated_sentences": len(t.sentence_records),
            "share_of_instances_in_10plus_records": _share(frequent, instances),
            "sentences_over_cap": sentences_over,
            "max_sentence_share": _share(top[0][1], t.n) if top else 0.0,
            "max_sentence_share_lower_bound": round(share_lower_bound(top[0][1], t.n), 4) if top else 0.0,
            "cap_rule": "over the cap when the one-sided 95% Wilson lower bound of the share exceeds it",
            "top": [
                {
                    "sentence": s,
                    "records": c,
                    "share": _share(c, t.n),
                    "share_lower_bound": round(share_lower_bound(c, t.n), 4),
                }
                for s, c in top
            ],
        },
        "charter_sentences": charter_rows,
        "detectors": detectors,
        "harm": harm,
        "thresholds": thresholds.model_dump(),
    }
    report["failures"] = check(report, thresholds)
    return report


def check(report: dict, thresholds: AuditThresholds) -> list[str]:
    """One line per cap the corpus exceeds (share caps only from ``min_records_for_caps`` records on)."""
    failures = []
    enforce_shares = report["records"] >= thresholds.min_records_for_caps
    rep = report["repetition"]
    if enforce_shares and rep["sentences_over_cap"]:
        top = rep["top"][0]
        failures.append(
            f"repetition: {rep['sentences_over_cap']} generated sentence(s) in more than "
            f"{thresholds.max_sentence_share:.0%} of records; worst {top['share']:.1%}: {top['sentence']!r}"
        )
    for row in report["charter_sentences"]:
        if enforce_shares and row["fired"] >= 20 and row["max_sentence_share"] > thresholds.max_charter_sentence_share:
            failures.append(
                f"charter: {row['value']}'s sentence {row['max_sentence']!r} is verbatim in "
                f"{row['max_sentence_share']:.0%} of the records where the value fires "
                f"(cap {thresholds.max_charter_sentence_share:.0%})"
            )
    for det in report["detectors"]:
        if det["kind"] == "artifact" and enforce_shares and det["rate"] > thresholds.max_artifact_rate:
            failures.append(
                f"artifact: {det['name']} in {det['rate']:.1%} of records (cap {thresholds.max_artifact_rate:.0%})"
            )
        if det["kind"] == "voice" and enforce_shares and det["rate"] > thresholds.max_voice_rate:
            failures.append(
                f"voice: {det['name']} in {det['rate']:.1%} of records (cap {thresholds.max_voice_rate:.0%})"
            )
    harm = report["harm"]
    violations = harm["approving_frame"] + harm["in_own_voice"] + harm["unanswered"]
    if violations > thresholds.max_harm_violations:
        failures.append(
            f"harm: {harm['approving_frame']} approving frame(s), {harm['in_own_voice']} in the "
            f"I's or cast's voice, {harm['unanswered']} unanswered, over {harm['records']} harmful records"
        )
    return failures


def _write(out_dir: Path, report: dict, flag_lines: list[str]) -> None:
    from modelraising.audit.render import render_html, render_markdown

    out_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_json(out_dir / "audit.json", report)
    atomic_write_text(out_dir / "audit.md", render_markdown(report))
    atomic_write_text(out_dir / "audit.html", render_html(report))
    atomic_write_text(out_dir / "audit-flags.jsonl", "".join(line + "\n" for line in flag_lines))
