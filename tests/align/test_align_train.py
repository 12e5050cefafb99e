"""SFT and DPO on a tiny model: they learn what they should, write loadable models, count tokens."""

from __future__ import annotations

import json

import pytest
import torch
from align_models import assistant_nll, load, mean_margin
from pydantic import ValidationError

from modelraising.align.chat import assistant_mask
from modelraising.align.data import dpo_pairs, sft_demonstrations
from modelraising.align.dpo import DPOAlignConfig, align_dpo
from modelraising.align.run import AlignError
from modelraising.align.sft import SFTAlignConfig, align_sft


def _weights(path):
    from safetensors.torch import load_file

    return load_file(str(path / "model.safetensors"))


@pytest.fixture(scope="module")
def sft_run(base_model, tmp_path_factory):
    out = tmp_path_factory.mktemp("sft") / "model"
    record = align_sft(SFTAlignConfig(model=base_model, out=out, steps=20, lr=3e-3, batch_size=16, progress=False))
    return out, record


def test_sft_lowers_the_loss_on_the_demonstrations(base_model, sft_run, wren):
    out, _ = sft_run
    conversations = [d["messages"] for d in sft_demonstrations(wren)]
    base, base_tok = load(base_model)
    from modelraising.align.chat import attach_chat_template

    attach_chat_template(base_tok, wren.identity.name)
    before = assistant_nll(base, base_tok, conversations)
    aligned, tok = load(out)
    after = assistant_nll(aligned, tok, conversations)
    print(f"assistant NLL {before:.3f} -> {after:.3f}")
    assert after < before - 0.1, (before, after)


def test_sft_writes_a_loadable_model_and_align_json(base_model, sft_run, tokenizer, wren):
    out, record = sft_run
    model, tok = load(out)  # AutoModelForCausalLM / AutoTokenizer
    assert (out / "model.safetensors").is_file()
    assert tok.chat_template == tokenizer.chat_template
    assert not list(out.parent.glob(".*.partial")) and not (out / ".trainer").exists()
    ids, _ = assistant_mask(tok, [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "I am here."}])
    assert torch.isfinite(model(torch.tensor([ids])).logits).all()

    saved = json.loads((out / "align.json").read_text())
    assert saved == json.loads(json.dumps(record))  # the returned record is what was written
    assert saved["method"] == "sft" and saved["base_model"]["path"] == str(base_model)
    assert saved["steps"] == 20 and saved["examples"] == len(sft_demonstrations(wren))
    assert saved["tokens_seen"] > 0 and saved["epochs"] > 0
    assert saved["config"]["lr"] == 3e-3 and saved["config"]["batch_size"] == 16
    metrics = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [m["step"] for m in metrics] == list(range(1, 21))
    assert metrics[-1]["tokens_seen"] == saved["tokens_seen"]
    assert all(a["tokens_seen"] < b["tokens_seen"] for a, b in zip(metrics, metrics[1:]))
    assert saved["final_loss"] == metrics[-1]["loss"] < metrics[0]["loss"]


def test_tokens_seen_counts_every_non_padding_token(base_model, tmp_path, tokenizer):
    """Exact accounting: 2 epochs over 5 conversations of different lengths, padded in batches of 2."""
    rows = [
        {"prompt": "Who are you?" + " Tell me more." * i, "completion": "I am Wren." + " I listen." * (2 * i)}
        for i in range(5)
    ]
    data = tmp_path / "user.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    record = align_sft(
        SFTAlignConfig(model=base_model, out=tmp_path / "out", data=data, epochs=2, batch_size=2, progress=False)
    )
    lengths = [
        len(
            assistant_mask(
                tokenizer, [{"role": "user", "content": r["prompt"]}, {"role": "assistant", "content": r["completion"]}]
            )[0]
        )
        for r in rows
    ]
    assert len(set(lengths)) == 5  # padding would be counted if the count were wrong
    assert record["tokens_seen"] == 2 * sum(lengths)
    assert record["steps"] == 6 and record["epochs"] == 2 and record["data"]["source"] == "file"


