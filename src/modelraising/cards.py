"""Hugging Face dataset cards: a ``README.md`` in every raised and ordered directory.

The front matter is the hub's dataset-card metadata (license, language, task categories, size
category) plus ``configs`` naming the record files and ``dataset_info.features`` with ``metadata``
as the ``json`` type, so ``datasets.load_dataset(DIR)`` reads the directory as it is (JSONL or
Parquet) and gives every record's metadata back as the dict it was written as, whatever keys each
record has. The body says what the corpus is: the charter, the sources with their licences, pillars
and mix, engine and teacher, counts, the audit summary when there is one, and how it was made.

Licences are never guessed: a source's licence is what the user gave (``--license SOURCE=ID``, kept
in the card's ``modelraising.sources`` for later runs); any other source is ``unknown``. A licence
that is not a hub identifier is listed as given and makes the card's ``license`` ``other``.

Every run writes the card at its end (:func:`refresh_card`, which never fails the run); a
``README.md`` that modelraising did not write is left alone.
"""

from __future__ import annotations

import fnmatch
import json
import logging
import re
from pathlib import Path

import yaml

import modelraising
from modelraising.io import atomic_write_text

log = logging.getLogger(__name__)
CARD = "README.md"
MARKER = "modelraising"  # front-matter key holding what later runs need (kind, source licences)

# https://huggingface.co/docs/hub/repositories-licenses (identifiers to use in a repo card)
HUB_LICENSES = frozenset(
    """
apache-2.0 mit openrail bigscience-openrail-m creativeml-openrail-m bigscience-bloom-rail-1.0 bigcode-openrail-m
afl-3.0 artistic-2.0 bsl-1.0 bsd bsd-2-clause bsd-3-clause bsd-3-clause-clear c-uda cc cc0-1.0 cc-by-2.0
cc-by-2.5 cc-by-3.0 cc-by-4.0 cc-by-sa-3.0 cc-by-sa-4.0 cc-by-nc-2.0 cc-by-nc-3.0 cc-by-nc-4.0 cc-by-nd-4.0
cc-by-nc-nd-3.0 cc-by-nc-nd-4.0 cc-by-nc-sa-2.0 cc-by-nc-sa-3.0 cc-by-nc-sa-4.0 cdla-sharing-1.0
cdla-permissive-1.0 cdla-permissive-2.0 wtfpl ecl-2.0 epl-1.0 epl-2.0 etalab-2.0 eupl-1.1 agpl-3.0 gfdl gpl
gpl-2.0 gpl-3.0 lgpl lgpl-2.1 lgpl-3.0 isc lppl-1.3c ms-pl mpl-2.0 odc-by odbl openrail++ osl-3.0 postgresql
ofl-1.1 ncsa unlicense zlib pddl lgpl-lr deepfloyd-if-license llama2 gemma unknown other
""".split()
)
# DatasetCardData's documented options
SIZE_CATEGORIES = (
    ("n<1K", 1e3),
    ("1K<n<10K", 1e4),
    ("10K<n<100K", 1e5),
    ("100K<n<1M", 1e6),
    ("1M<n<10M", 1e7),
    ("10M<n<100M", 1e8),
    ("100M<n<1B", 1e9),
    ("1B<n<10B", 1e10),
    ("10B<n<100B", 1e11),
    ("100B<n<1T", 1e12),
    ("n>1T", float("inf")),
)
_DTYPES = {
    "string": "string",
    "large_string": "large_string",
    "int64": "int64",
    "int32": "int32",
    "int16": "int16",
    "int8": "int8",
    "double": "float64",
    "float": "float32",
    "bool": "bool",
}


class CardError(Exception):
    """A directory a card cannot be written for (no records), or a bad licence argument."""


# ---------------------------------------------------------------------------------------------- input


def parse_licenses(items: list[str]) -> dict[str, str]:
    """``["moby_dick.txt=public-domain", "data/*.jsonl=cc-by-4.0"]`` -> {pattern: licence}."""
    out = {}
    for item in items:
        pattern, sep, licence = item.partition("=")
        if not sep or not pattern.strip() or not licence.strip():
            raise CardError(f"--license {item!r}: expected SOURCE=LICENSE, e.g. moby_dick.txt=cc0-1.0")
        out[pattern.strip()] = licence.strip()
    return out


