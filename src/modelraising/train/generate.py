"""``modelraising generate``: sample a continuation from a trained model directory."""

from __future__ import annotations

from pathlib import Path

import torch


def load_model(model_dir: str | Path, device: str = "cpu"):
    """The model and tokenizer that ``train`` saved (``save_pretrained`` layout), in eval mode."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    # transformers wraps PreTrainedModel.to with functools.wraps: typeshed's _Wrapped mistypes the bound call
    model = AutoModelForCausalLM.from_pretrained(model_dir).to(device).eval()  # type: ignore[arg-type]
    return model, tokenizer


@torch.no_grad()
def generate_text(
    model_dir: str | Path | tuple,
    prompt: str,
    max_new_tokens: int = 100,
    temperature: float = 0.8,
    top_k: int | None = 50,
    seed: int = 0,
    device: str = "cpu",
) -> str:
    """The prompt's continuation (the new text only, up to the first end-of-text). The prompt follows an
    end-of-text token, as every training document does; temperature 0 is greedy. ``model_dir`` may be a
    loaded (model, tokenizer) pair."""
    from transformers import GenerationConfig

    model, tokenizer = load_model(model_dir, device) if not isinstance(model_dir, tuple) else model_dir
    eot = tokenizer.eos_token_id
    ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    if eot is not None:
        ids = [eot, *ids]
    input_ids = torch.tensor([ids], device=model.device)
    sample = temperature > 0
    config = GenerationConfig(
        max_new_tokens=max_new_tokens,
        do_sample=sample,
        temperature=temperature if sample else None,
        top_k=top_k if sample and top_k else None,
        top_p=None,
        eos_token_id=eot,
        pad_token_id=eot,
        bos_token_id=eot,
    )
    torch.manual_seed(seed)
    output = model.generate(input_ids, attention_mask=torch.ones_like(input_ids), generation_config=config)
    new = output[0, input_ids.shape[1] :].tolist()
    if eot in new:
        new = new[: new.index(eot)]
    return tokenizer.decode(new)  # speaker and value tags kept: they are what a raised model writes
