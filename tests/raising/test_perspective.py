"""Perspective pillar: the passage stays verbatim inside a first-person frame, for every genre and form."""

from __future__ import annotations

import random
import re

import pytest

from modelraising.raising.base import FORMS, GENRES
from modelraising.raising.experience import recount
from modelraising.raising.perspective import (
    FRAMES,
    _HEADING_LINE,
    frame,
    frame_counts,
    person,
    sentences,
    split_heading,
    topic_of,
)
from modelraising.raising.social import dialogue
from modelraising.text import is_first_person, split_sentences

PLACEHOLDER = re.compile(r"\{[A-Za-z_]+\}")

LOBSTER = (
    "Homarus gammarus, known as the European lobster or common lobster, is a species of clawed lobster "
    "from the eastern Atlantic Ocean, Mediterranean Sea and parts of the Black Sea. It is closely related "
    "to the American lobster, H. americanus. It may grow to a length of 60 cm (24 in) and a mass of "
    "6 kilograms (13 lb), and bears a conspicuous pair of claws."
)
PASSAGES = {
    "fiction": "The Wolf and the Lamb\nA Wolf, meeting with a Lamb astray from the fold, resolved not to lay "
    'violent hands on him. He thus addressed him: "Sirrah, last year you grossly insulted me."',
    "factual": LOBSTER,
    "dialogue": "First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n",
    "other": "- eggs\n- milk\n- 2 loaves of bread {not a placeholder, part of the source}",
}


def _frame_part(result_text: str, source: str) -> str:
    return result_text.replace(source, "", 1)


# ------------------------------------------------------------------------------------------ counts


def test_frame_counts_meet_the_minimums():
    counts = frame_counts()
    for genre in GENRES:
        assert counts[genre] >= 12, genre
    assert counts["experience"] >= 6
    assert counts["social"] >= 6


def test_frames_are_distinct_and_titled_frames_have_a_fallback():
    for key, frames in FRAMES.items():
        leads = [f.lead for f in frames]
        assert len(set(leads)) == len(leads), key
        for f in frames:
            if f.optional:
                assert f.alt, f"{key}: {f.lead!r} needs a wording without title/topic"
                assert "{title}" not in f.alt and "{topic}" not in f.alt


@pytest.mark.parametrize("genre", GENRES)
def test_every_frame_id_is_reachable(genre, charter):
    seen = {frame("Some text.", genre, charter, random.Random(seed)).template for seed in range(400)}
    assert len(seen) == len(FRAMES[genre]) >= 12
    assert all(re.fullmatch(rf"perspective/{genre}/\d\d", t) for t in seen)


@pytest.mark.parametrize("form", ["experience", "social"])
def test_every_form_frame_id_is_reachable(form, charter):
    seen = {frame("I remember it.", "factual", charter, random.Random(s), form=form).template for s in range(300)}
    assert len(seen) == len(FRAMES[form]) >= 6


# ------------------------------------------------------------------------------- verbatim, first person


@pytest.mark.parametrize("genre", GENRES)
@pytest.mark.parametrize("title", [None, "The Wolf and the Lamb"])
def test_source_is_verbatim_and_frame_is_first_person(genre, title, charter):
    text = PASSAGES[genre]
    for seed in range(60):
        result = frame(text, genre, charter, random.Random(seed), title=title)
        assert text in result.text
        outside = _frame_part(result.text, text)
        assert outside.strip(), result.template
        assert is_first_person(outside), result.template
        assert not PLACEHOLDER.search(outside), outside
        assert "None" not in outside


def test_forms_experience_and_social_keep_their_text(charter):
    for seed in range(40):
        memory = recount(LOBSTER, charter, random.Random(seed)).text
        talk = dialogue(LOBSTER, "factual", charter, random.Random(seed)).text
        for form, inner in (("experience", memory), ("social", talk)):
            result = frame(inner, "factual", charter, random.Random(seed), form=form)
            assert inner in result.text
            assert result.template.startswith(f"perspective/{form}/")
            outside = _frame_part(result.text, inner)
            assert is_first_person(outside)
            assert not PLACEHOLDER.search(result.text)


def test_social_frames_name_the_partner_of_the_dialogue(charter):
    names = set()
    for seed in range(80):
        talk = dialogue(LOBSTER, "factual", charter, random.Random(seed))
        result = frame(talk.text, "factual", charter, random.Random(seed), form="social")
        if "{partner}" in FRAMES["social"][int(result.template[-2:])].lead:
            outside = _frame_part(result.text, talk.text)
            assert talk.meta["partner"] in outside
            names.add(talk.meta["partner"])
    assert len(names) >= 2


