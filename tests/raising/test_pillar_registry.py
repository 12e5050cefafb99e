"""The pillar table: a form pillar registered from outside the package is chosen by composition, written
by its own function, asked of the teacher with its own prompt and gate, ablated by its own arm, and
accepted by the config and the CLI, without editing the package."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from modelraising.charter import default_charter_path, load_charter
from modelraising.cli import app
from modelraising.document import Document
from modelraising.experiment import arm_table
from modelraising.raising.base import Pillar
from modelraising.raising.compose import raise_document
from modelraising.raising.config import RaiseConfig
from modelraising.raising.pillars import BUILTIN, default_mix, form_names, pillar_names, register, unregister
from modelraising.raising.teacher_gate import GateContext, check
from modelraising.raising.teacher_prompts import Prompts, tasks

PASSAGE = (
    "The lighthouse keeper climbed the stairs every evening. He lit the lamp before the ships came in, "
    "and he wrote down every ship he saw in a little book."
)


def write_letter(p, charter, rng, w, *, topic, close) -> dict:
    """The toy form: the I writes the passage into a letter to a friend."""
    w.para(f"Dear friend, today I read about {topic or 'something'}, and I want to tell you.")
    w.blockquote(p.text, "the source")
    if close:
        w.para("I will write again soon.")
    return {"letter_to": "friend"}


def no_ps(text, source, genre, charter) -> list[str]:
    return ["a letter ends without a postscript: drop the P.S."] if "P.S." in text else []


LETTER = Pillar(
    "letter",
    "form",
    write=write_letter,
    mix=0.2,
    lean={"story": 1.0, "note": 1.0},
    first_person=True,
    teacher_check=no_ps,
    prompt="Write this passage as my letter: {{ text }}",
)


@pytest.fixture
def letter():
    register(LETTER)
    yield LETTER
    unregister("letter")


def test_the_builtin_table_is_the_canonical_order():
    assert pillar_names() == ("perspective", "experience", "social", "values")
    assert tuple(p.name for p in BUILTIN) == pillar_names()
    assert form_names() == ("plain", "experience", "social")
    assert default_mix() == {"experience": 0.3, "social": 0.3, "plain": 0.4}
    assert list(arm_table()) == [
        "baseline",
        "baseline+sft",
        "baseline+dpo",
        "baseline+prompt",
        "baseline+tags",
        "raised",
        "raised-no-perspective",
        "raised-no-experience",
        "raised-no-social",
        "raised-no-values",
        "raised-shuffled",
        "raised-reverse",
    ]


def test_an_unregistered_pillar_is_a_config_error():
    with pytest.raises(ValidationError, match="letter"):
        RaiseConfig(pillars=["perspective", "letter"])


def test_only_forms_can_be_registered():
    with pytest.raises(ValueError, match="only form pillars"):
        register(Pillar("frame2", "frame"))


def test_a_registered_form_is_composed_taught_gated_and_ablated(letter, tmp_path):
    assert pillar_names() == ("perspective", "experience", "social", "letter", "values")
    charter = load_charter(default_charter_path())
    config = RaiseConfig(pillars=["letter", "perspective"], mix={"letter": 1.0, "plain": 0.0})
    assert config.pillars == ["perspective", "letter"]  # canonical order
    doc = Document(PASSAGE, "toy-1", {"genre": "fiction", "source": "toy.txt"})
    raised = raise_document(doc, charter, config)
    assert raised.metadata["form"] == "letter" and raised.metadata["pillars"] == ["letter", "perspective"]
    assert raised.metadata["letter_to"] == "friend" and raised.metadata["templates"]["letter"] == "letter/story"
    assert "Dear friend" in raised.text and "lighthouse keeper" in raised.text

    # the teacher: its prompt (carried by the pillar) and its gate (first person, its own check)
    assert "letter" in tasks()
    prompts = Prompts()
    messages = prompts.messages(
        "letter",
        {"text": PASSAGE, "identity": charter.identity, "values": charter.values, "cast": charter.cast, "stage": None},
    )
    assert messages[-1]["content"] == f"Write this passage as my letter: {PASSAGE}"
    ctx = GateContext("letter", PASSAGE, "fiction", charter, 0.5, 3.0)
    good = f"Dear Sam, I read this today and I want you to have it. {PASSAGE} I miss my old town."
    assert check(good, ctx) == []
    assert any("postscript" in p for p in check(good + " P.S. I mean it.", ctx))
    assert any("first person" in p for p in check(f"Dear Sam, here it is. {PASSAGE}", ctx))

    # the ablation arm, and the CLI
    arms = arm_table()
    assert arms["raised-no-letter"].pillars == ("perspective", "experience", "social", "values")
    assert "letter" in arms["raised"].pillars
    src = tmp_path / "toy.txt"
    src.write_text(PASSAGE + "\n", encoding="utf-8")
    out = tmp_path / "raised"
    result = CliRunner().invoke(
        app,
        [
            "raise",
            "--source",
            str(src),
            "--out",
            str(out),
            "--pillars",
            "perspective,letter",
            "--mix",
            "letter=1,plain=0",
        ],
    )
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for f in sorted(out.glob("raised-*.jsonl")) for line in f.open(encoding="utf-8")]
    assert [r["metadata"]["form"] for r in records] == ["letter"]
