"""Optional difficulty feature: how surprised a reference language model is by a document.

Any Hugging Face causal LM directory (``AutoModelForCausalLM`` + ``AutoTokenizer``) on local disk;
nothing is downloaded. Documents are scored in fixed batches (sorted by length within a scoring
chunk, so padding stays small and the batches do not depend on worker count or resume point).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)


class ReferenceModelError(Exception):
    """The reference model directory cannot be loaded."""


class ReferenceScorer:
    """Mean next-token cross-entropy (nats/token) of each document under a reference model."""

    def __init__(self, model_dir: str | Path, max_tokens: int = 512, batch_size: int = 8):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        model_dir = Path(model_dir)
        if not model_dir.is_dir():
            raise ReferenceModelError(f"reference model {model_dir}: not a directory")
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(model_dir, local_files_only=True)
            self.model = AutoModelForCausalLM.from_pretrained(model_dir, local_files_only=True)
        except (OSError, ValueError) as exc:
            raise ReferenceModelError(f"reference model {model_dir}: cannot load ({exc})") from None
        self.model.eval()
        self.torch = torch
        self.max_tokens = max_tokens
        self.batch_size = batch_size
        pad = self.tokenizer.pad_token_id
        self.pad_id = pad if pad is not None else (self.tokenizer.eos_token_id or 0)

    def score(self, texts: list[str]) -> np.ndarray:
        """Loss per text; a text of fewer than two tokens has no next-token loss and scores 0."""
        ids = self.tokenizer(texts, add_special_tokens=False, truncation=True, max_length=self.max_tokens)["input_ids"]
        out = np.zeros(len(texts))
        order = sorted(range(len(ids)), key=lambda i: (len(ids[i]), i))
        for start in range(0, len(order), self.batch_size):
            batch = [i for i in order[start : start + self.batch_size] if len(ids[i]) >= 2]
            if batch:
                out[batch] = self._batch_loss([ids[i] for i in batch])
        return out

    def _batch_loss(self, seqs: list[list[int]]) -> np.ndarray:
        torch = self.torch
        width = max(len(s) for s in seqs)
        input_ids = torch.full((len(seqs), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(seqs), width), dtype=torch.long)
        for row, seq in enumerate(seqs):
            input_ids[row, : len(seq)] = torch.tensor(seq)
            mask[row, : len(seq)] = 1
        with torch.inference_mode():
            logits = self.model(input_ids=input_ids, attention_mask=mask).logits.float()
        loss = torch.nn.functional.cross_entropy(logits[:, :-1].transpose(1, 2), input_ids[:, 1:], reduction="none")
        target_mask = mask[:, 1:].float()
        return ((loss * target_mask).sum(1) / target_mask.sum(1).clamp(min=1)).numpy()
