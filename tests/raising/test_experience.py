"""Experience pillar: a passage becomes the I's memory of being taught it, losing no number or name."""

from __future__ import annotations

import math
import random
import re

import pytest
from passages import LOBSTER

from modelraising.raising.experience import (
    CLOSINGS,
    REACTIONS,
    SCENES,
    STEPS_FIRST,
    STEPS_LAST,
    STEPS_MIDDLE,
    _kit,
    recount,
)
from modelraising.raising.perspective import person
from modelraising.text import is_first_person, named_entities, numbers, split_sentences

PLACEHOLDER = re.compile(r"\{[A-Za-z_]+\}")

EXHIBITION = (
    "The Great Exhibition opened in Hyde Park, London, on 1 May 1851. It was housed in the Crystal Palace, "
    "a building of iron and glass designed by Joseph Paxton. More than 6,000,000 people visited it before "
    "it closed on 15 October, and its profits of about £186,000 founded the Victoria and Albert Museum."
)


def assert_keeps_facts(source: str, out: str) -> None:
    """Every number and named entity of the source, character for character (line breaks too)."""
    for n in numbers(source):
        assert n in out, f"number {n!r} lost"
    for entity in named_entities(source):
        assert entity in out, f"named entity {entity!r} lost"


# ------------------------------------------------------------------------------------------- fidelity


def test_every_number_and_name_of_the_lobster_survives_literally(charter):
    assert set(numbers(LOBSTER)) == {"60", "24", "6", "13"}
    for seed in range(60):
        out = recount(LOBSTER, charter, random.Random(seed)).text
        for item in numbers(LOBSTER) + named_entities(LOBSTER):
            assert item in out, (seed, item)


def test_numbers_with_commas_years_and_currency_survive(charter):
    for seed in range(40):
        assert_keeps_facts(EXHIBITION, recount(EXHIBITION, charter, random.Random(seed)).text)


def test_the_teacher_carries_the_source_sentences(charter):
    out = recount(LOBSTER, charter, random.Random(3)).text
    flat = out.replace("'lobster red'", '"lobster red"')
    for sentence in split_sentences(LOBSTER):
        assert sentence.rstrip(".") in flat  # verbatim, but for a final stop turned into a comma


def test_fable_with_title_line_keeps_title_names_and_quotes(charter, shared_corpus):
    fables = (shared_corpus / "aesop_fables.txt").read_text(encoding="utf-8")
    fable = fables[: fables.index("\n\n")]  # "The Wolf and the Lamb\nA Wolf, meeting ..."
    title = fable.split("\n", 1)[0]
    assert "Lamb\nA Wolf" in named_entities(fable)  # a name the title's line break runs through
    for seed in range(30):
        out = recount(fable, charter, random.Random(seed)).text
        assert f'"{title}"' in out.split("\n\n")[0]  # the title names the lesson in the scene
        assert_keeps_facts(fable, out)
        assert "Sirrah, last year you grossly insulted me.'" in out  # inner quotes nested, closing kept


def test_long_passage_is_taught_in_small_steps(charter, shared_corpus):
    stories = (shared_corpus / "tinystories_sample.txt").read_text(encoding="utf-8")
    text = " ".join(stories.replace("<|endoftext|>", " ").split())[:2000]
    text = text[: text.rindex(".") + 1]
    n = len(split_sentences(text))
    assert n >= 20
    for seed in range(10):
        raised = recount(text, charter, random.Random(seed))
        assert_keeps_facts(text, raised.text)
        paragraphs = raised.text.split("\n\n")
        steps = len(paragraphs) - 2  # scene ... closing
        assert math.ceil(n / 3) <= steps <= n
        assert max(len(p) for p in paragraphs) < 1200
        assert is_first_person(paragraphs[0]) and is_first_person(paragraphs[-1])


def test_plays_and_transcripts_are_taught_speech_by_speech(charter, shared_corpus):
    play = (shared_corpus / "tinyshakespeare.txt").read_text(encoding="utf-8")[:600]
    chat = "Human: What is 2 + 2? Tell me.\n\nAssistant: It is 4. Two and two make four.\n\nHuman: Thanks."
    for seed in range(20):
        out = recount(play, charter, random.Random(seed)).text
        assert "what First Citizen and All say to each other" in out
        assert "First Citizen:\nBefore we proceed any further, hear me speak" in out
        assert_keeps_facts(play, out)
        out = recount(chat, charter, random.Random(seed)).text
        assert "Assistant: It is 4. Two and two make four" in out  # a speech is never cut at its stops
        assert "a conversation someone once had with an assistant" in out
    one_voice = "Human: Hello there.\n\nHuman: Anyone?"
    assert "Human: Anyone?" in recount(one_voice, charter, random.Random(0)).text


