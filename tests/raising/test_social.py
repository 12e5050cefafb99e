"""Social pillar: a passage becomes a tagged conversation the I takes part in, carrying the passage."""

from __future__ import annotations

import random
import re

import pytest
from passages import LOBSTER

from modelraising.raising.base import GENRES
from modelraising.raising.social import SETTINGS, TEMPLATES, dialogue
from modelraising.text import format_turn, is_first_person, parse_turns, split_sentences

PLACEHOLDER = re.compile(r"\{[A-Za-z_]+\}")

EXHIBITION = (
    "The Great Exhibition opened in Hyde Park, London, on 1 May 1851. It was housed in the Crystal Palace, "
    "a building of iron and glass designed by Joseph Paxton. More than 6,000,000 people visited it. "
    "In 1854 the Crystal Palace was rebuilt at Sydenham Hill, where it stood until a fire in 1936."
)
TRANSCRIPT = (
    "\n\nHuman: How do I keep basil alive on a windowsill?\n\nAssistant: Give it at least six hours of sun, "
    "water it when the top of the soil feels dry, and pinch off the flower buds.\n\nHuman: Why the buds?"
    "\n\nAssistant: Once basil flowers, it puts its energy into seeds and the leaves turn bitter."
)


def _norm(text: str) -> str:
    return " ".join(text.split())


def coverage(source: str, out: str) -> float:
    """Share of the source's sentences (by characters) found verbatim inside one turn utterance."""
    utterances = "\n".join(t.text for t in parse_turns(out))
    sentences = [_norm(s) for s in split_sentences(source)]
    total = sum(len(s) for s in sentences)
    return sum(len(s) for s in sentences if s in utterances) / total if total else 1.0


def assert_valid_dialogue(out: str, charter, min_turns: int = 4) -> list:
    turns = parse_turns(out)
    assert len(turns) >= min_turns
    me = charter.identity.name
    assert sum(1 for t in turns if t.role == "self" and t.name == me) >= 2
    lines = out.split("\n")
    # every line is a turn written by format_turn, except an optional first-person narration on top
    narration = [line for line in lines if not line.startswith("<|")]
    assert len(narration) <= 1 and (not narration or lines[0] == narration[0])
    if narration:
        assert is_first_person(narration[0]) or "{name}" not in narration[0]
    for line, turn in zip([x for x in lines if x.startswith("<|")], turns):
        assert line == format_turn(turn.role, turn.name, turn.text)
    return turns


# ------------------------------------------------------------------------------------------- shape


@pytest.mark.parametrize("genre", ["factual", "fiction", "other"])
def test_prose_becomes_a_dialogue_carrying_the_passage(genre, charter):
    for seed in range(60):
        raised = dialogue(LOBSTER, genre, charter, random.Random(seed))
        turns = assert_valid_dialogue(raised.text, charter)
        assert coverage(LOBSTER, raised.text) >= 0.8
        partner = raised.meta["partner"]
        assert {t.name for t in turns} == {charter.identity.name, partner}
        assert not PLACEHOLDER.search(raised.text)


def test_roles_tags_and_meta_agree(charter):
    roles = {c.name: c.role for c in charter.cast}
    for seed in range(80):
        raised = dialogue(EXHIBITION, "factual", charter, random.Random(seed))
        setting, partner = raised.meta["setting"], raised.meta["partner"]
        assert raised.template.startswith(f"social/{setting}/")
        assert re.fullmatch(r"social/(mentor|peers|family)/\d\d", raised.template)
        assert roles[partner] in SETTINGS[setting]
        others = {t.role for t in parse_turns(raised.text) if t.role != "self"}
        assert others == {roles[partner]}


def test_fable_with_quotes_is_carried(charter, shared_corpus):
    fables = (shared_corpus / "aesop_fables.txt").read_text(encoding="utf-8")
    fable = fables[: fables.index("\n\n")]  # with its title line, "The Wolf and the Lamb"
    for seed in range(40):
        raised = dialogue(fable, "fiction", charter, random.Random(seed))
        assert_valid_dialogue(raised.text, charter)
        assert coverage(fable, raised.text) >= 0.8
        first = " ".join(fables[:300].split()).split(" him.")[0]  # title + first sentence, one turn
        assert any(first in t.text for t in parse_turns(raised.text))
    chunk = fables[:1000]  # several fables, titles in the middle
    for seed in range(20):
        assert coverage(chunk, dialogue(chunk, "fiction", charter, random.Random(seed)).text) >= 0.8


def test_title_line_stays_with_its_first_sentence(charter):
    text = "Reception\n\nErik considers the episode his favourite. Nancy ranked it at number two."
    for seed in range(40):
        raised = dialogue(text, "factual", charter, random.Random(seed))
        assert coverage(text, raised.text) == 1.0
        assert "Reception Erik considers the episode his favourite." in raised.text


