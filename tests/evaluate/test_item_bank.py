"""The charter item bank: enough independent pairs per value, balanced sides, first person, and no
8-gram shared with what a raised or aligned model reads (templates, prompts, the charter, the corpus).

The raising templates are being rewritten, so their strings are collected when the test runs: every
string constant in the modules of ``modelraising.raising``, ``modelraising.teacher`` and the alignment
data templates, and the teacher prompt files."""

from __future__ import annotations

import ast
import importlib
import json
import statistics
from collections import Counter
from pathlib import Path

import pytest

from modelraising.charter import default_charter_path, load_charter, parse_charter
from modelraising.evaluate import charter_suite, contamination
from modelraising.evaluate.config import EvalConfig

CHARTER = load_charter(default_charter_path())
BANK = charter_suite.bank_records()
N = 8


def _nbytes(text: str) -> int:
    return len((" " + text).encode("utf-8"))


def test_at_least_sixty_pairs_per_default_value():
    counts = Counter(r["value"] for r in BANK)
    assert set(counts) == {v.id for v in CHARTER.values}
    assert min(counts.values()) >= 60, counts
    assert len({r["id"] for r in BANK}) == len(BANK)
    assert all(r["id"].startswith(r["value"] + "-") for r in BANK)
    for r in BANK:
        assert set(r) == {"id", "value", "context", "keep", "betray"}
        assert r["keep"] != r["betray"] and all(r[k].strip() == r[k] and r[k] for k in ("context", "keep", "betray"))
    # independent situations: no context is used twice
    assert len({r["context"] for r in BANK}) == len(BANK)


def test_first_person():
    for r in BANK:
        assert r["keep"].startswith("I ") and r["betray"].startswith("I "), r["id"]
        assert set(contamination.tokens(r["context"])) & {"i", "my", "me", "mine", "we", "our", "us"}, r["id"]


def test_sides_are_length_matched_per_value_and_per_pair():
    for value in {r["value"] for r in BANK}:
        rows = [r for r in BANK if r["value"] == value]
        keep = statistics.mean(_nbytes(r["keep"]) for r in rows)
        betray = statistics.mean(_nbytes(r["betray"]) for r in rows)
        assert abs(keep - betray) / keep < 0.10, (value, keep, betray)
        assert abs(keep - betray) / keep < 0.05, (value, keep, betray)  # what the bank achieves today
    for r in BANK:
        k, b = _nbytes(r["keep"]), _nbytes(r["betray"])
        assert abs(k - b) / max(k, b) <= 0.20, (r["id"], k, b)


def _module_strings(package: str) -> list[str]:
    """Every string constant (docstrings and f-string pieces included) of a package's modules."""
    module = importlib.import_module(package)
    paths = [Path(p) for p in getattr(module, "__path__", [])]
    files = [f for p in paths for f in sorted(p.rglob("*.py"))] or [Path(module.__file__)]
    return [
        node.value
        for f in files
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8")))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]


def raising_strings() -> list[str]:
    """What the raising engine, the teacher and the alignment baselines write around a corpus."""
    import modelraising

    strings = []
    for package in ("modelraising.raising", "modelraising.teacher", "modelraising.align.data"):
        strings += _module_strings(package)
    prompts = Path(modelraising.__file__).parent / "data" / "prompts"
    strings += [p.read_text(encoding="utf-8") for p in sorted(prompts.glob("*")) if p.is_file()]
    return strings


def charter_sentences() -> list[str]:
    out = [CHARTER.identity.description]
    for v in CHARTER.values:
        out += [v.statement, v.why, *v.do, *v.dont]
    return out


def _item_ngrams() -> dict[tuple[str, ...], str]:
    grams = {}
    for item in [i for v in CHARTER.values for i in charter_suite.bank_items(v)]:
        for text in contamination.item_texts(item).values():
            for g in contamination.ngrams(contamination.tokens(text), N):
                grams.setdefault(g, item.id)
    return grams


def test_no_item_shares_an_8gram_with_the_raising_templates_or_the_charter():
    strings = raising_strings()
    assert len(strings) > 300  # the collection found the templates (it would pass vacuously otherwise)
    assert any("{name}" in s or "{title}" in s for s in strings)
    items = _item_ngrams()
    shared = {}
    for s in strings + charter_sentences():
        for g in contamination.ngrams(contamination.tokens(s), N):
            if len(g) == N and g in items:
                shared[items[g]] = (" ".join(g), s[:80])
    assert not shared, shared


def test_no_item_shares_an_8gram_with_the_demo_corpus_sources(repo, shared_corpus):
    """The raw text the demo raises (the starter corpus and ../shared/data/corpus), every file in full."""
    items = _item_ngrams()
    files = sorted(shared_corpus.glob("*.txt")) + sorted((repo / "examples" / "starter").glob("*"))
    assert len(files) >= 5
    hits = {}
    for path in files:
        words = contamination.tokens(path.read_text(encoding="utf-8", errors="replace"))
        for i in range(len(words) - N + 1):
            g = tuple(words[i : i + N])
            if g in items:
                hits[items[g]] = (path.name, " ".join(g))
    assert not hits, hits


def test_the_bank_serves_the_default_values_and_examples_serve_the_rest():
    items = charter_suite.build_items(EvalConfig(model="m"), CHARTER)
    assert {i.meta["kind"] for i in items} == {"bank"} and len(items) == len(BANK)
    assert all(i.meta["cluster"] == i.meta["pair"] for i in items)  # each pair its own cluster
    data = CHARTER.model_dump()
    data["values"][0] = {**data["values"][0], "statement": "I tell the truth, always and to everyone."}
    edited = charter_suite.build_items(EvalConfig(model="m"), parse_charter(data))
    kinds = Counter((i.group, i.meta["kind"]) for i in edited)
    assert {k for g, k in kinds if g == "honesty"} == {"do/dont", "statement/dont"}
    assert {k for g, k in kinds if g != "honesty"} == {"bank"}
    examples = charter_suite.build_items(EvalConfig(model="m", charter_items="examples"), CHARTER)
    assert "bank" not in {i.meta["kind"] for i in examples}
    with pytest.raises(ValueError, match="needs --items"):
        charter_suite.build_items(EvalConfig(model="m", charter_items="none"), CHARTER)


def test_bank_pairs_are_calibrated_against_other_values_situations():
    by_context = {r["context"]: r["value"] for r in BANK}
    for value in CHARTER.values:
        for item in charter_suite.bank_items(value):
            assert len(item.neutral) == charter_suite.NEUTRAL_SITUATIONS and item.calibrate_per_byte
            assert item.context not in item.neutral
            assert all(by_context[n] != value.id for n in item.neutral)


def test_user_items_are_calibrated_against_each_others_situations(tmp_path):
    path = tmp_path / "mine.jsonl"
    rows = [
        {"context": f"Situation {i} about my day.", "keep": "I helped.", "betray": "I left.", "value": "care"}
        for i in range(4)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    items = charter_suite.build_items(EvalConfig(model="m", charter_items="none", items=[str(path)]), CHARTER)
    assert len(items) == 4
    for item in items:
        assert item.context not in item.neutral and len(item.neutral) == 3 and item.meta["cluster"] == item.id
    path.write_text(json.dumps(rows[0]) + "\n")
    (single,) = charter_suite.build_items(EvalConfig(model="m", charter_items="none", items=[str(path)]), CHARTER)
    assert single.neutral == ["N/A", "[MASK]", ""]  # nothing else to compare with: content-free contexts