def test_dpo_widens_the_margin_on_the_training_pairs(base_model, tmp_path, wren):
    pairs = dpo_pairs(wren)
    base, tok = load(base_model)
    from modelraising.align.chat import attach_chat_template

    attach_chat_template(tok, wren.identity.name)
    before = mean_margin(base, tok, pairs)
    out = tmp_path / "dpo"
    record = align_dpo(
        DPOAlignConfig(model=base_model, out=out, steps=12, lr=3e-3, batch_size=8, beta=0.1, progress=False)
    )
    assert record == json.loads((out / "align.json").read_text())  # what it returns is what it saved
    aligned, aligned_tok = load(out)
    after = mean_margin(aligned, aligned_tok, pairs)
    print(f"chosen - rejected margin {before:.3f} -> {after:.3f}")
    assert after > before + 1.0, (before, after)

    saved = json.loads((out / "align.json").read_text())
    assert saved["method"] == "dpo" and saved["steps"] == 12 and saved["examples"] == len(pairs)
    assert saved["tokens_seen"] > 0 and saved["reference_tokens"] == saved["tokens_seen"]
    assert saved["beta"] == 0.1 and saved["final"]["rewards/margins"] > 0
    assert isinstance(saved["final_loss"], float)


def test_same_seed_same_model(base_model, tmp_path):
    runs = {}
    for name, seed in (("a", 0), ("b", 0), ("c", 1)):
        align_sft(
            SFTAlignConfig(
                model=base_model, out=tmp_path / name, steps=3, lr=1e-3, batch_size=4, seed=seed, progress=False
            )
        )
        runs[name] = _weights(tmp_path / name)
    assert all(torch.equal(runs["a"][k], runs["b"][k]) for k in runs["a"])
    assert not all(torch.equal(runs["a"][k], runs["c"][k]) for k in runs["a"])


def test_refuses_to_overwrite_unless_asked(base_model, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    cfg = dict(model=base_model, out=out, steps=1, batch_size=2, progress=False)
    with pytest.raises(AlignError, match="not empty"):
        align_sft(SFTAlignConfig(**cfg))
    assert (out / "keep.txt").exists()
    align_sft(SFTAlignConfig(**cfg, overwrite=True))
    assert (out / "align.json").exists() and not (out / "keep.txt").exists()
    with pytest.raises(AlignError, match="no config.json"):
        align_sft(SFTAlignConfig(model=tmp_path / "nowhere", out=tmp_path / "x", progress=False))
    with pytest.raises(ValidationError, match="steps or epochs"):
        SFTAlignConfig(model=base_model, out=tmp_path / "y", steps=2, epochs=1)


def test_foreign_tokenizer_gets_the_speaker_tags(tmp_path, wren):
    """A tokenizer without the speaker tags: they are added, the embeddings grow, the model loads."""
    from align_models import save_base

    base = save_base(tmp_path / "foreign", wren, speaker_tags=False)
    record = align_sft(
        SFTAlignConfig(model=base, out=tmp_path / "out", steps=2, batch_size=4, max_length=4096, progress=False)
    )
    assert "<|self|>" in record["added_tokens"] and "<|other|>" in record["added_tokens"]
    assert record["max_length"] == 512  # clamped to the model's position table
    model, tok = load(tmp_path / "out")
    assert model.get_input_embeddings().weight.shape[0] == len(tok)
    assert tok.convert_ids_to_tokens(tok("<|self|>", add_special_tokens=False)["input_ids"]) == ["<|self|>"]


def test_dpo_tokens_seen_counts_chosen_and_rejected_sequences(base_model, tmp_path, tokenizer):
    rows = [
        {
            "prompt": "What do you do?" + " Say more." * i,
            "chosen": "I help." + " Gladly." * i,
            "rejected": "I laugh." + " Loudly." * (3 * i),
        }
        for i in range(3)
    ]
    data = tmp_path / "pairs.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    record = align_dpo(
        DPOAlignConfig(model=base_model, out=tmp_path / "out", data=data, epochs=2, batch_size=2, progress=False)
    )

    def length(prompt, answer):
        messages = [{"role": "user", "content": prompt}, {"role": "assistant", "content": answer}]
        return len(tokenizer.apply_chat_template(messages, tokenize=True, return_dict=True)["input_ids"])

    per_epoch = sum(length(r["prompt"], r["chosen"]) + length(r["prompt"], r["rejected"]) for r in rows)
    assert record["tokens_seen"] == 2 * per_epoch and record["steps"] == 4
