"""Issue 16: a JSONL corpus whose texts spell ``<|endoftext|>`` raised fine, then tokenize silently dropped
69% of it (exit 0, nothing said under -q). The policy (modelraising.special_text) is applied where text
is first read: the marker is a document boundary, any other special-token spelling is a reject at
raise; and a step that rejects more than 1% of its input warns under -q and says so in its manifest."""

from __future__ import annotations

import json
import subprocess
import sys

from modelraising.curriculum import CurriculumConfig, run_curriculum
from modelraising.raising.config import RaiseConfig
from modelraising.raising.step import raise_corpus
from modelraising.rejects import Reject
from modelraising.shards import TokenizeConfig, iter_documents, tokenize_corpus
from modelraising.sources import SourceSpec, read_sources
from modelraising.special_text import SPECIAL_TOKEN
from modelraising.tags import END_OF_TEXT, static_special_tokens

EOT = END_OF_TEXT


def story(i: int, part: str) -> str:
    return f"Story {i}, {part}: a small fox named Pip{i} walked to the river and counted {i + 3} stones there."


def write_marked_corpus(path, n: int = 30) -> list[str]:
    """Two thirds of the lines concatenate two stories GPT-2 style; returns every story, in order."""
    stories = []
    with open(path, "w", encoding="utf-8") as f:
        for i in range(n):
            if i % 3:
                a, b = story(i, "the first"), story(i, "the second")
                f.write(json.dumps({"text": f"{a}{EOT}{b}{EOT}"}) + "\n")
                stories += [a, b]
            else:
                f.write(json.dumps({"text": story(i, "alone")}) + "\n")
                stories.append(story(i, "alone"))
    return stories


def test_the_marker_splits_documents_and_other_tags_are_rejected(tmp_path):
    (tmp_path / "book.txt").write_text(f"The first tale is here and it ends now.{EOT}The second tale starts inline.\n")
    with open(tmp_path / "rows.jsonl", "w") as f:
        f.write(json.dumps({"text": f"{EOT}A record with a marker in front of it and one behind.{EOT}"}) + "\n")
        f.write(json.dumps({"text": "<|self|> Wren: a raised dialogue fed back in as a source."}) + "\n")
        f.write(json.dumps({"text": "I was <|value:honesty|>honest<|/value|> about the broken vase."}) + "\n")
        f.write(json.dumps({"text": f"Tiny{EOT}A piece long enough to be a document on its own."}) + "\n")
        f.write(json.dumps({"text": "A fine record about a heron.", "title": f"Heron{EOT}<|harm:theft|>"}) + "\n")
    items = list(read_sources([SourceSpec(path=str(tmp_path), min_chars=10)]))
    docs = [i for i in items if not isinstance(i, Reject)]
    rejects = [i for i in items if isinstance(i, Reject)]
    assert [d.text for d in docs] == [
        "The first tale is here and it ends now.",
        "The second tale starts inline.",
        "A record with a marker in front of it and one behind.",
        "A piece long enough to be a document on its own.",
        "A fine record about a heron.",
    ]
    assert docs[-1].metadata["title"] == "Heron"
    assert len({d.id for d in docs}) == len(docs)  # each piece its own content-addressed id
    assert [(r.reason, r.location) for r in rejects] == [
        ("special token in text (<|self|>)", "line 2"),
        ("special token in text (<|value:honesty|>)", "line 3"),
        ("empty or too short", "line 4 part 1"),
    ]
    assert all(not SPECIAL_TOKEN.search(d.text) for d in docs)


def test_the_pattern_knows_every_static_special_token():
    for token in static_special_tokens():
        assert SPECIAL_TOKEN.fullmatch(token), token
    assert SPECIAL_TOKEN.fullmatch("<|value:non_harm|>") and SPECIAL_TOKEN.fullmatch("<|harm:self_harm|>")
    assert not SPECIAL_TOKEN.search("<|user|> and a|b <| endoftext |>")  # not ours: left alone


def test_a_marked_jsonl_corpus_reaches_the_shards_whole(tmp_path, charter_path):
    stories = write_marked_corpus(tmp_path / "corpus.jsonl")
    raised = raise_corpus(
        charter_path,
        [SourceSpec(path=str(tmp_path / "corpus.jsonl"))],
        tmp_path / "raised",
        RaiseConfig(pillars=["perspective"]),
        progress=False,
    )
    assert raised["counts"]["raised"] == len(stories) == 50 and raised["counts"]["rejects"] == 0
    run_curriculum(tmp_path / "raised", charter_path, tmp_path / "ordered", CurriculumConfig(review=0), progress=False)
    manifest = tokenize_corpus(
        tmp_path / "ordered", tmp_path / "shards", TokenizeConfig(vocab_size=400), progress=False
    )
    assert manifest["counts"]["rejects"] == 0  # before: 20 of 30 records dropped here, silently
    assert manifest["rejects_share"] == {"rejected": 0, "input": 50, "share": 0.0, "warn_above": 0.01, "warning": None}
    documents = sum(1 for split in ("train", "val") for _ in iter_documents(tmp_path / "shards", split))
    assert documents == 50


def test_a_step_that_rejects_much_of_its_input_warns_under_quiet(tmp_path, charter_path):
    """Tokenize still rejects a marker that reaches it (e.g. a teacher wrote one): now loudly; so does
    curriculum for its own rejects."""
    write_marked_corpus(tmp_path / "corpus.jsonl", 12)
    raise_corpus(
        charter_path,
        [SourceSpec(path=str(tmp_path / "corpus.jsonl"))],
        tmp_path / "raised",
        RaiseConfig(pillars=["perspective"]),
        progress=False,
    )
    [raised] = (tmp_path / "raised").glob("raised-*.jsonl")
    raised.write_text(raised.read_text() + "{not a record\n")  # and curriculum meets a torn line
    manifest = run_curriculum(
        tmp_path / "raised", charter_path, tmp_path / "ordered", CurriculumConfig(review=0), progress=False
    )
    assert manifest["rejects_share"]["warning"].startswith("curriculum: 1 of 21 input records (4.8%)")
    [ordered] = (tmp_path / "ordered").glob("ordered-*.jsonl")
    lines = ordered.read_text().splitlines()
    for k in (0, 5):  # 2 of 20 records now spell the marker
        record = json.loads(lines[k])
        record["text"] += EOT
        lines[k] = json.dumps(record, ensure_ascii=False)
    ordered.write_text("\n".join(lines) + "\n")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "modelraising",
            "-q",
            "tokenize",
            "--corpus",
            str(tmp_path / "ordered"),
            "--out",
            str(tmp_path / "shards"),
            "--vocab-size",
            "400",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "WARNING" in result.stderr and "tokenize: 2 of 20 input records (10.0%)" in result.stderr
    assert "text contains the document-boundary token <|endoftext|>: 2" in result.stderr
    share = json.loads((tmp_path / "shards" / "manifest.json").read_text())["rejects_share"]
    assert share["rejected"] == 2 and share["input"] == 20 and share["warning"].startswith("tokenize: 2 of 20")
