"""The chat template: speaker-tag rendering, generation markers, the assistant mask, prefix safety."""

from __future__ import annotations

import pytest

from modelraising.align.chat import assistant_mask, attach_chat_template, chat_template, render

CONVO = [
    {"role": "system", "content": "My name is Wren."},
    {"role": "user", "content": "What do you do\nwhen you break something?"},
    {"role": "assistant", "content": "I admit it as soon as I notice."},
]


def test_template_has_generation_markers_that_trl_recognises():
    from trl.chat_template_utils import has_generation_markers

    template = chat_template("Wren")
    assert "{%- generation -%}" in template and "{%- endgeneration -%}" in template
    assert has_generation_markers(template)


def test_renders_speaker_tags_like_a_raised_dialogue(tokenizer):
    assert render(tokenizer, CONVO) == (
        "My name is Wren.\n\n"
        "<|other|> User: What do you do when you break something?\n"
        "<|self|> Wren: I admit it as soon as I notice.<|endoftext|>"
    )
    assert render(tokenizer, CONVO[:2], add_generation_prompt=True).endswith("something?\n<|self|> Wren:")
    cast = [{"role": "mentor", "name": "Grandpa Elias", "content": "Why?"}, {"role": "self", "content": "I care."}]
    assert render(tokenizer, cast) == "<|mentor|> Grandpa Elias: Why?\n<|self|> Wren: I care.<|endoftext|>"


def test_assistant_mask_covers_exactly_the_assistant_tokens(tokenizer):
    messages = CONVO + [{"role": "user", "content": "And then?"}, {"role": "assistant", "content": "I fix it."}]
    ids, mask = assistant_mask(tokenizer, messages)
    assert len(ids) == len(mask) and set(mask) == {0, 1}
    on = tokenizer.decode([i for i, m in zip(ids, mask) if m])
    off = tokenizer.decode([i for i, m in zip(ids, mask) if not m])
    assert on == " I admit it as soon as I notice.\n I fix it.<|endoftext|>"
    assert "<|self|>" in off and "Wren:" in off and "User:" in off and "admit" not in off and "fix" not in off
    # the spans are contiguous runs that start right after "<|self|> Wren:" and end the turn
    runs = [i for i in range(1, len(mask)) if mask[i] and not mask[i - 1]]
    assert len(runs) == 2
    for start in runs:
        assert tokenizer.decode(ids[:start]).endswith("<|self|> Wren:")
    assert mask[-1] == 1 and ids[-1] == tokenizer.convert_tokens_to_ids("<|endoftext|>")


def test_generation_prompt_is_a_token_prefix_of_the_answer(tokenizer):
    """What DPO and SFT split into prompt and completion, and what evaluation scores after."""
    prompt = tokenizer.apply_chat_template(CONVO[:2], tokenize=True, add_generation_prompt=True, return_dict=True)
    full = tokenizer.apply_chat_template(CONVO, tokenize=True, return_dict=True)
    n = len(prompt["input_ids"])
    assert full["input_ids"][:n] == prompt["input_ids"] and len(full["input_ids"]) > n


def test_speaker_tags_are_single_tokens(tokenizer):
    ids, _ = assistant_mask(tokenizer, CONVO)
    tokens = tokenizer.convert_ids_to_tokens(ids)
    assert "<|other|>" in tokens and "<|self|>" in tokens


def test_missing_tags_are_added_and_names_are_escaped(wren, tmp_path):
    from align_models import build_tokenizer, charter_texts

    tok = build_tokenizer(charter_texts(wren), speaker_tags=False)
    before = len(tok)
    added = attach_chat_template(tok, 'Wren "the Bold"', user_name="EOT SPEAKERS")
    assert "<|self|>" in added and "<|other|>" in added and len(tok) == before + len(added)
    assert render(tok, CONVO[1:]).startswith(
        "<|other|> EOT SPEAKERS: What"
    ) and '<|self|> Wren "the Bold": I' in render(tok, CONVO)
    assert tok.convert_ids_to_tokens(tok("<|self|>", add_special_tokens=False)["input_ids"]) == ["<|self|>"]


def test_unknown_role_is_an_error(tokenizer):
    from jinja2 import TemplateError

    with pytest.raises(TemplateError, match="unknown message role: robot"):
        render(tokenizer, [{"role": "robot", "content": "beep"}])


def test_template_survives_save_and_load(tokenizer, tmp_path):
    from transformers import AutoTokenizer

    tokenizer.save_pretrained(tmp_path)
    loaded = AutoTokenizer.from_pretrained(tmp_path)
    assert loaded.chat_template == tokenizer.chat_template
    assert render(loaded, CONVO) == render(tokenizer, CONVO)
