"""The tokenize step: lossless round trip, index consistency, the validation split, the tokenizer files,
reuse of a tokenizer, rejects, very long documents and resume after a real SIGKILL."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from modelraising.shards import (
    ShardIndex,
    TokenizeConfig,
    TokenizeError,
    decode,
    id_fraction,
    iter_documents,
    load_tokenizer,
    token_dtype,
    tokenize_corpus,
)
from modelraising.tags import END_OF_TEXT, SPEAKER_TAGS, static_special_tokens

STAGES = ["early childhood", "childhood", "adolescence", "young adulthood", "adulthood"]
WORDS = (
    "I the a and to of my was we it Wren Grandpa Elias river forest honest careful garden learned why how "
    "because stewardship glacier, photosynthesis; “quoted” naïve café — 42 3.14 東京 🙂"
).split()


def ordered_text(rng: random.Random, i: int) -> str:
    """Raised-looking text: prose, speaker turns, value tags, and bytes a tokenizer must not lose."""
    prose = " ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 60)))
    kind = i % 4
    if kind == 0:
        return f"<|self|> Wren: I wonder why {prose}?\n<|mentor|> Grandpa Elias: Because {prose}."
    if kind == 1:
        return f"Today I read this.\r\n\t{prose}  \n\n<|value:honesty|>I told the truth.<|/value|> {prose}"
    if kind == 2:
        return f" {prose}\n<|harm:deception|>a lie<|/harm|>\n<|peer|> Mia: ok\n"
    return prose


def ordered_records(n: int, seed: int = 0, review_every: int = 0) -> list[dict]:
    """Records as `modelraising curriculum` writes them: stage blocks in order, review copies marked."""
    rng = random.Random(seed)
    records = []
    for i in range(n):
        stage = min(4, i * 5 // n)
        meta = {
            "position": len(records),
            "stage": STAGES[stage],
            "stage_index": stage,
            "difficulty": 0.2 * stage,
            "features": {},
            "review": False,
        }
        records.append({"id": f"doc-{i:05d}", "text": ordered_text(rng, i), "metadata": meta})
        if review_every and i % review_every == review_every - 1 and stage > 0:
            first = records[0]
            records.append(
                {
                    "id": first["id"],
                    "text": first["text"],
                    "metadata": {**meta, "position": len(records), "review": True},
                }
            )
    return records


def write_ordered(root: Path, records: list[dict], per_file: int = 100, raw_lines: list[str] | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps(r, ensure_ascii=False) for r in records]
    if raw_lines:
        lines = lines[:5] + raw_lines + lines[5:]
    for i in range(0, len(lines), per_file):
        (root / f"ordered-{i // per_file:05d}.jsonl").write_text(
            "\n".join(lines[i : i + per_file]) + "\n", encoding="utf-8"
        )
    return root


def tokenize(corpus: Path, out: Path, **kwargs) -> dict:
    tokenizer = kwargs.pop("tokenizer", None)
    config = TokenizeConfig(**{"vocab_size": 600, "shard_tokens": 2048, **kwargs})
    return tokenize_corpus(corpus, out, config, tokenizer=tokenizer, progress=False)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> tuple[Path, list[dict]]:
    records = ordered_records(400, review_every=25)
    return write_ordered(tmp_path_factory.mktemp("ordered"), records), records


@pytest.fixture(scope="module")
def shards(corpus, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("shards")
    tokenize(corpus[0], out, val_fraction=0.05)
    return out


def test_round_trip_gives_back_the_corpus_exactly(shards, corpus):
    texts = {r["id"]: r["text"] for r in corpus[1]}
    tok = load_tokenizer(shards)
    seen = 0
    for split in ("train", "val"):
        for doc_id, ids in iter_documents(shards, split):
            assert decode(tok, ids) == texts[doc_id], doc_id
            assert END_OF_TEXT not in decode(tok, ids)
            seen += 1
    assert seen == len(corpus[1])  # every record, review copies included, is in one of the splits


def test_index_is_consistent_with_the_files(shards, corpus):
    index = ShardIndex.load(shards)
    data = index.data
    assert data["format"] == "modelraising-shards/1" and data["dtype"] == "uint16"
    itemsize = np.dtype(data["dtype"]).itemsize
    sizes = [(shards / s["file"]).stat().st_size // itemsize for s in data["shards"]]
    assert sizes == [s["tokens"] for s in data["shards"]] and len(sizes) > 3
    assert all(n == data["shard_tokens"] for n in sizes[:-1]) and 0 < sizes[-1] <= data["shard_tokens"]
    assert sum(sizes) == data["train_tokens"]
    assert (shards / "val.bin").stat().st_size // itemsize == data["val"]["tokens"] > 0

    stream = np.concatenate([np.fromfile(shards / s["file"], dtype=data["dtype"]) for s in data["shards"]])
    offsets = np.array(data["documents"]["offsets"])
    assert offsets[0] == 0 and (np.diff(offsets) > 1).all()
    eots = np.flatnonzero(stream == data["eot_id"])
    assert (eots == np.append(offsets[1:], data["train_tokens"]) - 1).all()  # one EOT after each document
    assert data["eot_id"] == 0

    stages = data["stages"]
    assert data["stage_blocked"] and [s["index"] for s in stages] == [0, 1, 2, 3, 4]
    assert stages[0]["start"] == 0 and stages[-1]["end"] == data["train_tokens"]
    assert all(a["end"] == b["start"] and a["start"] < a["end"] for a, b in zip(stages, stages[1:]))
    stage_of = dict(zip(offsets.tolist(), data["documents"]["stage_index"]))
    for s in stages:
        assert stage_of[s["start"]] == s["index"]
    assert sum(data["stage_tokens"].values()) == data["train_tokens"]


def test_validation_split_is_by_id_hash(shards, corpus):
    index = ShardIndex.load(shards).data
    val_ids, train_ids = set(index["val"]["ids"]), set(index["documents"]["ids"])
    assert val_ids and not val_ids & train_ids  # review copies follow their original
    all_ids = {r["id"] for r in corpus[1]}
    assert val_ids == {i for i in all_ids if id_fraction(i) < 0.05}
    assert len(index["val"]["ids"]) == index["val"]["documents"]


def test_two_documents_give_one_held_out(tmp_path):
    corpus = write_ordered(tmp_path / "c", ordered_records(2))
    tokenize(corpus, tmp_path / "s", val_fraction=0.001, vocab_size=300)
    data = ShardIndex.load(tmp_path / "s").data
    assert data["val"]["documents"] == 1 and len(data["documents"]["ids"]) == 1


def test_autotokenizer_loads_it_and_keeps_tags_whole(shards):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(shards)
    assert tok.eos_token == tok.bos_token == tok.pad_token == END_OF_TEXT
    assert tok.eos_token_id == ShardIndex.load(shards).eot_id
    text = "<|self|> Wren: I wonder why.\n<|mentor|> Grandpa Elias: <|value:honesty|>Because.<|/value|>"
    ids = tok.encode(text, add_special_tokens=False)
    for tag in [SPEAKER_TAGS["self"], SPEAKER_TAGS["mentor"], "<|value:honesty|>", "<|/value|>"]:
        assert tok.convert_tokens_to_ids(tag) in ids
        assert len(tok.encode(tag, add_special_tokens=False)) == 1
    assert ids[0] == tok.convert_tokens_to_ids("<|self|>")
    assert tok.decode(ids) == text
    specials = set(tok.all_special_tokens)
    assert set(static_special_tokens()) | {"<|value:honesty|>", "<|harm:deception|>"} <= specials


def test_tokenizer_trained_on_a_sample_is_deterministic_and_lossless(corpus, shards, tmp_path, caplog):
    import logging

    with caplog.at_level(logging.INFO, logger="modelraising.shards"):
        tokenize(corpus[0], tmp_path / "a", val_fraction=0.05, tokenizer_docs=40)
    assert "a sample of about 40 documents" in caplog.text
    tokenize(corpus[0], tmp_path / "b", val_fraction=0.05, tokenizer_docs=40)
    sampled = (tmp_path / "a" / "tokenizer.json").read_bytes()
    assert sampled == (tmp_path / "b" / "tokenizer.json").read_bytes()  # the same sample every time
    assert sampled != (shards / "tokenizer.json").read_bytes()  # ... and not all the documents
    texts = {r["id"]: r["text"] for r in corpus[1]}
    tok = load_tokenizer(tmp_path / "a")
    for doc_id, ids in iter_documents(tmp_path / "a"):
        assert decode(tok, ids) == texts[doc_id]


def test_reusing_a_tokenizer_gives_the_same_ids(shards, tmp_path):
    other = write_ordered(tmp_path / "other", ordered_records(60, seed=7))
    manifest = tokenize(other, tmp_path / "reused", tokenizer=shards, val_fraction=0.0)
    assert manifest["tokenizer"]["trained"] is False
    assert (tmp_path / "reused" / "tokenizer.json").read_bytes() == (shards / "tokenizer.json").read_bytes()
    a, b = load_tokenizer(shards), load_tokenizer(tmp_path / "reused")
    text = ordered_text(random.Random(3), 0)
    assert a.encode(text).ids == b.encode(text).ids
    first = json.loads((other / "ordered-00000.jsonl").read_text().splitlines()[0])
    _, ids = next(iter_documents(tmp_path / "reused"))
    assert ids.tolist() == a.encode(first["text"], add_special_tokens=False).ids


def test_empty_corrupt_and_very_long_documents(tmp_path):
    records = ordered_records(30)
    long_text = "".join(ordered_text(random.Random(i), i) + "\n" for i in range(4000))[:200_000]
    records.append({"id": "long", "text": long_text, "metadata": {"stage": "adulthood", "stage_index": 4}})
    raw = [
        '{"id": "broken", "text": "unterminated',
        json.dumps({"id": "empty", "text": ""}),
        json.dumps({"id": "eot", "text": f"one{END_OF_TEXT}two"}),
    ]
    corpus = write_ordered(tmp_path / "c", records, raw_lines=raw)
    manifest = tokenize(corpus, tmp_path / "s", val_fraction=0.0)
    rejects = [json.loads(line) for line in (tmp_path / "s" / "rejects.jsonl").read_text().splitlines()]
    reasons = {r["location"]: r["reason"] for r in rejects}
    assert reasons["ordered-00000.jsonl:6"].startswith("invalid JSON")
    assert reasons["ordered-00000.jsonl:7"] == "empty text"
    assert "document-boundary token" in reasons["ordered-00000.jsonl:8"]
    assert manifest["counts"]["rejects"] == 3 and manifest["counts"]["train_documents"] == 31
    docs = dict(iter_documents(tmp_path / "s"))
    assert decode(tmp_path / "s", docs["long"]) == long_text and len(long_text) == 200_000


def test_dtype_and_errors(tmp_path):
    assert token_dtype(65_536) == np.uint16 and token_dtype(65_537) == np.uint32
    with pytest.raises(TokenizeError, match="not a directory"):
        tokenize(tmp_path / "missing", tmp_path / "s")
    (tmp_path / "empty").mkdir()
    with pytest.raises(TokenizeError, match="no ordered"):
        tokenize(tmp_path / "empty", tmp_path / "s")
    corpus = write_ordered(tmp_path / "c", ordered_records(5))
    with pytest.raises(TokenizeError, match="vocab-size"):
        tokenize(corpus, tmp_path / "s2", vocab_size=100)
    with pytest.raises(TokenizeError, match="no tokenizer.json"):
        tokenize(corpus, tmp_path / "s3", tokenizer=tmp_path / "empty")


def test_shuffled_corpus_has_no_stage_blocks(tmp_path):
    records = ordered_records(40)
    random.Random(0).shuffle(records)
    tokenize(write_ordered(tmp_path / "c", records), tmp_path / "s", val_fraction=0.0, vocab_size=300)
    data = ShardIndex.load(tmp_path / "s").data
    assert data["stages"] == [] and not data["stage_blocked"]
    assert sum(data["stage_tokens"].values()) == data["train_tokens"]


# ------------------------------------------------------------------------------------------- resume

_RUN = """
import sys
from modelraising.shards import TokenizeConfig, tokenize_corpus
tokenize_corpus(sys.argv[1], sys.argv[2], TokenizeConfig(vocab_size=600, shard_tokens=64, val_fraction=0.02,
                batch_docs=16), progress=False)
