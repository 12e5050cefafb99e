"""Dataset cards: written by raise and curriculum, valid hub metadata, and `datasets.load_dataset(DIR)`
gives back every record (id, text, metadata) of a JSONL or Parquet directory as it is; licences are
only ever what the user gave; `raise --exclude-flagged` leaves flagged documents out."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from modelraising.cards import CardError, check_card, read_front_matter, refresh_card, write_card
from modelraising.records import read_records
from modelraising.view.review import append_flag

PILLARS = "perspective,experience,social"  # no value detector: fast


def _cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "modelraising", "-q", *args], capture_output=True, text=True, env=env, timeout=300
    )


def _records(directory: Path) -> list[dict]:
    out = []
    for path in sorted(directory.glob("*-*.jsonl")):
        if path.name.startswith(("raised-", "ordered-")):
            out += [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    for path in sorted(directory.glob("*-*.parquet")):
        out += list(read_records(path))
    return out


def _load(directory: Path, cache: Path):
    import datasets

    datasets.disable_progress_bars()
    return datasets.load_dataset(str(directory), split="train", cache_dir=str(cache))


@pytest.fixture(scope="module")
def raised(tmp_path_factory, starter):
    """The starter corpus raised as JSONL and as Parquet (the local executor, two workers)."""
    root = tmp_path_factory.mktemp("cards")
    out = {}
    for fmt in ("jsonl", "parquet"):
        out[fmt] = root / f"raised-{fmt}"
        result = _cli(
            "raise",
            "--source",
            str(starter),
            "--out",
            str(out[fmt]),
            "--pillars",
            PILLARS,
            "--output-format",
            fmt,
            "--workers",
            "2",
            "--chunk-size",
            "6",
            "--license",
            "fables.jsonl=cc-by-4.0",
            "--license",
            "facts.txt=public domain",
        )
        assert result.returncode == 0, result.stderr[-3000:]
    return out


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_load_dataset_returns_every_record(raised, fmt, tmp_path):
    directory = raised[fmt]
    assert sorted(directory.glob(f"raised-*.{fmt}")) and not list(
        directory.glob(f"raised-*.{'parquet' if fmt == 'jsonl' else 'jsonl'}")
    )
    expected = _records(directory)
    ds = _load(directory, tmp_path / "hf-cache")
    assert len(ds) == len(expected) > 10
    assert ds.column_names == ["id", "text", "metadata"]
    for row, record in zip(ds, expected):
        assert (row["id"], row["text"], row["metadata"]) == (record["id"], record["text"], record["metadata"])
    assert isinstance(ds[0]["metadata"]["pillars"], list)


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_card_front_matter_is_valid_hub_metadata(raised, fmt):
    from huggingface_hub import DatasetCard, DatasetCardData

    path = raised[fmt] / "README.md"
    assert check_card(path) == []
    card = DatasetCard.load(path)
    assert isinstance(card.data, DatasetCardData)
    data = card.data.to_dict()
    assert data["configs"] == [
        {"config_name": "default", "data_files": [{"split": "train", "path": f"raised-*.{fmt}"}]}
    ]
    assert data["size_categories"] == ["n<1K"] and data["task_categories"] == ["text-generation"]
    # cc-by-4.0 given, "public domain" (no hub id: listed as given, so "other"), the rest unknown: never guessed
    assert data["license"] == ["cc-by-4.0", "other", "unknown"]
    licences = {Path(s["path"]).name: s["license"] for s in data["modelraising"]["sources"]}
    assert licences == {
        "dialogue.txt": "unknown",
        "fables.jsonl": "cc-by-4.0",
        "facts.txt": "public domain",
        "history.csv": "unknown",
        "stories.txt": "unknown",
    }
    body = card.text
    for section in (
        "## Charter",
        "## Sources",
        "## Pillars and mix",
        "## Engine",
        "## Counts",
        "## Audit",
        "## How it was made",
    ):
        assert section in body
    assert "| honesty | Honesty |" in body and "Template engine" in body


def test_check_card_finds_what_the_hub_would_reject(raised, tmp_path):
    directory = tmp_path / "bad"
    directory.mkdir()
    for f in raised["jsonl"].glob("raised-*.jsonl"):
        (directory / f.name).write_bytes(f.read_bytes())
    text = (raised["jsonl"] / "README.md").read_text()
    (directory / "README.md").write_text(text.replace("- cc-by-4.0\n", "- CC BY 4.0\n").replace("n<1K", "tiny"))
    problems = check_card(directory / "README.md")
    assert any("'CC BY 4.0' is not a hub licence" in p for p in problems)
    assert any("size_categories 'tiny'" in p for p in problems)


def test_licences_are_kept_and_a_foreign_readme_is_left_alone(raised, tmp_path):
    directory = tmp_path / "copy"
    directory.mkdir()
    for f in raised["jsonl"].iterdir():
        if f.is_file():
            (directory / f.name).write_bytes(f.read_bytes())
    refresh_card(directory)  # a later run: no licence given this time
    sources = read_front_matter(directory / "README.md")["modelraising"]["sources"]
    assert {Path(s["path"]).name: s["license"] for s in sources}["fables.jsonl"] == "cc-by-4.0"
    write_card(directory, licenses={"stories.txt": "mit"})
    data = read_front_matter(directory / "README.md")
    assert "mit" in data["license"] and "cc-by-4.0" in data["license"]
    (directory / "README.md").write_text("# my own card\n")
    with pytest.raises(CardError, match="not written by modelraising"):
        write_card(directory)
    assert refresh_card(directory) is None and (directory / "README.md").read_text() == "# my own card\n"


def test_audit_adds_its_summary_to_the_card(raised, tmp_path):
    directory = tmp_path / "audited"
    directory.mkdir()
    for f in raised["parquet"].iterdir():
        if f.is_file():
            (directory / f.name).write_bytes(f.read_bytes())
    assert "Not audited yet" in (directory / "README.md").read_text()
    result = _cli("audit", str(directory))
    assert result.returncode == 0, result.stderr[-3000:]
    card = (directory / "README.md").read_text()
    records = json.loads((directory / "audit.json").read_text())["records"]
    assert "Not audited yet" not in card and f"| records | {records} |" in card
    assert check_card(directory / "README.md") == []


def test_ordered_parquet_card_loads_in_curriculum_order(raised, tmp_path, charter_path):
    from modelraising.curriculum.config import CurriculumConfig
    from modelraising.curriculum.step import run_curriculum

    out = tmp_path / "ordered"
    run_curriculum(raised["parquet"], charter_path, out, CurriculumConfig(format="parquet", review=0.0), progress=False)
    assert check_card(out / "README.md") == []
    front = read_front_matter(out / "README.md")
    assert front["configs"][0]["data_files"][0]["path"] == "ordered-*.parquet"
    assert {Path(s["path"]).name: s["license"] for s in front["modelraising"]["sources"]}["fables.jsonl"] == "cc-by-4.0"
    ds = _load(out, tmp_path / "hf-cache")
    expected = _records(out)
    assert len(ds) == len(expected) and [r["id"] for r in ds] == [r["id"] for r in expected]
    assert [r["metadata"]["position"] for r in ds] == list(range(len(ds)))
    assert ds[0]["features"]["chars"] == expected[0]["metadata"]["features"]["chars"]
    assert "## Curriculum" in (out / "README.md").read_text()


def test_raise_exclude_flagged_leaves_flagged_documents_out(raised, tmp_path, starter):
    reviewed = raised["jsonl"]
    records = _records(reviewed)
    flagged = records[:2]
    for i, record in enumerate(flagged):
        append_flag(
            reviewed,
            {"id": record["id"], "source_id": record["metadata"]["source_id"], "label": ("bad_frame", "artifact")[i]},
        )
    out = tmp_path / "again"
    result = _cli(
        "raise", "--source", str(starter), "--out", str(out), "--pillars", PILLARS, "--exclude-flagged", str(reviewed)
    )
    assert result.returncode == 0, result.stderr[-3000:]
    kept = {r["id"] for r in _records(out)}
    assert kept == {r["id"] for r in records[2:]}
    rejects = [json.loads(line) for line in (out / "rejects.jsonl").read_text().splitlines()]
    assert {(r["id"], r["reason"]) for r in rejects} == {
        (flagged[0]["id"], "review flag: bad_frame"),
        (flagged[1]["id"], "review flag: artifact"),
    }
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["review_exclusion"]["documents"] == 2 and manifest["rejects_by_reason"]["review flag"] == 2
    assert "2 source documents were left out" in (out / "README.md").read_text()
    missing = _cli("raise", "--source", str(starter), "--out", str(tmp_path / "x"), "--exclude-flagged", str(tmp_path))
    assert missing.returncode == 2 and "no review.jsonl" in missing.stderr