def test_play_is_read_out_with_its_original_lines(charter, shared_corpus):
    play = (shared_corpus / "tinyshakespeare.txt").read_text(encoding="utf-8")[:600]
    for seed in range(40):
        raised = dialogue(play, "dialogue", charter, random.Random(seed))
        turns = assert_valid_dialogue(raised.text, charter)
        assert coverage(play, raised.text) >= 0.8
        utterances = [t.text for t in turns]
        assert any(u.endswith("First Citizen: Before we proceed any further, hear me speak.") for u in utterances)
        assert any(u == "All: Speak, speak." for u in utterances)


def test_transcript_is_read_by_the_partner(charter):
    for seed in range(30):
        raised = dialogue(TRANSCRIPT, "dialogue", charter, random.Random(seed))
        turns = assert_valid_dialogue(raised.text, charter)
        assert coverage(TRANSCRIPT, raised.text) >= 0.8
        assert not any(t.role == "self" and ("Assistant:" in t.text or "Human:" in t.text) for t in turns)
        assert any(t.role != "self" and t.text.endswith("Human: Why the buds?") for t in turns)


def test_speeches_that_run_on_stay_in_one_turn(charter):
    chat = (
        "Human: any tips for my garden\n\nAssistant: Water early, mulch, etc.\n\nHuman: ok thanks"
        "\n\nAssistant: You are welcome. Good luck!"
    )
    for seed in range(20):
        raised = dialogue(chat, "dialogue", charter, random.Random(seed))
        assert coverage(chat, raised.text) == 1.0
        assert any("Human: any tips for my garden Assistant: Water early" in t.text for t in parse_turns(raised.text))


def test_dialogue_genre_without_speaker_lines_falls_back_to_prose(charter):
    raised = dialogue(LOBSTER, "dialogue", charter, random.Random(2))
    assert_valid_dialogue(raised.text, charter)
    assert coverage(LOBSTER, raised.text) >= 0.8


# ------------------------------------------------------------------------------------------ questions


def test_questions_come_from_the_passage(charter):
    asked = [
        t.text
        for seed in range(150)
        for t in parse_turns(dialogue(EXHIBITION, "factual", charter, random.Random(seed)).text)
        if t.text.endswith("?")
    ]
    assert any(re.search(r"\b18\d\d\b", q) for q in asked)
    assert any("Crystal Palace" in q or "Joseph Paxton" in q for q in asked)


def test_fiction_questions_follow_the_speakers(charter):
    fable = (
        'A Wolf met a Lamb. Then said the Wolf, "You feed in my pasture." "No, good sir," replied the Lamb, '
        '"I have not yet tasted grass." Again said the Wolf, "You drink of my well." "No," exclaimed the '
        'Lamb, "I never yet drank water." The Wolf seized him.'
    )
    asked = {
        t.text
        for seed in range(120)
        for t in parse_turns(dialogue(fable, "fiction", charter, random.Random(seed)).text)
    }
    assert any(re.search(r"what did the (Lamb|Wolf) say", q) for q in asked)


# ---------------------------------------------------------------------------------------- templates


def test_at_least_six_templates_per_setting_all_reachable(charter):
    for setting in SETTINGS:
        assert len(TEMPLATES[setting]) >= 6
    seen = {dialogue(LOBSTER, "factual", charter, random.Random(seed)).template for seed in range(600)}
    expected = {f"social/{s}/{i:02d}" for s, tmpls in TEMPLATES.items() for i in range(len(tmpls))}
    assert seen == expected


def test_every_template_works_in_every_genre(charter):
    for genre in GENRES:
        ids = set()
        for seed in range(300):
            raised = dialogue(EXHIBITION, genre, charter, random.Random(seed))
            ids.add(raised.template)
            assert not PLACEHOLDER.search(raised.text), raised.template
            assert_valid_dialogue(raised.text, charter)
        assert len(ids) >= 18


def test_settings_follow_the_cast(charter):
    only_peers = charter.model_copy(update={"cast": [c for c in charter.cast if c.role == "peer"]})
    for seed in range(30):
        raised = dialogue(LOBSTER, "factual", only_peers, random.Random(seed))
        assert raised.meta == {"setting": "peers", "partner": "Tomas"}


# ------------------------------------------------------------------------------ determinism, edges


def test_deterministic_for_a_seed_and_varied_across_seeds(charter):
    assert dialogue(LOBSTER, "factual", charter, random.Random(5)) == dialogue(
        LOBSTER, "factual", charter, random.Random(5)
    )
    assert len({dialogue(LOBSTER, "factual", charter, random.Random(s)).text for s in range(40)}) >= 30


@pytest.mark.parametrize("text", ["", "  \n ", "Hi.", "Lobsters are blue.", "one line, no stop"])
@pytest.mark.parametrize("genre", GENRES)
def test_degenerate_inputs_still_make_a_dialogue(text, genre, charter):
    for seed in range(10):
        raised = dialogue(text, genre, charter, random.Random(seed))
        assert_valid_dialogue(raised.text, charter)
        assert not PLACEHOLDER.search(raised.text)
        if text.strip():
            assert coverage(text, raised.text) == 1.0


def test_unknown_genre_is_an_error(charter):
    with pytest.raises(ValueError, match="genre"):
        dialogue("x", "poetry", charter, random.Random(0))
