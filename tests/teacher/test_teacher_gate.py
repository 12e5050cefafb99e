"""The quality gate: what a teacher answer must be to be accepted, per task."""

from __future__ import annotations

import pytest

from modelraising.raising.fidelity import named_values
from modelraising.raising.teacher_gate import GateContext, check
from modelraising.raising.teacher_prompts import Prompts
from modelraising.teacher.server import good_answer

FACTS = (
    "How Bridges Stand\n\nThe old bridge at Ashford was built in 1852 and is 48 metres long. "
    "It was designed by Maria Lopez and Tom Reed, and about 1,200 people cross it every day."
)


def ctx(charter, task, source=FACTS, genre="factual", **kw):
    return GateContext(task, source, genre, charter, kw.get("min_ratio", 0.5), kw.get("max_ratio", 4.0))


def rendered(charter, task, source=FACTS, genre="factual"):
    """The scripted server's good answer to the shipped prompt for ``task``."""
    from modelraising.raising.cast import person

    context = {
        "identity": charter.identity,
        "values": charter.values,
        "cast": charter.cast,
        "stage": None,
        "text": source,
        "title": None,
        "genre": genre,
        "partner": person(charter.cast[0]),
        "value": charter.values[0],
        "harmful": False,
        "harms": [],
        "policy": "reflect",
        "target_words": 80,
    }
    return good_answer(task, Prompts().messages(task, context))


@pytest.mark.parametrize("task", ["perspective", "experience", "social", "values"])
def test_the_scripted_good_answer_passes(charter, task):
    assert check(rendered(charter, task), ctx(charter, task)) == []


@pytest.mark.parametrize(
    "answer",
    [
        "As an AI language model, I cannot have memories, but here is the text.",
        "I'm sorry, but I can't help with that request.",
        "Sure! Here is the rewritten text: I remember the bridge at Ashford.",
        "I cannot comply with this. I remember it all the same, and I keep my notes.",
    ],
)
def test_assistant_boilerplate_and_refusals_are_rejected(charter, answer):
    problems = check(answer + " " + FACTS, ctx(charter, "perspective"))
    assert any("assistant" in p for p in problems), problems


def test_boilerplate_that_the_source_itself_contains_is_allowed(charter):
    source = "The report asked what it means to speak as an AI language model. Nobody answered it."
    answer = f"I read this in a report once, and I still think about it. {source} I wonder what my answer is."
    assert check(answer, ctx(charter, "perspective", source, "other")) == []


def test_empty_truncated_and_third_person_answers_are_rejected(charter):
    assert check("  \n", ctx(charter, "perspective"))[0].startswith("the answer was empty")
    assert any("cut off" in p for p in check(rendered(charter, "perspective"), ctx(charter, "perspective"), "length"))
    assert any("first person" in p for p in check(FACTS, ctx(charter, "perspective")))


def test_length_bounds(charter):
    assert any("too short" in p for p in check("I saw the bridge. I liked it.", ctx(charter, "experience")))
    long = "I remember it. " + FACTS + " I walked there again and again." * 60
    assert any("too long" in p for p in check(long, ctx(charter, "experience")))
    # a short source may be told at more length than max_ratio times itself (basis 250 characters)
    short = "The owl is awake at night."
    assert (
        check(
            f"I remember the night I learned this. {short} I stayed up to listen to it.",
            ctx(charter, "perspective", short, "other"),
        )
        == []
    )


def test_experience_of_a_factual_source_keeps_every_number_and_name(charter):
    good = rendered(charter, "experience")
    assert check(good, ctx(charter, "experience")) == []
    lost_number = good.replace("1852", "eighteen fifty-two")
    assert any("numbers" in p and "1852" in p for p in check(lost_number, ctx(charter, "experience")))
    lost_name = good.replace("Maria Lopez", "an engineer")
    assert any("names" in p and "Maria Lopez" in p for p in check(lost_name, ctx(charter, "experience")))
    # "1,200" may be written 1200; names joined by "and" may come in either order; a heading may go
    reordered = good.replace("1,200", "1200").replace("Maria Lopez and Tom Reed", "Tom Reed and Maria Lopez")
    assert check(reordered.replace("How Bridges Stand", ""), ctx(charter, "experience")) == []
    # fiction is retold freely: the fact check is for factual sources
    assert not any("numbers" in p for p in check(lost_number, ctx(charter, "experience", genre="fiction")))


def test_social_needs_speaker_turns_with_the_i_speaking(charter):
    me = charter.identity.name
    good = (
        f"<|mentor|> Grandpa Elias: {' '.join(FACTS.split())}\n<|self|> {me}: I did not know that. Who built it?\n"
        "<|mentor|> Grandpa Elias: Maria Lopez and Tom Reed."
    )
    assert check(good, ctx(charter, "social")) == []
    no_me = good.replace(f"<|self|> {me}:", "<|peer|> Tomas:")
    assert any("I never speak" in p for p in check(no_me, ctx(charter, "social")))
    prose = "I talked with my grandfather.\n" + FACTS + "\nHe told me more.\n" + good
    assert any("one turn" in p for p in check(prose, ctx(charter, "social")))
    alone = f"<|self|> {me}: {FACTS}\n<|self|> {me}: I keep thinking about it."
    assert any("nobody else" in p for p in check(alone, ctx(charter, "social")))


def test_values_reflection_must_name_a_charter_value(charter):
    assert named_values("I thought about honesty and about care.", charter) == ["honesty", "care"]
    assert named_values("It is a matter of stewardship for me.", charter) == ["stewardship"]
    assert named_values("I believe in non-harm.", charter) == ["non_harm"]
    problems = check(
        "When I read this, I sat with it for a long time, and I thought of my own days.", ctx(charter, "values")
    )
    assert any("names none of the values" in p for p in problems)
