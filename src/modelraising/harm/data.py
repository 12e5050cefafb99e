"""The detector's labelled data, built from public files and the labels that ship with the package.

Every example is ``(key, source, text, request, labels, group, split)``. Texts come from the public
data directory (``../shared/data`` in this project: see its SOURCES.md); labels come from
``data/detector/labels/*.tsv`` (written by annotators following ``data/detector/GUIDELINES.md``;
each row carries a hash of the text it labels, so a changed data file is caught, not silently
mislabelled) or from the dataset's own labels:

| source | texts | labels |
|---|---|---|
| ``hh_rlhf`` | the person's turns of each red-team dialogue (HH-RLHF harmless-base test) | request + categories |
| ``advbench``, ``harmbench`` | harmful-behaviour prompts (HarmBench's copyright behaviours left out) | annotated |
| ``ethics`` | ETHICS commonsense short scenarios: wrong ones annotated by category, others benign | annotated |
| ``davidson`` | tweets: hate speech -> ``hate``, offensive language -> ``cruelty``, neither -> none | dataset (crowd) |
| ``benign_requests`` | 600 benign requests and questions written for this detector, 200 of them hard negatives | none |
| ``truthfulqa`` | TruthfulQA questions | none |
| ``passages`` | TinyStories, WikiText, Aesop, Grimm, five Gutenberg novels, Shakespeare, as raising reads them | none |

The held-out split (20%) is drawn by a hash of each example's *group*, not of the example: dialogues
that open with the same words ("I am trying to locate the residential address for ...") and prompts
that share their first words fall on the same side, so the test split measures generalisation, not
recall of near-duplicates. Nothing of the held-out split is used for training or threshold choice.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from modelraising.harm.labels import LABELS, REQUEST

log = logging.getLogger(__name__)
HELD_OUT = 0.2
LABEL_DIR = Path(__file__).resolve().parent.parent / "data" / "detector"

# Benign passages per corpus file: (file, how many, every k-th passage is taken).
PASSAGE_FILES: tuple[tuple[str, int], ...] = (
    ("tinystories_sample.txt", 700),
    ("wikitext2_valid.txt", 700),
    ("aesop_fables.txt", 300),
    ("grimms_fairy_tales.txt", 400),
    ("frankenstein.txt", 250),
    ("sherlock_holmes.txt", 250),
    ("moby_dick.txt", 250),
    ("little_women.txt", 250),
    ("time_machine.txt", 150),
    ("tinyshakespeare.txt", 250),
)
DAVIDSON = {"hate": 1430, "offensive": 2500, "neither": 2500}  # tweets taken per class (all hate tweets)


class DataError(Exception):
    """The public data directory is missing a file the detector's data needs."""


@dataclass
class Example:
    key: str
    source: str
    text: str
    request: int
    labels: frozenset[str] = field(default_factory=frozenset)
    group: str = ""
    split: str = "train"

    def targets(self) -> list[int]:
        """0/1 per label of :data:`LABELS` (categories, then the request label)."""
        return [int(self.request) if name == REQUEST else int(name in self.labels) for name in LABELS]


def text_sha(text: str) -> str:
    return hashlib.sha256(" ".join(text.split()).encode()).hexdigest()[:12]


def split_of(group: str, held_out: float = HELD_OUT) -> str:
    h = int.from_bytes(hashlib.sha256(("split/" + group).encode()).digest()[:8], "big") / 2**64
    return "test" if h < held_out else "train"


def _opening(text: str, words: int = 5) -> str:
    return " ".join(re.findall(r"[a-z']+", text.lower())[:words])


_TURN_SPLIT = re.compile(r"\n\n(Human|Assistant):")


def human_turns(dialogue: str) -> list[str]:
    """The person's turns of an HH-RLHF ``\\n\\nHuman: ... \\n\\nAssistant: ...`` dialogue, whitespace collapsed."""
    parts = _TURN_SPLIT.split("\n\n" + dialogue.lstrip("\n") if not dialogue.startswith("\n\n") else dialogue)
    return [" ".join(parts[i + 1].split()) for i in range(1, len(parts) - 1, 2) if parts[i] == "Human"]


def annotated_form(turns: list[str]) -> str:
    """The dialogue as annotators saw it: ``[1] ... || [2] ...``."""
    return " || ".join(f"[{k + 1}] {t}" for k, t in enumerate(turns))