def test_corpus_passages_stay_verbatim(charter, shared_corpus):
    fables = (shared_corpus / "aesop_fables.txt").read_text(encoding="utf-8")
    play = (shared_corpus / "tinyshakespeare.txt").read_text(encoding="utf-8")[:600]
    passages = [("fiction", fables[: fables.index("\n\n")]), ("dialogue", play), ("other", fables[2000:2400])]
    for genre, text in passages:
        for seed in range(25):
            result = frame(text, genre, charter, random.Random(seed), title="Aesop's Fables")
            assert text in result.text
            assert is_first_person(_frame_part(result.text, text))


# ------------------------------------------------------------------------------------ titles, topics, cast


def test_title_is_used_when_given_and_never_missing_when_not(charter):
    with_title = [frame("A story.", "fiction", charter, random.Random(s), title="Moby Dick").text for s in range(60)]
    assert sum("Moby Dick" in t for t in with_title) >= 10
    without = [frame("A story.", "fiction", charter, random.Random(s)).text for s in range(60)]
    assert not any("{title}" in t or "None" in t for t in without)


def test_factual_frames_name_the_topic(charter):
    texts = [frame(LOBSTER, "factual", charter, random.Random(s)).text for s in range(80)]
    topical = [t for t in texts if "about Homarus gammarus" in t or "entry on Homarus gammarus" in t]
    assert len(topical) >= 5


def test_cast_is_named_with_relation_and_recorded_in_meta(charter):
    cast_names = {c.name for c in charter.cast}
    named = 0
    for seed in range(120):
        result = frame("Text.", "fiction", charter, random.Random(seed))
        if "cast" in result.meta:
            named += 1
            assert result.meta["cast"] in cast_names
            assert result.meta["cast"] in _frame_part(result.text, "Text.")
    assert named >= 20
    seen = " ".join(frame("Text.", "fiction", charter, random.Random(s)).text for s in range(200))
    assert "my grandfather, Grandpa Elias," in seen or "My grandfather, Grandpa Elias," in seen


def test_person_view_of_the_cast(charter):
    people = {c.name: person(c) for c in charter.cast}
    elias, mama, tomas = people["Grandpa Elias"], people["Mama"], people["Tomas"]
    assert elias.slots["he"] == "he" and elias.slots["cast_"] == "my grandfather, Grandpa Elias,"
    assert mama.slots["his"] == "her" and people["Ms. Okafor"].slots["He"] == "She"
    assert tomas.slots["he"] == "they"  # nothing in "my best friend" says which
    assert people["Lena"].slots["Cast"] == "My older sister, Lena"


def test_topic_of():
    assert topic_of(LOBSTER) == "Homarus gammarus"
    assert topic_of("Homarus gammarus , known as the European lobster") == "Homarus gammarus"
    assert topic_of("The European lobster is a large crustacean.") == "the European lobster"
    assert topic_of("The Wolf and the Lamb\nA Wolf, meeting a Lamb.") == "the Wolf and the Lamb"
    assert topic_of("In 1851, the Great Exhibition opened in London.") == "the Great Exhibition"
    assert topic_of("it is closely related to the lobster.") is None
    assert topic_of("Lobsters are blue. They live in the sea.") is None
    assert topic_of("Lily was a girl. One day Lily found a needle.") == "Lily"
    assert topic_of("") is None


def test_split_heading_only_takes_real_titles():
    assert split_heading("The Wolf and the Lamb\nA Wolf, meeting") == ("The Wolf and the Lamb", "A Wolf, meeting")
    prose = "It was a dark and stormy night, and the rain\nfell in torrents."
    assert split_heading(prose) == (None, prose)
    assert _HEADING_LINE.match("First Citizen:\nBefore we proceed") is None


# --------------------------------------------------------------------------------- determinism, edges


def test_deterministic_for_a_seed_and_varied_across_seeds(charter):
    for genre in GENRES:
        a = frame(LOBSTER, genre, charter, random.Random(7), title="T")
        b = frame(LOBSTER, genre, charter, random.Random(7), title="T")
        assert a == b
        variants = {frame(LOBSTER, genre, charter, random.Random(s), title="T").text for s in range(40)}
        assert len(variants) >= 10


def test_rng_is_the_only_source_of_randomness(charter):
    random.seed(1)
    a = frame(LOBSTER, "factual", charter, random.Random(3))
    random.seed(2)
    b = frame(LOBSTER, "factual", charter, random.Random(3))
    assert a == b


