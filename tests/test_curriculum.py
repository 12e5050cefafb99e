"""The curriculum step: features on known texts, the absolute scale, the four orders, spaced review,
outputs, rejects, resume and worker independence, the reference-model feature and the CLI."""

from __future__ import annotations

import json
import math
import random
import re
from pathlib import Path

import numpy as np
import pytest

from modelraising.charter import default_charter_path, load_charter
from modelraising.curriculum import CurriculumConfig, CurriculumError, document_features, run_curriculum
from modelraising.curriculum.config import DEFAULT_RANGES
from modelraising.curriculum.difficulty import combine
from modelraising.curriculum.features import FEATURES
from modelraising.curriculum.order import order_documents, review_count
from modelraising.document import Document

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
CHARTER = default_charter_path()

# Word pools from very common to rare, so that generated documents spread over every stage.
POOLS = [
    "the a cat dog sun mom dad ball red big run play see is was and it I we like happy good day".split(),
    "garden village morning careful remember friend river window quiet slowly travel answer learn".split(),
    "journey ancient merchant harbour distant reluctant gathered knowledge curious whispered".split(),
    "consequently substantial municipal hypothesis considerable administrative provincial".split(),
    "notwithstanding jurisprudential epistemological heterogeneous indemnification phenomenological"
    " aforementioned stipulated lexicographical thermodynamic".split(),
]


def synthetic_text(rng: random.Random, level: int) -> str:
    """A document whose sentence length and vocabulary grow with ``level`` (0 easy .. 9 hard)."""
    sentences = []
    for _ in range(rng.randint(4, 8)):
        n = rng.randint(4 + level, 6 + 2 * level)
        words = [rng.choice(POOLS[min(4, int(rng.random() * (1 + level / 3.5)))]) for _ in range(n)]
        sentences.append(" ".join(words).capitalize() + ".")
    text = " ".join(sentences)
    if level <= 2 and rng.random() < 0.5:
        text += "\n<|self|> Wren: I like the red ball.\n<|mentor|> Grandpa Elias: I see it, and I like it too."
    return text


def synthetic_docs(n: int, seed: int = 0) -> list[Document]:
    rng = random.Random(seed)
    docs = []
    for i in range(n):
        text = synthetic_text(rng, i % 10)
        docs.append(
            Document(
                text=text,
                id=f"synthetic-{i:05d}",
                metadata={"source_id": f"synthetic-{i:05d}", "genre": "fiction", "level": i % 10},
            )
        )
    return docs


def write_raised(root: Path, docs: list[Document], per_file: int = 200, extra_lines: list[str] | None = None) -> Path:
    """A raised directory as `modelraising raise` writes it (raised-XXXXX.jsonl, JSONL records)."""
    root.mkdir(parents=True, exist_ok=True)
    lines = [d.to_json() for d in docs]
    for i in range(0, len(lines), per_file):
        chunk = lines[i : i + per_file]
        if i == 0 and extra_lines:
            chunk = chunk[:3] + extra_lines + chunk[3:]
        (root / f"raised-{i // per_file:05d}.jsonl").write_text("\n".join(chunk) + "\n", encoding="utf-8")
    return root


def records(out: Path) -> list[dict]:
    return [json.loads(line) for p in sorted(out.glob("ordered-*.jsonl")) for line in p.read_text().splitlines()]


def run(raised: Path, out: Path, **config) -> dict:
    return run_curriculum(raised, CHARTER, out, CurriculumConfig(**config), progress=False)


@pytest.fixture(scope="module")
def raised(tmp_path_factory) -> Path:
    return write_raised(tmp_path_factory.mktemp("raised"), synthetic_docs(600))