"""


def _outputs(out: Path) -> dict[str, bytes]:
    names = sorted(p.name for p in out.glob("train-*.bin")) + ["val.bin", "index.json", "tokenizer.json"]
    return {n: (out / n).read_bytes() for n in names}


def test_resume_after_sigkill_gives_identical_shards(tmp_path):
    corpus = write_ordered(tmp_path / "c", ordered_records(300, seed=2, review_every=50), per_file=60)
    clean = tmp_path / "clean"
    tokenize_corpus(
        corpus, clean, TokenizeConfig(vocab_size=600, shard_tokens=64, val_fraction=0.02, batch_docs=16), progress=False
    )
    n_shards = len(list(clean.glob("train-*.bin")))
    assert n_shards > 100, n_shards

    killed = tmp_path / "killed"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    proc = subprocess.Popen([sys.executable, "-c", _RUN, str(corpus), str(killed)], env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if len(list((killed / ".state").glob("shard-*.json"))) >= 20:
            break
        time.sleep(0.02)
    assert proc.poll() is None, "the run finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = len(list((killed / ".state").glob("shard-*.json")))
    assert 20 <= done < n_shards and not (killed / "index.json").exists()

    manifest = tokenize_corpus(
        corpus,
        killed,
        TokenizeConfig(vocab_size=600, shard_tokens=64, val_fraction=0.02, batch_docs=16),
        progress=False,
    )
    assert manifest["run"]["resumed_from_shard"] >= 20
    assert _outputs(killed) == _outputs(clean)


def test_fallback_held_out_document_is_the_same_when_training_or_reusing(tmp_path, monkeypatch):
    import modelraising.shards.corpus as shards_module

    monkeypatch.setattr(shards_module, "SPLIT_HORIZON", 10)
    records = ordered_records(40, seed=4)
    corpus = write_ordered(tmp_path / "c", records)
    tokenize(corpus, tmp_path / "trained", val_fraction=1e-12, vocab_size=300)
    tokenize(corpus, tmp_path / "reused", val_fraction=1e-12, tokenizer=tmp_path / "trained")
    first_ten = [r["id"] for r in records[:10]]
    expected = min(first_ten, key=lambda i: (id_fraction(i), i))
    for out in ("trained", "reused"):
        data = ShardIndex.load(tmp_path / out).data
        assert data["val"]["ids"] == [expected] and expected not in data["documents"]["ids"]
    trained, reused = _outputs(tmp_path / "trained"), _outputs(tmp_path / "reused")
    assert {k: v for k, v in trained.items() if k.endswith(".bin")} == {
        k: v for k, v in reused.items() if k.endswith(".bin")
    }


def test_the_trainer_reads_these_shards(shards):
    data = pytest.importorskip("modelraising.train.data", reason="the trainer package is not present")
    opened = data.open_shards(shards)
    index = ShardIndex.load(shards)
    assert len(opened.train) == index.train_tokens and [s.name for s in opened.stages] == [
        s["name"] for s in index.data["stages"]
    ]
    assert (opened.train.read(0, 50) == index.tokens(0, 50)).all()


def test_parquet_corpus_gives_the_same_shards_as_jsonl(tmp_path):
    from modelraising.curriculum.step import _parquet_bytes
    from modelraising.document import Document

    records = ordered_records(80)
    for r in records:
        r["metadata"]["features"] = {"chars": float(len(r["text"]))}
    write_ordered(tmp_path / "jsonl", records)
    (tmp_path / "parquet").mkdir()
    docs = [Document(text=r["text"], id=r["id"], metadata=r["metadata"]) for r in records]
    (tmp_path / "parquet" / "ordered-00000.parquet").write_bytes(_parquet_bytes(docs, ("chars",)))
    tokenize(tmp_path / "jsonl", tmp_path / "a", vocab_size=300, val_fraction=0.05)
    tokenize(tmp_path / "parquet", tmp_path / "b", vocab_size=300, val_fraction=0.05)
    a, b = _outputs(tmp_path / "a"), _outputs(tmp_path / "b")
    assert {k: v for k, v in a.items() if k != "index.json"} == {k: v for k, v in b.items() if k != "index.json"}
    index_a, index_b = (ShardIndex.load(tmp_path / d).data for d in "ab")
    assert index_a["documents"] == index_b["documents"] and index_a["stages"] == index_b["stages"]