# ---------------------------------------------------------------------------------- voice and variety


def test_template_inventory_meets_the_minimums():
    assert len(SCENES) >= 8
    assert len(STEPS_MIDDLE) >= 6 and len(STEPS_FIRST) >= 6 and len(STEPS_LAST) >= 6
    assert len(REACTIONS) >= 6
    assert len(CLOSINGS) >= 6


def test_at_least_eight_scenes_for_every_teacher(charter):
    for member in charter.cast_with_role("mentor", "teacher", "family"):
        assert len(_kit(person(member).key).scenes) >= 8, member.name


def test_scenes_teachers_and_closings_vary_with_the_seed(charter):
    results = [recount(LOBSTER, charter, random.Random(seed)) for seed in range(150)]
    assert len({r.template for r in results}) >= 8
    assert {r.meta["teacher"] for r in results} == {"Grandpa Elias", "Mama", "Ms. Okafor", "Lena"}
    endings = {r.text.rsplit("\n\n", 1)[-1].replace("Homarus gammarus", "") for r in results}
    assert len({e.split(",")[0][:25] for e in endings}) >= 6


def test_teacher_comes_from_the_cast_and_appears(charter):
    roles = {c.name: c.role for c in charter.cast}
    for seed in range(40):
        raised = recount(LOBSTER, charter, random.Random(seed))
        assert roles[raised.meta["teacher"]] in ("mentor", "teacher", "family")
        assert raised.meta["teacher"] in raised.text
        assert re.fullmatch(r"experience/scene\d\d", raised.template)


def test_teacher_voice_is_used_sometimes(charter):
    texts = [recount(LOBSTER, charter, random.Random(seed)).text for seed in range(60)]
    voices = [c.voice for c in charter.cast]
    assert any(v in t for t in texts for v in voices)


def test_output_is_first_person_without_placeholders(charter):
    for text in (LOBSTER, EXHIBITION):
        for seed in range(40):
            out = recount(text, charter, random.Random(seed)).text
            assert is_first_person(out)
            assert not PLACEHOLDER.search(out), out


def test_every_template_fills_for_every_cast_member(charter):
    for member in charter.cast:
        kit = _kit(person(member).key)
        strings = [s for _, s in kit.scenes] + list(kit.voices) + list(kit.reactions) + list(kit.closings)
        strings += [t for steps in (kit.first, kit.middle, kit.last) for pair in steps for t in pair]
        for s in strings:
            assert set(PLACEHOLDER.findall(s)) <= {"{q}", "{qc}", "{topic}", "{entity}", "{number}"}, s


# ------------------------------------------------------------------------------- determinism, edges


def test_deterministic_for_a_seed_and_varied_across_seeds(charter):
    assert recount(LOBSTER, charter, random.Random(11)) == recount(LOBSTER, charter, random.Random(11))
    assert len({recount(LOBSTER, charter, random.Random(s)).text for s in range(30)}) >= 25


DEGENERATE = ["", "   ", "Lobsters are blue.", "no stop at all", "In 1851 it opened", "Solo:\nJust me.\nSolo: Again."]


@pytest.mark.parametrize("text", DEGENERATE)
def test_degenerate_inputs_still_make_a_memory(text, charter):
    for seed in range(20):
        raised = recount(text, charter, random.Random(seed))
        assert is_first_person(raised.text)
        assert not PLACEHOLDER.search(raised.text)
        assert text.strip().rstrip(".").split("\n")[-1] in raised.text
        assert raised.meta["teacher"]
        if not text.strip():  # no topic to name: the scene says "this", never a placeholder or "None"
            assert re.search(r"\bthis\b", raised.text.split("\n\n")[0]) and "None" not in raised.text


def test_nested_quotes_are_the_translate_table():
    from modelraising.raising.experience import _QUOTE_TABLE, _nest_quotes

    for q in ['He said "no" and \u201cyes\u201d', "'single' \u2018kept\u2019", "none", '""\u201c\u201d"', ""]:
        assert _nest_quotes(q) == q.translate(_QUOTE_TABLE)