@pytest.mark.parametrize("text", ["", "   ", "\n", "Hi.", "One sentence only", "Ends with newline.\n"])
def test_degenerate_inputs_still_frame(text, charter):
    for form in FORMS:
        for seed in range(15):
            result = frame(text, "other", charter, random.Random(seed), form=form)
            assert text in result.text
            assert is_first_person(result.text)
            assert not PLACEHOLDER.search(result.text)


def test_separators_do_not_pile_up(charter):
    result = frame("Ends with newline.\n", "fiction", charter, random.Random(1))
    assert "\n\n\n" not in result.text


def test_unknown_genre_or_form_is_an_error(charter):
    with pytest.raises(ValueError, match="genre"):
        frame("x", "poetry", charter, random.Random(0))
    with pytest.raises(ValueError, match="form"):
        frame("x", "fiction", charter, random.Random(0), form="song")


# ------------------------------------------------------------------------------ shared sentence helper


def _same_sentences(text: str) -> None:
    reference = split_sentences(text)
    ours = sentences(text)
    assert len(ours) == len(reference)
    for ref, got in zip(reference, ours):
        assert got.startswith(ref)
        assert got[len(ref) :].strip("\"'\u201d\u2019)] \n") == ""  # only the closing quotes come back


def test_sentences_agree_with_split_sentences_on_literals():
    for text in [
        LOBSTER,
        'He said: "Go." "No," she said. Mr. Smith met Dr. Jones at 5 p.m. on St. Helena. The U.S. is big.',
        "e.g. this. i.e. that. Wait... What? Yes! (Really.) [Sure.] A. B. Smith arrived.",
        "",
        "   ",
        "no capitals. after stops.",
    ]:
        _same_sentences(text)
    assert sentences('He thus addressed him: "Sirrah, you insulted me." "Indeed," bleated the Lamb.') == [
        'He thus addressed him: "Sirrah, you insulted me."',
        '"Indeed," bleated the Lamb.',
    ]


def test_sentences_agree_with_split_sentences_on_the_corpus(shared_corpus):
    for name in ("aesop_fables.txt", "tinyshakespeare.txt", "frankenstein.txt", "wikitext2_valid.txt"):
        text = (shared_corpus / name).read_text(encoding="utf-8")[:60000]
        for start in range(0, len(text), 3000):
            _same_sentences(text[start : start + 3000])


# ------------------------------------------------------------------------ pre-filled frames, exactly


def _frame_in_one_pass(text, genre, charter, rng, title=None, form="plain"):
    """What frame() renders, with every slot filled by one format_map (no per-person memo)."""
    from modelraising.raising.perspective import _PARTNER_LINE, _join, clean_title, pick_person

    key = genre if form == "plain" else form
    index = int(rng.random() * len(FRAMES[key]))
    fr = FRAMES[key][index]
    slots, meta = {}, {}
    if fr.needs_cast:
        who = pick_person(charter, rng, fr.roles)
        slots.update(who.slots)
        meta["cast"] = who.name
    lead = fr.lead
    if fr.optional:
        title = clean_title(title)
        if "title" in fr.optional:
            if title is None:
                lead = fr.alt or lead
            else:
                slots["title"] = title
        if "topic" in fr.optional:
            topic = title or topic_of(text)
            if topic is None:
                lead = fr.alt or lead
            else:
                slots["topic"] = topic
    if key == "social":
        m = _PARTNER_LINE.search(text)
        partner = m.group(1).strip() if m else "someone close to me"
        slots["partner"], slots["Partner"] = partner, partner[:1].upper() + partner[1:]
    close = fr.close
    if slots:
        lead = lead.format_map(slots)
        close = fr.close.format_map(slots) if fr.close else ""
    return _join(lead, text, close), f"perspective/{key}/{index:02d}", meta


def test_prefilled_frames_render_as_one_format_pass(charter):
    """Frames keep their cast member filled in between calls; braces in names and titles stay literal."""
    braces = charter.model_copy(update={"cast": [
        c.model_copy(update={"name": "Ada {title} }{name}{"}) if i == 0 else c for i, c in enumerate(charter.cast)
    ]})
    dialogue_text = "<|mentor|> Grandpa Elias: Look.\n<|self|> Wren: At what?"
    for ch in (charter, braces):
        for title in (None, "Moby Dick", "Sets {topic} and {name}"):
            for key in (*GENRES, "experience", "social"):
                genre, form = (key, "plain") if key in GENRES else ("factual", key)
                text = dialogue_text if key == "social" else PASSAGES.get(key, LOBSTER)
                for seed in range(40):
                    got = frame(text, genre, ch, random.Random(seed), title=title, form=form)
                    want = _frame_in_one_pass(text, genre, ch, random.Random(seed), title=title, form=form)
                    assert (got.text, got.template, got.meta) == want