@pytest.fixture(scope="module")
def scaffold(raised, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("scaffold")
    run(raised, out, order="scaffold", review=0.1, seed=1, records_per_file=200, chunk_size=256)
    return out


# ------------------------------------------------------------------------------------------ features


def _tinystories(n: int = 20) -> list[str]:
    stories = (SHARED / "corpus" / "tinystories_sample.txt").read_text(encoding="utf-8").split("<|endoftext|>")
    return [s.strip() for s in stories if len(s.strip()) > 400][:n]


def _wikitext_paragraph() -> str:
    text = (SHARED / "corpus" / "wikitext2_valid.txt").read_text(encoding="utf-8")
    paragraphs = [p.strip() for p in text.splitlines() if len(p.strip()) > 800 and not p.strip().startswith("=")]
    return paragraphs[0].replace(" @-@ ", "-").replace(" @,@ ", ",").replace(" @.@ ", ".")


def _gutenberg_licence() -> str:
    text = (SHARED / "corpus" / "moby_dick.txt").read_text(encoding="utf-8")
    licence = text[text.index("START: FULL LICENSE") :]
    return next(p for p in re.split(r"\n\s*\n", licence) if len(p) > 600)


@pytest.fixture(scope="module")
def known_texts() -> dict[str, str]:
    if not (SHARED / "corpus").is_dir():
        pytest.skip(f"shared corpus not found at {SHARED / 'corpus'} (the project's ../shared/data)")
    stories = _tinystories()
    return {"story": stories[0], "stories": stories, "wiki": _wikitext_paragraph(), "legal": _gutenberg_licence()}


def _difficulty(text: str) -> float:
    config = CurriculumConfig()
    feats = document_features(text)
    row = np.array([[feats[n] for n in FEATURES]])
    return float(combine(row, FEATURES, config.effective_weights(), config.effective_ranges())[0])


def test_childrens_story_is_easier_than_wikipedia_and_legal_text(known_texts):
    story, wiki, legal = (document_features(known_texts[k]) for k in ("story", "wiki", "legal"))
    for hard in (wiki, legal):
        assert story["fk_grade"] < hard["fk_grade"] - 3
        assert story["cl_grade"] < hard["cl_grade"] - 2
        assert story["sentence_words"] < hard["sentence_words"] - 5
    charter = load_charter(CHARTER)
    d_stories = [_difficulty(s) for s in known_texts["stories"]]
    d_wiki, d_legal = _difficulty(known_texts["wiki"]), _difficulty(known_texts["legal"])
    assert max(d_stories) < min(d_wiki, d_legal) and float(np.median(d_stories)) < 0.4
    assert min(d_wiki, d_legal) > 0.6, (d_wiki, d_legal)
    stage = [charter.stages.index(charter.stage_for(d)) for d in d_stories]
    assert sum(s <= 1 for s in stage) >= 0.8 * len(stage)  # TinyStories: mostly the first two stages
    assert charter.stages.index(charter.stage_for(d_legal)) >= 3


def test_features_ignore_tags_and_see_dialogue():
    dialogue = "<|self|> Wren: I like the red ball.\n<|mentor|> Grandpa Elias: I like it too, Wren."
    plain = "I walked to the river. It was a long walk, and the water was very cold that day."
    fd, fp = document_features(dialogue), document_features(plain)
    assert fd["dialogue_share"] > 0.4 and fp["dialogue_share"] == 0.0
    tagged = document_features("<|value:honesty|>I told the truth.<|/value|>")
    assert tagged["rarity_mean"] == pytest.approx(document_features("I told the truth.")["rarity_mean"])
    assert set(fd) == set(FEATURES) and all(math.isfinite(v) for v in fd.values())


def test_a_simple_frame_does_not_dilute_a_hard_passage():
    hard = synthetic_text(random.Random(1), 9)
    frame = [
        "I was looking something up for school.",
        "It was a sunny day and I was happy.",
        "I read it again.",
        "Then I went home and had tea with Mama.",
        "I liked it a lot.",
    ]
    framed = "\n\n".join(frame[:2] + [hard] + frame[2:])
    alone, wrapped = document_features(hard), document_features(framed)
    assert abs(wrapped["fk_grade"] - alone["fk_grade"]) < 1.0
    assert abs(wrapped["sentence_words"] - alone["sentence_words"]) < 1.0
    assert abs(_difficulty(framed) - _difficulty(hard)) < 0.1


def test_difficulty_scale_is_absolute_not_relative():
    """The same document gets the same difficulty whatever else is in the corpus."""
    config = CurriculumConfig()
    docs = synthetic_docs(10)
    rows = np.array([[document_features(d.text)[n] for n in FEATURES] for d in docs])
    args = (FEATURES, config.effective_weights(), config.effective_ranges())
    alone = combine(rows[:1], *args)
    assert combine(rows, *args)[0] == alone[0]
    assert combine(rows[[0, 4]], *args)[0] == alone[0]
    assert ((combine(rows, *args) >= 0) & (combine(rows, *args) <= 1)).all()
    assert DEFAULT_RANGES["dialogue_share"].lo > DEFAULT_RANGES["dialogue_share"].hi  # dialogue reads easier


# ------------------------------------------------------------------------------------------- orders


def test_scaffold_goes_stage_by_stage_easy_to_hard(scaffold):
    recs = records(scaffold)
    charter = load_charter(CHARTER)
    meta = [r["metadata"] for r in recs]
    assert [m["position"] for m in meta] == list(range(len(recs)))
    stages = [m["stage_index"] for m in meta]
    assert stages == sorted(stages) and len(set(stages)) >= 4
    for m in meta:
        assert 0.0 <= m["difficulty"] <= 1.0 and set(m["features"]) == set(FEATURES)
        assert m["stage"] == charter.stages[m["stage_index"]].name
        if not m["review"]:
            assert charter.stage_for(m["difficulty"]).name == m["stage"]
    for s in set(stages):
        own = [m["difficulty"] for m in meta if m["stage_index"] == s and not m["review"]]
        assert own == sorted(own)
    assert sorted(r["id"] for r in recs if not r["metadata"]["review"]) == [f"synthetic-{i:05d}" for i in range(600)]
    assert meta[0]["genre"] == "fiction" and "source_id" in meta[0]  # raised metadata kept


def test_review_share_and_spread(scaffold):
    recs = records(scaffold)
    meta = [r["metadata"] for r in recs]
    first_stage = meta[0]["stage_index"]
    later = sorted({m["stage_index"] for m in meta} - {first_stage})
    sizable = [s for s in later if sum(m["stage_index"] == s for m in meta) >= 50]
    assert len(sizable) >= 3  # rounding to whole documents allows 1 point only from 50 positions on
    for s in later:
        block = [i for i, m in enumerate(meta) if m["stage_index"] == s]
        review = [i for i in block if meta[i]["review"]]
        assert len(review) == review_count(len(block) - len(review), 0.1)
        if s not in sizable:
            continue
        assert abs(len(review) / len(block) - 0.1) <= 0.01, (s, len(review), len(block))
        gaps = np.diff([block[0] - 1, *review, block[-1] + 1])
        assert gaps.max() <= 2 * len(block) / len(review) + 1  # evenly spread, not bunched
        for i in review:
            origin = meta[i]["review_of_stage"]
            own_stage = next(m["stage_index"] for m in meta if m["stage"] == origin)
            assert own_stage < s
            assert meta[i]["difficulty"] <= load_charter(CHARTER).stages[own_stage].ceiling
    assert not any(m["review"] for m in meta if m["stage_index"] == first_stage)
    curriculum = json.loads((scaffold / "curriculum.json").read_text())
    assert curriculum["counts"]["review"] == sum(m["review"] for m in meta) > 0


def test_same_seed_same_bytes(raised, scaffold, tmp_path):
    again = tmp_path / "again"
    run(raised, again, order="scaffold", review=0.1, seed=1, records_per_file=200, chunk_size=256)
    names = sorted(p.name for p in scaffold.glob("ordered-*.jsonl"))
    assert names and names == sorted(p.name for p in again.glob("ordered-*.jsonl"))
    for name in [*names, "curriculum.json", "rejects.jsonl"]:
        assert (again / name).read_bytes() == (scaffold / name).read_bytes(), name


def test_shuffle_reverse_and_stage_shuffle(raised, scaffold, tmp_path):
    base = [r["id"] for r in records(scaffold) if not r["metadata"]["review"]]
    outs = {}
    for order, seed in (("shuffle", 0), ("shuffle", 1), ("reverse", 0), ("stage-shuffle", 0)):
        out = tmp_path / f"{order}-{seed}"
        manifest = run(raised, out, order=order, seed=seed)
        assert manifest["config"]["review"] == 0.0
        outs[order, seed] = records(out)
    shuffled = [r["id"] for r in outs["shuffle", 0]]
    assert sorted(shuffled) == sorted(base) and shuffled != base
    assert shuffled != [r["id"] for r in outs["shuffle", 1]]
    reverse = [r["metadata"]["difficulty"] for r in outs["reverse", 0]]
    assert reverse == sorted(reverse, reverse=True) and reverse[0] > reverse[-1]
    assert [r["metadata"]["stage_index"] for r in outs["reverse", 0]] == sorted(
        [r["metadata"]["stage_index"] for r in outs["reverse", 0]], reverse=True
    )
    staged = outs["stage-shuffle", 0]
    stages = [r["metadata"]["stage_index"] for r in staged]
    assert stages == sorted(stages)
    assert [r["id"] for r in staged] != base  # shuffled within the stages
    for s in set(stages):
        assert {r["id"] for r in staged if r["metadata"]["stage_index"] == s} == {
            r["id"] for r in records(scaffold) if r["metadata"]["stage_index"] == s and not r["metadata"]["review"]
        }


def test_order_functions_on_arrays():
    rng = np.random.default_rng(0)
    difficulty = np.round(rng.random(3000), 3)  # many ties: the id hash must break them
    stage = np.minimum((difficulty / 0.2).astype(int), 4).astype(np.int16)
    tiebreak = rng.integers(0, 2**63, 3000).astype(np.uint64)
    seq = order_documents("scaffold", difficulty, stage, tiebreak, seed=3, review=0.2)
    assert (np.diff(seq.block) >= 0).all()
    for s in range(1, 5):
        in_block = seq.block == s
        assert abs(seq.review[in_block].mean() - 0.2) <= 0.01
    again = order_documents("scaffold", difficulty, stage, tiebreak, seed=3, review=0.2)
    assert (again.doc == seq.doc).all() and (again.review == seq.review).all()
    assert review_count(90, 0.1) == 10


def test_outputs_boundaries_plot_and_manifest(scaffold, raised):
    curriculum = json.loads((scaffold / "curriculum.json").read_text())
    recs = records(scaffold)
    assert curriculum["counts"]["positions"] == len(recs)
    assert curriculum["config"]["order"] == "scaffold" and curriculum["config"]["weights"]["readability"] > 0
    for s in curriculum["stages"]:
        block = [r for r in recs if r["metadata"]["stage_index"] == s["index"]]
        if not block:
            assert s["positions"] == 0
            continue
        assert (s["start"], s["end"]) == (block[0]["metadata"]["position"], block[-1]["metadata"]["position"] + 1)
        assert s["documents"] == sum(not r["metadata"]["review"] for r in block)
        assert s["tokens_estimate"] == sum(len(r["text"]) for r in block) // 4
    png = (scaffold / "difficulty.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    manifest = json.loads((scaffold / "manifest.json").read_text())
    assert manifest["step"] == "curriculum" and manifest["counts"]["documents"] == 600
    assert [Path(i["path"]).name for i in manifest["inputs"]] == sorted(p.name for p in raised.glob("raised-*.jsonl"))
    assert all(len(i["sha256"]) == 64 for i in manifest["inputs"])
    assert {"modelraising", "textstat", "wordfreq", "syllables"} <= set(manifest["versions"])


# --------------------------------------------------------------------------------- rejects, sizes


def test_corrupt_and_empty_records_go_to_rejects(tmp_path):
    docs = synthetic_docs(20)
    empty = Document(text="   ", id="empty-doc").to_json()
    raised = write_raised(
        tmp_path / "raised", docs, extra_lines=['{"id": "broken", "text": "unterminated', empty, '{"text": "no id"}']
    )
    manifest = run(raised, tmp_path / "out")
    rejects = [json.loads(line) for line in (tmp_path / "out" / "rejects.jsonl").read_text().splitlines()]
    assert len(rejects) == 3 == manifest["counts"]["rejects"]
    reasons = {r["location"]: r["reason"] for r in rejects}
    assert reasons["raised-00000.jsonl:4"].startswith("invalid JSON")
    assert reasons["raised-00000.jsonl:5"] == "empty text"
    assert reasons["raised-00000.jsonl:6"].startswith("not a raised record")
    assert len([r for r in records(tmp_path / "out") if not r["metadata"]["review"]]) == 20


def test_very_long_document(tmp_path):
    rng = random.Random(5)
    long_text = " ".join(synthetic_text(rng, 7) for _ in range(400))
    long_text = (long_text * (200_000 // len(long_text) + 1))[:200_000]
    docs = [Document(text=long_text, id="long"), *synthetic_docs(5)]
    run(write_raised(tmp_path / "raised", docs), tmp_path / "out")
    long_rec = next(r for r in records(tmp_path / "out") if r["id"] == "long")
    assert long_rec["text"] == long_text and long_rec["metadata"]["features"]["chars"] == 200_000
    assert long_rec["metadata"]["stage_index"] >= 2


def test_empty_inputs_are_errors(tmp_path):
    with pytest.raises(CurriculumError, match="not a directory"):
        run(tmp_path / "missing", tmp_path / "out")
    (tmp_path / "empty").mkdir()
    with pytest.raises(CurriculumError, match="no raised"):
        run(tmp_path / "empty", tmp_path / "out")


def test_resume_reuses_scores_and_workers_do_not_change_bytes(tmp_path):
    raised = write_raised(tmp_path / "raised", synthetic_docs(120), per_file=50)
    config = {"order": "scaffold", "review": 0.1, "seed": 1, "records_per_file": 40, "chunk_size": 16}
    run(raised, tmp_path / "w1", **config)
    out = tmp_path / "w2"
    run_curriculum(raised, CHARTER, out, CurriculumConfig(**config), workers=2, progress=False)
    names = sorted(p.name for p in (tmp_path / "w1").glob("ordered-*.jsonl"))
    assert len(names) >= 3
    for name in [*names, "curriculum.json"]:
        assert (out / name).read_bytes() == (tmp_path / "w1" / name).read_bytes(), name
    # a run killed after scoring: outputs gone, scores kept -> same bytes again, without rescoring
    for p in [*out.glob("ordered-*"), out / "curriculum.json"]:
        p.unlink()
    scores = sorted((out / ".state").glob("scores-*.npz"))
    stamps = [p.stat().st_mtime_ns for p in scores]
    run(raised, out, **config)
    assert [p.stat().st_mtime_ns for p in scores] == stamps
    for name in [*names, "curriculum.json"]:
        assert (out / name).read_bytes() == (tmp_path / "w1" / name).read_bytes(), name
    with pytest.raises(CurriculumError, match="different"):
        run(raised, out, order="shuffle")


def test_parquet_output_has_the_same_records(raised, scaffold, tmp_path):
    import pyarrow.parquet as pq

    run(
        raised,
        tmp_path / "pq",
        order="scaffold",
        review=0.1,
        seed=1,
        records_per_file=200,
        chunk_size=256,
        format="parquet",
    )
    table = pq.read_table(sorted((tmp_path / "pq").glob("ordered-*.parquet")))
    assert {"id", "text", "metadata", "position", "stage", "stage_index", "difficulty", "review", "features"} <= set(
        table.column_names
    )
    rows = table.to_pylist()
    recs = records(scaffold)
    assert [r["id"] for r in rows] == [r["id"] for r in recs]
    assert [r["position"] for r in rows] == list(range(len(recs)))
    assert json.loads(rows[5]["metadata"]) == recs[5]["metadata"]
    assert rows[7]["features"] == recs[7]["metadata"]["features"]


# ---------------------------------------------------------------------------------- reference model


@pytest.fixture(scope="module")
def tiny_llama(tmp_path_factory) -> Path:
    """A randomly initialised 2-layer Llama (hidden 32) with a BPE tokenizer trained here."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    from modelraising.shards import train_tokenizer

    path = tmp_path_factory.mktemp("tiny-llama")
    tok = train_tokenizer(iter([d.text for d in synthetic_docs(200)]), 512, ["<|endoftext|>"], 2, 200)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|endoftext|>", pad_token="<|endoftext|>")
    fast.save_pretrained(path)
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=tok.get_vocab_size(),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=4,
        max_position_embeddings=512,
    )
    LlamaForCausalLM(config).save_pretrained(path)
    return path


def test_reference_model_loss_is_a_feature(tiny_llama, tmp_path):
    from modelraising.curriculum.reference import ReferenceScorer

    texts = [d.text for d in synthetic_docs(6)] + ["a"]
    scorer = ReferenceScorer(tiny_llama, max_tokens=64, batch_size=4)
    batched = scorer.score(texts)
    scorer.batch_size = 1
    single = scorer.score(texts)
    assert np.allclose(batched, single, atol=1e-4)  # padding does not leak into the loss
    assert (batched[:6] > 3.0).all() and batched[6] == 0.0  # random model: near log(vocab); 1 token: no loss

    raised = write_raised(tmp_path / "raised", synthetic_docs(12))
    manifest = run(raised, tmp_path / "out", reference_model=str(tiny_llama), reference_max_tokens=64)
    assert manifest["config"]["weights"]["reference"] == 0.5
    meta = records(tmp_path / "out")[0]["metadata"]
    assert meta["features"]["ref_loss"] > 3.0


def test_reference_model_must_load(tmp_path):
    raised = write_raised(tmp_path / "raised", synthetic_docs(3))
    with pytest.raises(CurriculumError, match="reference model"):
        run(raised, tmp_path / "out", reference_model=str(tmp_path / "nope"))


# -------------------------------------------------------------------------------------------- CLI


@pytest.fixture(scope="module")
def cli():
    import typer
    from typer.testing import CliRunner

    from modelraising.cli_curriculum import register

    app = typer.Typer()
    app.callback()(lambda: None)  # a group, so the command is named as on the real CLI
    register(app)
    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args))


def test_cli_orders_and_reports(cli, tmp_path):
    raised = write_raised(tmp_path / "raised", synthetic_docs(25))
    result = cli(
        "curriculum",
        "--raised",
        str(raised),
        "--out",
        str(tmp_path / "out"),
        "--order",
        "reverse",
        "--weights",
        "readability=1,rarity=0",
        "--seed",
        "3",
    )
    assert result.exit_code == 0, result.output
    assert "adulthood" in result.output
    curriculum = json.loads((tmp_path / "out" / "curriculum.json").read_text())
    assert curriculum["config"]["weights"]["rarity"] == 0 and curriculum["config"]["weights"]["readability"] == 1


@pytest.mark.parametrize(
    "args, message",
    [
        (["--raised", "MISSING"], "--raised"),
        (["--raised", "EMPTY"], "no raised-*.jsonl"),
        (["--weights", "readability=1,speed=2"], "unknown weight 'speed'"),
        (["--weights", "readability"], "--weights: 'readability' is not NAME=WEIGHT"),
        (["--order", "shuffle", "--review", "0.2"], "review"),
        (["--weights", "reference=1"], "reference"),
    ],
)
def test_cli_errors_exit_2_with_one_line(cli, tmp_path, args, message):
    raised = write_raised(tmp_path / "raised", synthetic_docs(3))
    (tmp_path / "empty").mkdir()
    paths = {"MISSING": str(tmp_path / "missing"), "EMPTY": str(tmp_path / "empty")}
    args = [paths.get(a, a) for a in args]
    if "--raised" not in args:
        args = ["--raised", str(raised), *args]
    result = cli("curriculum", *args, "--out", str(tmp_path / "out"))
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0], result.output
