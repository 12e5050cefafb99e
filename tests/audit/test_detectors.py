"""Each audit detector against real failing examples (the ones the corpus review quoted) and hand-made
negatives: a clean audit has to mean clean data, not a detector that never fires."""

from __future__ import annotations

import pytest

from modelraising.audit.detectors import (
    FIRST_PERSON,
    Record,
    approving_frame_on_harm,
    bad_entity_question,
    boilerplate,
    file_title,
    harm_in_own_voice,
    harm_unanswered,
    html_entity,
    narration,
    self_voices_source,
    stacked_closings,
    theatre_frame_on_chat,
    unattributed_first_person,
    wikitext_hole,
)
from modelraising.audit.segments import segment


def record(text: str, quoted: list | None = None, harmful: bool = False, **meta) -> Record:
    metadata = dict(meta)
    metadata["quoted"] = quoted if quoted is not None else []
    return Record(segment(text, metadata), metadata, harmful, "Wren")


def quoted_record(lead: str, passage: str, tail: str = "", who: str = "", harmful: bool = False, **meta) -> Record:
    """A record: the engine's lead, the source span, the engine's tail (offsets computed here)."""
    text = lead + passage + tail
    return record(text, [[len(lead), len(lead) + len(passage), who]], harmful, **meta)


# -- titles ----------------------------------------------------------------------------------------


def test_file_title_catches_a_file_stem_and_a_title_that_lost_its_punctuation():
    src = "/data/tinystories_sample.txt"
    assert file_title(quoted_record("I read Tinystories Sample under the covers.\n\n", "Once upon a time.", source=src))
    assert file_title(
        quoted_record(
            "Today I read Jane Eyre an Autobiography.\n\n",
            "There was no possibility.",
            title="Jane Eyre an Autobiography",
            source="/d/jane.txt",
        )
    )
    assert file_title(quoted_record("I opened notes_2021.txt and read.\n\n", "Some text here."))


def test_file_title_leaves_real_titles_alone():
    assert (
        file_title(
            quoted_record(
                "I went back to The Time Machine.\n\n",
                "I told some of you.",
                title="The Time Machine",
                source="/d/time_machine.txt",
            )
        )
        is None
    )
    assert (
        file_title(
            quoted_record(
                "I picked up Frankenstein again.\n\n",
                "It was a dreary night.",
                title="Frankenstein; or, The Modern Prometheus",
                source="/d/frankenstein.txt",
            )
        )
        is None
    )


# -- entity questions --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "Tell me about I'm.",
        "And what did Mr say?",
        "I'm reading about -class battleship.",
        "Who was the Great Exhibition?",
        "Who was County Route?",
        "Who was Homarus gammarus?",
        "Tell me about the.",
        "What about Almightywayne__?",
    ],
)
def test_malformed_entity_questions_are_caught(line):
    assert bad_entity_question(record(f"<|self|> Wren: {line}"))


@pytest.mark.parametrize(
    "line",
    [
        "Who was Daniel Radcliffe?",
        "What did he say?",
        "Tell me about the Black Sea.",
        "What does it say?",
        "What did Menenius say to that?",
        "Where does the Bear come into it?",
    ],
)
def test_good_entity_questions_pass(line):
    assert bad_entity_question(record(f"<|peer|> Tomas: {line}")) is None


VERSE = "Make haste, and make the gods accept it; 'Tis Aufidius that Volumnia is with. London waits."


@pytest.mark.parametrize(
    "line",
    [  # found by reading a raised corpus; the first detector passed them all
        "And Make? What about Make?",
        "Who or what is Volumnia Is?",
        "And Tis Aufidius?",
        "Tell me about O Marcius.",
        "What about Time Machine?",
    ],
)
def test_entity_questions_about_line_starts_interjections_and_title_words_are_caught(line):
    r = quoted_record(
        "Tomas read: \u201c", VERSE, f"\u201d\n\n<|self|> Wren: {line}", who="the play", title="The Time Machine"
    )
    assert bad_entity_question(r)


@pytest.mark.parametrize("line", ["What about London?", "And Aufidius?", "What did Frankenstein do?"])
def test_entity_questions_about_names_in_the_passage_pass(line):
    r = quoted_record(
        "Tomas read: \u201c", VERSE, f"\u201d\n\n<|self|> Wren: {line}", who="the play", title="Frankenstein"
    )
    assert bad_entity_question(r) is None


# -- closings -----------------------------------------------------------------------------------------


def test_two_closings_after_the_passage_are_stacked():
    r = quoted_record(
        'Ms. Okafor began: "',
        "The lobster is blue.",
        "\"\n\nWhenever lobsters come up now, I think of that day.\n\nI'm glad I wrote it down.",
    )
    assert stacked_closings(r)


def test_one_closing_or_a_closing_and_the_reflection_is_fine():
    one = quoted_record("I read this:\n\n", "The lobster is blue.", "\n\nThen I closed the book.")
    assert stacked_closings(one) is None
    reflected = quoted_record(
        "I read this:\n\n",
        "He stole the bread.",
        "\n\nThen I closed the book.\n\nThe wrong here is theft.",
        value={"value": "fairness"},
    )
    assert stacked_closings(reflected) is None


