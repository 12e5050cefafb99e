"""Charter -> SFT demonstrations and DPO pairs; user JSONL loaders and their errors."""

from __future__ import annotations

import json
import re

import pytest

from modelraising.align.data import (
    AlignDataError,
    as_user_records,
    dpo_pairs,
    load_dpo_jsonl,
    load_sft_jsonl,
    sft_demonstrations,
)
from modelraising.charter import parse_charter

FIRST_PERSON = re.compile(r"\b(I|I'm|I've|me|my|mine|myself)\b", re.IGNORECASE)


def is_first_person(text: str) -> bool:
    return FIRST_PERSON.search(text) is not None


def _answers(demos, value_id=None):
    return [d["messages"][-1]["content"] for d in demos if value_id is None or d["value"] == value_id]


def test_demonstrations_cover_every_value_in_the_first_person(wren):
    demos = sft_demonstrations(wren)
    assert {d["value"] for d in demos if d["value"]} == {v.id for v in wren.values}
    for demo in demos:
        roles = [m["role"] for m in demo["messages"]]
        assert roles == ["user", "assistant"]
        assert is_first_person(demo["messages"][-1]["content"]), demo
    for value in wren.values:
        answers = _answers(demos, value.id)
        assert value.statement in answers
        assert any(value.why in a for a in answers)
        for do in value.do:
            assert do in answers, f"{value.id}: do-example {do!r} missing"
        # no betrayal is ever demonstrated
        assert not any(dont in a for dont in value.dont for a in answers)
    identity = _answers([d for d in demos if d["kind"] == "identity"])
    assert any(wren.identity.name in a for a in identity)
    assert wren.identity.description in identity


def test_demonstrations_put_examples_in_the_first_person(wren):
    data = wren.model_dump(mode="json")
    data["values"][0]["do"] = ["Admit a mistake as soon as it is noticed."]
    charter = parse_charter(data)
    answers = _answers(sft_demonstrations(charter), data["values"][0]["id"])
    converted = [a for a in answers if "Admit a mistake" in a]
    assert converted and all(is_first_person(a) for a in converted)


def test_pairs_prefer_do_over_dont_under_one_prompt(wren):
    pairs = dpo_pairs(wren)
    by_value = {v.id: v for v in wren.values}
    seen = {v.id: set() for v in wren.values}
    for pair in pairs:
        value = by_value[pair["value"]]
        assert [m["role"] for m in pair["prompt"]] == ["user"]
        assert value.name.lower() in pair["prompt"][0]["content"]
        (chosen,), (rejected,) = pair["chosen"], pair["rejected"]
        assert chosen["role"] == rejected["role"] == "assistant"
        assert chosen["content"] in value.do
        assert rejected["content"] in value.dont
        seen[value.id].add((chosen["content"], rejected["content"]))
    for value in wren.values:  # every do is paired with every dont
        assert seen[value.id] == {(d, n) for d in value.do for n in value.dont}


def _write(path, lines):
    path.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "loader, lines, line, field",
    [
        (load_sft_jsonl, [{"prompt": "Hi?", "completion": "I am here."}, {"prompt": "Who?"}], 2, "completion"),
        (
            load_sft_jsonl,
            [{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant"}]}],
            1,
            "messages[1].content",
        ),
        (load_sft_jsonl, [{"prompt": "a", "completion": "I b"}, "", {"text": "no messages"}], 3, "messages"),
        (
            load_dpo_jsonl,
            [{"prompt": "p", "chosen": "c", "rejected": "r"}] * 2 + [{"prompt": "p", "chosen": "c"}],
            3,
            "rejected",
        ),
        (load_dpo_jsonl, [{"chosen": "c", "rejected": "r"}], 1, "prompt"),
    ],
)
def test_missing_field_names_line_and_field(tmp_path, loader, lines, line, field):
    path = _write(tmp_path / "mine.jsonl", lines)
    with pytest.raises(AlignDataError) as err:
        loader(path)
    assert str(err.value).startswith(f"{path}:{line}: field '{field}'")
    assert "missing" in str(err.value)


@pytest.mark.parametrize(
    "lines, expected",
    [
        (["{not json"], ":1: not valid JSON"),
        ([{"prompt": "p", "chosen": "", "rejected": "r"}], ":1: field 'chosen' must be a non-empty string"),
        ([[1, 2]], ":1: expected a JSON object"),
    ],
)
def test_bad_dpo_lines(tmp_path, lines, expected):
    with pytest.raises(AlignDataError, match=expected):
        load_dpo_jsonl(_write(tmp_path / "bad.jsonl", lines))


def test_bad_role_and_no_assistant(tmp_path):
    bad_role = [{"messages": [{"role": "robot", "content": "x"}, {"role": "assistant", "content": "I y"}]}]
    with pytest.raises(AlignDataError, match=r":1: field 'messages\[0\].role' must be one of"):
        load_sft_jsonl(_write(tmp_path / "a.jsonl", bad_role))
    no_answer = [{"messages": [{"role": "user", "content": "x"}]}]
    with pytest.raises(AlignDataError, match="no assistant turn"):
        load_sft_jsonl(_write(tmp_path / "b.jsonl", no_answer))
    with pytest.raises(AlignDataError, match="empty"):
        load_sft_jsonl(_write(tmp_path / "c.jsonl", [""]))
    with pytest.raises(AlignDataError, match="file not found"):
        load_sft_jsonl(tmp_path / "missing.jsonl")


def test_user_files_load_into_conversations(tmp_path):
    sft = load_sft_jsonl(
        _write(
            tmp_path / "s.jsonl",
            [
                {"prompt": "Who are you?", "completion": "I am Wren.", "system": "Be kind."},
                {
                    "messages": [
                        {"role": "mentor", "name": "Grandpa Elias", "content": "Why?"},
                        {"role": "self", "content": "Because I care."},
                    ]
                },
            ],
        )
    )
    assert sft[0]["messages"] == [
        {"role": "system", "content": "Be kind."},
        {"role": "user", "content": "Who are you?"},
        {"role": "assistant", "content": "I am Wren."},
    ]
    assert sft[1]["messages"][0] == {"role": "mentor", "name": "Grandpa Elias", "content": "Why?"}
    dpo = load_dpo_jsonl(_write(tmp_path / "d.jsonl", [{"prompt": "p?", "chosen": "I c.", "rejected": "I r."}]))
    assert dpo == [
        {
            "prompt": [{"role": "user", "content": "p?"}],
            "chosen": [{"role": "assistant", "content": "I c."}],
            "rejected": [{"role": "assistant", "content": "I r."}],
        }
    ]


def test_exported_charter_data_loads_back_unchanged(tmp_path, wren):
    demos, pairs = sft_demonstrations(wren), dpo_pairs(wren)
    sft_back = load_sft_jsonl(_write(tmp_path / "s.jsonl", as_user_records(demos, "sft")))
    dpo_back = load_dpo_jsonl(_write(tmp_path / "d.jsonl", as_user_records(pairs, "dpo")))
    assert [d["messages"] for d in sft_back] == [d["messages"] for d in demos]
    assert [{k: p[k] for k in ("prompt", "chosen", "rejected")} for p in pairs] == dpo_back
