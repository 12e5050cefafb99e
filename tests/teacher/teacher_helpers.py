"""Helpers of the teacher tests: small corpora, configs against the scripted server, output readers."""

from __future__ import annotations

import json
from pathlib import Path

from modelraising.raising.config import RaiseConfig
from modelraising.raising.step import raise_corpus
from modelraising.sources import SourceSpec
from modelraising.teacher.server import ScriptedServer

FORM_PILLARS = ["perspective", "experience", "social"]  # no values pillar: no MiniLM, fast

PLACES = ["Ashford", "Brightwater", "Calder Vale", "Dunmore", "Eastbrook", "Fairhaven"]
PEOPLE = ["Ada Moreno", "Ben Okafor", "Clara Jensen", "David Lindqvist"]


def factual(i: int) -> str:
    place, person = PLACES[i % len(PLACES)], PEOPLE[i % len(PEOPLE)]
    return (
        f"The bridge at {place} was built in {1800 + i} and is {20 + i % 30} metres long. "
        f"Record {i} says that {person} painted it {2 + i % 5} times. It carries about {100 + i} carts a day."
    )


def story(i: int) -> str:
    return (
        f"Once upon a time a small fox named Pip{i} lived at the edge of a wood. "
        f"Every morning the fox went down to the stream to drink. One day the fox found a lost shoe."
    )


def write_corpus(path: Path, n: int) -> list[str]:
    """``n`` documents (two factual to one story) as JSONL; returns their texts in order."""
    texts = [story(i) if i % 3 == 2 else factual(i) for i in range(n)]
    with open(path, "w", encoding="utf-8") as f:
        for i, text in enumerate(texts):
            f.write(json.dumps({"text": text, "genre": "fiction" if i % 3 == 2 else "factual"}) + "\n")
    return texts


def teacher_config(server: ScriptedServer, cache: Path, *, pillars=None, **teacher) -> RaiseConfig:
    """A teacher run config against ``server``: short timeouts and backoffs, so faults cost milliseconds."""
    extra = {k: teacher.pop(k) for k in ("chunk_size", "seed", "limit", "policy", "mix") if k in teacher}
    return RaiseConfig(
        engine="teacher",
        pillars=pillars or FORM_PILLARS,
        **extra,
        teacher={
            "url": server.url,
            "model": "scripted",
            "cache": str(cache),
            "concurrency": 8,
            "timeout": 5,
            "max_tries": 4,
            "backoff_base": 0.01,
            "backoff_max": 0.2,
            **teacher,
        },
    )


def run_teacher(out: Path, sources: list[Path], charter_path: Path, config: RaiseConfig, **kwargs) -> dict:
    specs = [SourceSpec(path=str(s)) for s in sources]
    return raise_corpus(charter_path, specs, out, config, progress=False, **kwargs)


def records(out: Path) -> list[dict]:
    return [json.loads(line) for p in sorted(out.glob("raised-*.jsonl")) for line in p.read_text().splitlines()]


def rejects(out: Path) -> list[dict]:
    path = out / "rejects.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def outputs(out: Path) -> dict[str, bytes]:
    files = sorted(out.glob("raised-*.jsonl")) + [out / "rejects.jsonl"]
    return {p.name: p.read_bytes() for p in files}