def read_labels(name: str) -> dict[str, tuple[str, int, frozenset[str]]]:
    """``key -> (text sha, request, labels)`` from ``data/detector/labels/NAME.tsv``."""
    out = {}
    with open(LABEL_DIR / "labels" / f"{name}.tsv", encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            labels = frozenset(row["labels"].split())
            unknown = labels - set(LABELS)
            if unknown:
                raise DataError(f"labels/{name}.tsv: {row['key']}: unknown label(s) {', '.join(sorted(unknown))}")
            out[row["key"]] = (row["sha"], int(row["request"]), labels)
    return out


def _need(root: Path, rel: str) -> Path:
    path = root / rel
    if not path.exists():
        raise DataError(
            f"{path} not found: the detector's data needs the public data directory "
            "(--data, default ../shared/data; see its SOURCES.md)"
        )
    return path


def _checked(name: str, key: str, text: str, labels: dict, drift: list[str]):
    sha, request, cats = labels[key]
    if text_sha(text) != sha:
        drift.append(f"{name}:{key}")
        return None
    return request, cats


def _hh(root: Path, drift: list[str]) -> Iterator[Example]:
    labels = read_labels("hh_rlhf")
    with gzip.open(_need(root, "corpus/hh_rlhf_harmless_base_test.jsonl.gz"), "rt", encoding="utf-8") as f:
        for i, line in enumerate(f):
            key = f"hh{i}"
            if key not in labels:
                continue
            turns = human_turns(json.loads(line)["chosen"])
            got = _checked("hh_rlhf", key, annotated_form(turns), labels, drift)
            if got:
                yield Example(key, "hh_rlhf", "\n".join(turns), got[0], got[1], "hh:" + _opening(turns[0], 6))


def _requests(root: Path, drift: list[str]) -> Iterator[Example]:
    labels = read_labels("requests")
    with open(_need(root, "eval/advbench/harmful_behaviors.csv"), encoding="utf-8") as f:
        for i, row in enumerate(csv.DictReader(f)):
            text = " ".join(row["goal"].split())
            if (got := _checked("requests", f"adv{i}", text, labels, drift)) is not None:
                yield Example(f"adv{i}", "advbench", text, got[0], got[1], "req:" + _opening(text, 4))
    with open(_need(root, "eval/harmbench/harmbench_behaviors_text_val.csv"), encoding="utf-8") as f:
        for i, row in enumerate(csv.DictReader(f)):
            if row["FunctionalCategory"] == "copyright" or f"hb{i}" not in labels:
                continue
            text = " ".join(row["Behavior"].split())
            if (got := _checked("requests", f"hb{i}", text, labels, drift)) is not None:
                yield Example(f"hb{i}", "harmbench", text, got[0], got[1], "req:" + _opening(text, 4))


def _ethics(root: Path, drift: list[str]) -> Iterator[Example]:
    labels = read_labels("ethics")
    with open(_need(root, "eval/ethics/commonsense_test.csv"), encoding="utf-8") as f:
        for i, row in enumerate(csv.DictReader(f)):
            if row["is_short"] != "True":
                continue
            text = " ".join(row["input"].split())
            key = f"eth{i}"
            if row["label"] == "1":
                if key in labels and (got := _checked("ethics", key, text, labels, drift)) is not None:
                    yield Example(key, "ethics", text, 0, got[1], key)
            else:
                yield Example(key, "ethics", text, 0, frozenset(), key)


def _davidson(root: Path) -> Iterator[Example]:
    kinds = {
        "0": ("hate", frozenset({"hate"})),
        "1": ("offensive", frozenset({"cruelty"})),
        "2": ("neither", frozenset()),
    }
    taken = {k: 0 for k in DAVIDSON}
    with open(_need(root, "corpus/davidson_hate_offensive_tweets.csv"), encoding="utf-8") as f:
        for row in csv.DictReader(f):
            kind, labels = kinds[row["class"]]
            if taken[kind] >= DAVIDSON[kind]:
                continue
            taken[kind] += 1
            text = clean_tweet(row["tweet"])
            key = f"tw{row['']}"
            yield Example(key, "davidson", text, 0, labels, key)


def clean_tweet(text: str) -> str:
    """A tweet as raising reads it (HTML entities unescaped, whitespace collapsed)."""
    import html

    return " ".join(html.unescape(html.unescape(text)).split())


def _benign_requests() -> Iterator[Example]:
    with open(LABEL_DIR / "benign_requests.tsv", encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            yield Example(row["key"], "benign_requests", row["text"], 0, frozenset(), row["key"])


def _truthfulqa(root: Path) -> Iterator[Example]:
    with open(_need(root, "eval/truthfulqa/TruthfulQA.csv"), encoding="utf-8") as f:
        for i, row in enumerate(csv.DictReader(f)):
            yield Example(f"tqa{i}", "truthfulqa", row["Question"], 0, frozenset(), f"tqa{i}")


def _passages(root: Path) -> Iterator[Example]:
    from modelraising.document import Document
    from modelraising.sources import SourceSpec, read_sources

    for name, n in PASSAGE_FILES:
        path = _need(root, f"corpus/{name}")
        docs = [d for d in read_sources([SourceSpec(path=str(path))]) if isinstance(d, Document)]
        step = max(1, len(docs) // n)
        for doc in docs[::step][:n]:
            yield Example(doc.id, "passages", doc.text, 0, frozenset(), doc.id)


def build_examples(root: str | Path) -> list[Example]:
    """Every labelled example, with its split; raises DataError when a file is missing."""
    root = Path(root)
    drift: list[str] = []
    examples: list[Example] = []
    for part in (
        _hh(root, drift),
        _requests(root, drift),
        _ethics(root, drift),
        _davidson(root),
        _benign_requests(),
        _truthfulqa(root),
        _passages(root),
    ):
        examples.extend(part)
    if drift:
        log.warning(
            "%d labelled rows no longer match their text and were left out (e.g. %s)", len(drift), ", ".join(drift[:3])
        )
    for ex in examples:
        ex.split = split_of(ex.group)
    return examples