def _licence_for(path: str, given: dict[str, str]) -> str | None:
    name = Path(path).name
    for pattern, licence in given.items():
        if (
            pattern in (path, name)
            or fnmatch.fnmatch(path, pattern)
            or fnmatch.fnmatch(name, pattern)
            or Path(path).resolve() == Path(pattern).resolve()
        ):
            return licence
    return None


def read_front_matter(path: Path) -> dict | None:
    """The YAML front matter of a card, or None when there is none."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return None
    m = re.match(r"---\n(.*?)\n---\n", text, re.S)
    if not m:
        return None
    try:
        data = yaml.safe_load(m.group(1))
    except yaml.YAMLError:
        return None
    return data if isinstance(data, dict) else None


def _load_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


# ---------------------------------------------------------------------------------------------- facts


def _data_files(directory: Path) -> tuple[str, str, list[Path]]:
    for kind in ("raised", "ordered"):
        for fmt in ("jsonl", "parquet"):
            files = sorted(directory.glob(f"{kind}-*.{fmt}"))
            if files:
                return kind, fmt, files
    raise CardError(f"{directory}: no raised-*.jsonl|parquet or ordered-*.jsonl|parquet files to describe")


def _count_records(files: list[Path], fmt: str) -> int:
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return sum(pq.ParquetFile(p).metadata.num_rows for p in files)
    n = 0
    for p in files:
        with open(p, "rb") as f:
            n += sum(1 for line in f if line.strip())
    return n


def features_yaml(files: list[Path], fmt: str) -> list[dict]:
    """``dataset_info.features`` for the record files: ``metadata`` as json; Parquet columns as stored."""
    base = [
        {"name": "id", "dtype": "string"},
        {"name": "text", "dtype": "string"},
        {"name": "metadata", "dtype": "json"},
    ]
    if fmt != "parquet":
        return base
    import pyarrow.parquet as pq

    out = []
    for field in pq.read_schema(files[0]):
        if field.name == "metadata":
            out.append({"name": "metadata", "dtype": "json"})
        else:
            out.append(_feature(field))
    return out


def _feature(field) -> dict:
    import pyarrow as pa

    if pa.types.is_struct(field.type):
        return {"name": field.name, "struct": [_feature(field.type.field(i)) for i in range(field.type.num_fields)]}
    dtype = _DTYPES.get(str(field.type))
    if dtype is None:
        raise CardError(f"column {field.name}: type {field.type} has no dataset-card dtype here")
    return {"name": field.name, "dtype": dtype}


def size_category(n: int) -> str:
    return next(name for name, upper in SIZE_CATEGORIES if n < upper)


def _sources(directory: Path, kind: str, manifest: dict) -> tuple[list[dict], dict, Path | None]:
    """(source inputs with documents read from each, the raise manifest, the raised directory) — for an
    ordered directory, those of the raised directory it was ordered from."""
    raised_dir = None
    if kind == "ordered":
        inputs = manifest.get("inputs") or []
        raised_dir = Path(inputs[0]["path"]).parent if inputs and inputs[0].get("path") else None
        manifest = _load_json(raised_dir / "manifest.json") if raised_dir else {}
    per_source = (manifest.get("sources") or {}).get("per_source") or {}
    rows = []
    for item in manifest.get("inputs") or []:
        path = str(item.get("path"))
        rows.append(
            {"path": path, "sha256": item.get("sha256"), "bytes": item.get("bytes"), "documents": per_source.get(path)}
        )
    return rows, manifest, raised_dir


# ---------------------------------------------------------------------------------------------- card


def write_card(
    directory: str | Path,
    *,
    licenses: dict[str, str] | None = None,
    language: list[str] | None = None,
    force: bool = False,
) -> Path:
    """Write ``directory/README.md``; returns its path. Licences given here are added to those an
    earlier card (or, for an ordered directory, the raised directory's card) recorded."""
    directory = Path(directory)
    kind, fmt, files = _data_files(directory)
    card_path = directory / CARD
    previous = read_front_matter(card_path) if card_path.exists() else None
    if card_path.exists() and not force and not (previous and MARKER in previous):
        raise CardError(f"{card_path} was not written by modelraising; left as it is (use --force to replace it)")
    manifest = _load_json(directory / "manifest.json")
    sources, raise_manifest, raised_dir = _sources(directory, kind, manifest)
    known: dict[str, str] = {}
    for card in ([read_front_matter(raised_dir / CARD)] if raised_dir else []) + [previous]:
        for item in ((card or {}).get(MARKER) or {}).get("sources") or []:
            if isinstance(item, dict) and item.get("license") and item["license"] != "unknown":
                known[str(item.get("path"))] = str(item["license"])
    for row in sources:
        row["license"] = _licence_for(row["path"], licenses or {}) or known.get(row["path"]) or "unknown"
    language = language or (previous or {}).get("language") or ["en"]
    n = _count_records(files, fmt)
    front = _front_matter(kind, fmt, files, n, sources, language, raise_manifest)
    body = _body(directory, kind, n, sources, manifest, raise_manifest, fmt)
    text = "---\n" + yaml.safe_dump(front, sort_keys=False, allow_unicode=True, width=1000) + "---\n\n" + body
    atomic_write_text(card_path, text)
    return card_path


def has_card(directory: str | Path) -> bool:
    """Whether ``directory`` holds a card modelraising wrote (and so may write again)."""
    front = read_front_matter(Path(directory) / CARD)
    return bool(front and MARKER in front)


def refresh_card(directory: str | Path) -> Path | None:
    """:func:`write_card` at the end of a run: a problem is a warning, never a failed run."""
    try:
        return write_card(directory)
    except CardError as exc:
        log.warning("dataset card: %s", exc)
    except Exception as exc:  # the card describes the run; it must not be able to break it
        log.warning("dataset card for %s not written: %s", directory, exc, exc_info=log.isEnabledFor(logging.DEBUG))
    return None


def _front_matter(kind, fmt, files, n, sources, language, manifest) -> dict:
    licences = sorted({s["license"] if s["license"] in HUB_LICENSES else "other" for s in sources} or {"unknown"})
    charter = (manifest.get("charter") or {}).get("name") or "the I"
    engine = (manifest.get("config") or {}).get("engine", "template")
    front = {
        "license": licences[0] if len(licences) == 1 else licences,
        "language": list(language),
        "task_categories": ["text-generation"],
        "task_ids": ["language-modeling"],
        "size_categories": [size_category(n)],
        "annotations_creators": ["machine-generated"],
        "language_creators": ["found", "machine-generated"],
        "multilinguality": ["monolingual"],
        "pretty_name": f"{charter}: a {'raised' if kind == 'raised' else 'curriculum-ordered raised'} corpus "
        f"({engine} engine)",
        "tags": ["modelraising", "synthetic", "value-alignment", "first-person"]
        + (["curriculum"] if kind == "ordered" else []),
        "configs": [{"config_name": "default", "data_files": [{"split": "train", "path": f"{kind}-*.{fmt}"}]}],
        "dataset_info": {"features": features_yaml(files, fmt)},
    }
    if "other" in licences:
        front["license_name"] = "source-licences"  # the Sources table of the card names each one
    front[MARKER] = {
        "kind": kind,
        "format": fmt,
        "version": modelraising.__version__,
        "sources": [{"path": s["path"], "license": s["license"]} for s in sources],
    }
    return front


def check_card(path: str | Path) -> list[str]:
    """Problems the hub's card validation would raise, checked offline: the front matter loads as
    ``huggingface_hub.DatasetCardData``, licences are hub identifiers, size categories and languages
    are of the documented kinds, and ``datasets`` reads the configs and features. Empty when valid."""
    from datasets import Features
    from datasets.utils.metadata import MetadataConfigs
    from huggingface_hub import DatasetCard, DatasetCardData

    problems = []
    card = DatasetCard.load(Path(path))
    data = card.data
    if not isinstance(data, DatasetCardData):
        return [f"{path}: front matter is not dataset-card metadata"]
    licences = data.license if isinstance(data.license, list) else [data.license]
    problems += [f"license {x!r} is not a hub licence identifier" for x in licences if x not in HUB_LICENSES]
    if "other" in licences and not data.to_dict().get("license_name"):
        problems.append("license other needs a license_name")
    names = {name for name, _ in SIZE_CATEGORIES} | {"other"}
    problems += [
        f"size_categories {x!r} is not one of {sorted(names)}" for x in data.size_categories or [] if x not in names
    ]
    problems += [
        f"language {x!r} is not an ISO 639 code" for x in data.language or [] if not re.fullmatch(r"[a-z]{2,3}", str(x))
    ]
    if not data.task_categories:
        problems.append("task_categories is empty")
    try:
        configs = MetadataConfigs.from_dataset_card_data(data)
        if "default" not in configs:
            problems.append("configs has no default config")
        Features._from_yaml_list(data.to_dict()["dataset_info"]["features"])
    except Exception as exc:
        problems.append(f"configs or dataset_info do not load with datasets: {exc}")
    return problems


def _cell(value) -> str:
    text = "" if value is None else str(value)
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").replace("<", "&lt;")


def _table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _charter_section(manifest: dict) -> str:
    info = manifest.get("charter") or {}
    out = f"## Charter\n\nCharter hash `{info.get('hash', '?')}`"
    charter = None
    if info.get("path") and Path(info["path"]).is_file():
        try:
            from modelraising.charter import load_charter

            charter = load_charter(info["path"])
        except Exception:  # a charter changed since: its name and hash above still identify it
            charter = None
    if charter is None or charter.hash != info.get("hash"):
        return out + f", identity **{_cell(info.get('name', '?'))}** (the charter file is no longer at hand).\n\n"
    out += f": **{_cell(charter.identity.name)}**. {_cell(charter.identity.description)}\n\n"
    out += _table(["value", "name", "statement"], [[v.id, v.name, v.statement] for v in charter.values])
    out += (
        f"\nHarmful-content policy: `{charter.policy}`. Cast: "
        + ", ".join(f"{_cell(c.name)} ({c.role})" for c in charter.cast)
        + ".\n\n"
    )
    return out


def _counts_rows(counts: dict) -> list[list]:
    rows = [
        [k.replace("_", " "), f"{counts[k]:,}"]
        for k in ("documents_in", "raised", "dropped", "rejects", "duplicates", "chars_in", "chars_out")
        if k in counts
    ]
    for group in ("per_pillar", "per_form", "per_genre", "values_fired"):
        for name, v in (counts.get(group) or {}).items():
            rows.append([f"{group.replace('per_', '').replace('_', ' ')}: {name}", f"{v:,}"])
    return rows


def _body(
    directory: Path, kind: str, n: int, sources: list[dict], manifest: dict, raise_manifest: dict, fmt: str
) -> str:
    name = (raise_manifest.get("charter") or {}).get("name") or "the I"
    config = raise_manifest.get("config") or {}
    parts = [
        f"# {_cell(name)}: {'raised corpus' if kind == 'raised' else 'raised corpus in curriculum order'}\n\n"
        f"{n:,} records written by `modelraising {'raise' if kind == 'raised' else 'curriculum'}`: source passages "
        f"re-told "
        f'in the first person by the charter\'s "I" ({_cell(name)}), as lived experience and dialogue, with '
        "the charter's values reflected where they apply. Each record is `{id, text, metadata}`; "
        "`metadata` says where the passage came from (`source`, `offsets`), what was applied "
        "(`pillars`, `form`, `templates`, `value`, `harm`) and, in curriculum order, `position`, "
        "`stage` and `difficulty`.\n\n"
    ]
    parts.append(_charter_section(raise_manifest))
    parts.append(
        "## Sources\n\nLicences are as given with `--license SOURCE=ID`; `unknown` means none was given. "
        "The raised text quotes its sources, so their licences apply to it.\n\n"
    )
    parts.append(
        _table(
            ["source", "licence", "documents", "bytes", "sha256"],
            [[s["path"], s["license"], s["documents"], s["bytes"], (s["sha256"] or "")[:16]] for s in sources],
        )
        if sources
        else "(the manifest lists no sources)\n"
    )
    mix = ", ".join(f"{k} {v:g}" for k, v in (config.get("mix") or {}).items())
    parts.append(
        f"\n## Pillars and mix\n\nPillars: {', '.join(config.get('pillars') or []) or '?'}; form mix: "
        f"{mix or '?'}; value tags: {'on' if config.get('value_tags') else 'off'}; policy override: "
        f"{config.get('policy') or 'none (the charter decides)'}; seed {config.get('seed', '?')}.\n\n"
    )
    parts.append("## Engine\n\n" + _engine(config, raise_manifest) + "\n")
    parts.append("## Counts\n\n" + _table(["count", "value"], _counts_rows(raise_manifest.get("counts") or {})))
    rejects = raise_manifest.get("rejects_by_reason") or {}
    if rejects:
        parts.append(
            "\nRejected inputs by reason: " + ", ".join(f"{_cell(k)} {v:,}" for k, v in rejects.items()) + ".\n"
        )
    if kind == "ordered":
        parts.append(_curriculum_section(directory))
    parts.append(_audit_section(directory))
    parts.append(_made_section(kind, manifest, raise_manifest))
    parts.append(
        '\n## Loading\n\n```python\nfrom datasets import load_dataset\n\nds = load_dataset("path/to/this/directory", '
        'split="train")\nds[0]["metadata"]["pillars"]  # metadata is the record\'s dict (json feature)\n```\n'
        + ("\nThe rows are in curriculum order (file names sort in order).\n" if kind == "ordered" else "")
    )
    return "".join(parts)


def _engine(config: dict, manifest: dict) -> str:
    engine = config.get("engine", "template")
    if engine != "teacher":
        return (
            "Template engine (offline, deterministic): every choice drawn from a generator seeded by the seed and "
            "the document id.\n"
        )
    teacher = manifest.get("teacher") or {}
    counts = teacher.get("counts") or {}
    return (
        f"Teacher engine: model `{_cell(teacher.get('model') or (config.get('teacher') or {}).get('model'))}`, "
        f"prompt version `{_cell(teacher.get('prompt_version'))}`, temperature "
        f"{(config.get('teacher') or {}).get('temperature', '?')}; accepted {counts.get('accepted', '?')}, "
        f"fell back to templates {counts.get('fallen_back', '?')}, judged {counts.get('judged', 0)} "
        f"(mean {counts.get('judge_mean')}).\n"
    )


def _curriculum_section(directory: Path) -> str:
    cur = _load_json(directory / "curriculum.json")
    if not cur:
        return ""
    rows = [
        [
            s.get("name"),
            s.get("ceiling"),
            s.get("documents"),
            s.get("review"),
            s.get("positions"),
            s.get("tokens_estimate"),
            (s.get("difficulty") or {}).get("mean"),
        ]
        for s in cur.get("stages") or []
    ]
    cfg = cur.get("config") or {}
    out = (
        f"\n## Curriculum\n\nOrder `{cur.get('order')}`, spaced review {cfg.get('review')}, seed {cfg.get('seed')}.\n\n"
        + _table(
            ["stage", "ceiling", "documents", "review copies", "positions", "tokens (est.)", "mean difficulty"], rows
        )
    )
    if (directory / "difficulty.png").exists():
        out += "\n![difficulty by curriculum position](difficulty.png)\n"
    return out


def _audit_section(directory: Path) -> str:
    audit = _load_json(directory / "audit.json")
    if not audit:
        return "\n## Audit\n\nNot audited yet: `modelraising audit DIR` adds its summary here.\n"
    rep = audit.get("repetition") or {}
    harm = audit.get("harm") or {}
    rows: list[list] = [
        ["records", audit.get("records")],
        ["verbatim share of text", audit.get("verbatim_share")],
        ["most repeated generated sentence (share of records)", rep.get("max_sentence_share")],
        ["harmful records", harm.get("records")],
        [
            "harm: approving frames / own voice / unanswered",
            f"{harm.get('approving_frame')} / {harm.get('in_own_voice')} / {harm.get('unanswered')}",
        ],
    ]
    rows += [
        [f"detector {d['name']}", f"{d['records']} ({d['rate']:.2%})"]
        for d in audit.get("detectors") or []
        if d.get("records")
    ]
    failures = audit.get("failures") or []
    out = "\n## Audit\n\n" + _table(["measure", "value"], rows)
    out += (
        ("\nCaps exceeded:\n\n" + "".join(f"- {_cell(f)}\n" for f in failures)) if failures else "\nEvery cap is met.\n"
    )
    return out


def _made_section(kind: str, manifest: dict, raise_manifest: dict) -> str:
    versions = manifest.get("versions") or {}
    step = "modelraising raise" if kind == "raised" else "modelraising curriculum"
    config = manifest.get("config") or {}
    # nothing about how the run went (timings, executor): the card is the same for a resumed run
    out = (
        f"\n## How it was made\n\n`{step}` (modelraising {versions.get('modelraising', modelraising.__version__)}, "
        f"Python {versions.get('python', '?')}). Configuration:\n\n```yaml\n"
        + yaml.safe_dump(config, sort_keys=True, width=100)
        + "```\n"
    )
    if kind == "ordered":
        rconf = raise_manifest.get("config") or {}
        out += "\nRaised with:\n\n```yaml\n" + yaml.safe_dump(rconf, sort_keys=True, width=100) + "```\n"
    exclusion = raise_manifest.get("review_exclusion")
    if exclusion:
        out += (
            f"\n{exclusion.get('documents')} source documents were left out because a reviewer flagged them "
            f"(`--exclude-flagged` {', '.join(exclusion.get('dirs') or [])}).\n"
        )
    return out