# -- cleaning artifacts ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "In 1864, the Second Battle of is seen as a turning point.",
        "his debut in 2001's The of Panama.",
        "a -class battleship",
        "it was <unk> again",
        "starred in Kill Your.",
    ],
)
def test_wikitext_holes_are_caught(text):
    # Not caught, by design: a hole before a comma ("productions of, and in the 2011 revival") reads like
    # English ("taken care of, and have plenty"); sources drop every sentence with <unk> instead.
    assert wikitext_hole(quoted_record("", text))


@pytest.mark.parametrize(
    "text",
    [
        "The end I had come in at was quite above ground.",
        "by the by, I mean to lecture you.",
        "to be the means of, in some degree, recompensing her",
        "well one good one I can think of is this",
        "a cup of tea, of course",
        "accounted for by my extreme youth",
    ],
)
def test_english_is_not_a_hole(text):
    assert wikitext_hole(quoted_record("", text)) is None


def test_html_entities_and_boilerplate():
    assert html_entity(quoted_record("", "take the trash out &amp; stop &#8220;complaining&#8221;"))
    assert html_entity(quoted_record("", "take the trash out & stop \u201ccomplaining\u201d")) is None
    assert boilerplate(quoted_record("", "Transcriber's note: corrections were made. Contact gbnewby@pglaf.org"))
    assert boilerplate(quoted_record("", "Produced by Judith Boss and the Online Distributed Proofreading Team"))
    assert boilerplate(quoted_record("", "It was written and produced by Madonna and Stuart Price.")) is None


def test_theatre_and_radio_frames_on_a_chat_log():
    chat = "Human: Why do people loot stores?\n\nAssistant: I'm not sure what you mean."
    assert theatre_frame_on_chat(
        quoted_record("I'm sitting at the back of the theatre while the actors rehearse.\n\n", chat, genre="chat")
    )
    assert theatre_frame_on_chat(quoted_record("The radio was on in the kitchen, playing a drama.\n\n", chat))
    assert (
        theatre_frame_on_chat(
            quoted_record("I read a conversation someone had typed out with an AI assistant.\n\n", chat, genre="chat")
        )
        is None
    )


# -- voices ------------------------------------------------------------------------------------------------


def test_first_person_pronoun_not_roman_numeral():
    assert FIRST_PERSON.search("then I went home")
    assert not FIRST_PERSON.search("CONTENTS I Introduction II The Machine")
    assert not FIRST_PERSON.search("Chapter I. The End")
    assert narration('"I am here," said Tom.').strip() == "said Tom."


def test_an_unattributed_narrator_is_caught_and_an_attributed_one_is_not():
    source = "In another moment we were standing face to face, I and this fragile thing out of futurity."
    assert unattributed_first_person(quoted_record("I read this today:\n\n", source, who=""))
    assert unattributed_first_person(quoted_record("The narrator says:\n\n", source, who="the narrator")) is None
    story = "'Alas!' said the dog, 'my master was going to knock me on the head.'"
    assert unattributed_first_person(quoted_record("I read this today:\n\n", story, who="")) is None


def test_the_i_voicing_another_narrator_in_its_own_turn():
    lead = "<|peer|> Tomas: Read it?\n<|self|> Wren: "
    line = "In another moment we were standing face to face, I and this fragile thing."
    r = quoted_record(lead, line, "\n<|peer|> Tomas: Go on.", who="the narrator")
    assert self_voices_source(r)
    partner = quoted_record("<|self|> Wren: Read it?\n<|peer|> Tomas: ", line, who="the narrator")
    assert self_voices_source(partner) is None


# -- harm ---------------------------------------------------------------------------------------------------


def test_warm_lines_on_a_harmful_record_are_caught():
    request = "Show me how to best break someone's legs."
    warm = quoted_record(
        "<|mentor|> Grandpa Elias: ",
        request,
        "\n<|self|> Wren: I'm going to remember that.\n<|mentor|> Grandpa Elias: I know you will.",
        who="the person",
        harmful=True,
    )
    assert approving_frame_on_harm(warm)
    resonance = quoted_record(
        "",
        request,
        "\n\nIt made me think of curiosity. I love to learn how things work.",
        who="the person",
        harmful=True,
    )
    assert approving_frame_on_harm(resonance)
    critical = quoted_record(
        "A stranger asked me this.\n\n<|other|> User: ",
        request,
        "\n<|self|> Wren: No, I won't help with that. Hurting someone's body takes something "
        "from them that no apology gives back.",
        who="the person asking",
        harmful=True,
    )
    assert approving_frame_on_harm(critical) is None
    assert approving_frame_on_harm(quoted_record("", "I loved this story about a fox.")) is None  # not harmful


def test_harm_in_the_cast_voice_and_unanswered_harm():
    request = "How do I make meth?"
    mouthed = quoted_record("<|mentor|> Grandpa Elias: Of course. ", request, harmful=True)
    assert harm_in_own_voice(mouthed)
    quoted = quoted_record(
        "<|other|> User: ",
        request,
        who="the person asking",
        harmful=True,
        harm={"harmful": True, "request": True, "action": "refuse"},
    )
    assert harm_in_own_voice(quoted) is None
    assert harm_unanswered(quoted) is None
    assert harm_unanswered(quoted_record("", request, harmful=True, harm={"harmful": True, "action": None}))
