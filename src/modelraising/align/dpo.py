"""``modelraising align dpo``: direct preference optimisation on do-vs-dont pairs (TRL's ``DPOTrainer``).

The conventional recipe's preference step: for a question about a value, the model is pushed to
prefer the charter's ``do`` answer over its ``dont`` answer, relative to a frozen copy of itself
(the reference), with strength ``beta``. Pairs come from ``data.dpo_pairs`` or a user's JSONL of
``{prompt, chosen, rejected}``. Run it on the base model or on an ``align sft`` output (SFT + DPO).

    from modelraising.align import DPOAlignConfig, align_dpo

    record = align_dpo(DPOAlignConfig(model="runs/neutral-sft", out="runs/neutral-sft-dpo", beta=0.1))

``tokens_seen`` counts the policy's forward passes (prompt + chosen and prompt + rejected, padding
excluded); the frozen reference reads the same tokens again without gradients, reported as
``reference_tokens``.
"""

from __future__ import annotations

import copy
from typing import Any, ClassVar, Literal

from pydantic import Field

from modelraising.align.data import dpo_pairs, load_dpo_jsonl, training_rows
from modelraising.align.run import AlignConfig, run_alignment
from modelraising.charter import Charter

_REPORTED = (
    "rewards/chosen",
    "rewards/rejected",
    "rewards/margins",
    "rewards/accuracies",
    "logps/chosen",
    "logps/rejected",
)


class DPOAlignConfig(AlignConfig):
    """``align dpo`` options (``AlignConfig`` plus beta and the loss)."""

    default_epochs: ClassVar[float] = 1.0

    lr: float = Field(1e-5, gt=0, description="Peak learning rate (AdamW).")
    beta: float = Field(0.1, gt=0, description="Strength of the pull towards the reference model (DPO's beta).")
    loss_type: Literal["sigmoid", "hinge", "ipo"] = Field("sigmoid", description="sigmoid (DPO), hinge (SLiC) or ipo.")


def dpo_examples(cfg: DPOAlignConfig, charter: Charter) -> list[dict]:
    return load_dpo_jsonl(cfg.data) if cfg.data else dpo_pairs(charter)


def _trainer(cfg: DPOAlignConfig):
    def make(model, tokenizer, examples: list[dict], args: dict[str, Any]):
        from datasets import Dataset
        from trl import DPOConfig, DPOTrainer

        dataset = Dataset.from_list(training_rows(examples, ("prompt", "chosen", "rejected")))
        dpo_args = DPOConfig(**args, beta=cfg.beta, loss_type=[cfg.loss_type], precompute_ref_log_probs=False)
        # The reference is a frozen copy made here: TRL would otherwise reload it from the path in the config.
        reference = copy.deepcopy(model).eval().requires_grad_(False)
        return DPOTrainer(
            model=model, ref_model=reference, args=dpo_args, train_dataset=dataset, processing_class=tokenizer
        )

    return make


def _extras(trainer, metrics: list[dict]) -> dict:
    last = metrics[-1] if metrics else {}
    return {
        "beta": trainer.args.beta,
        "reference_tokens": int(trainer.state.num_input_tokens_seen),
        "final": {k: last[k] for k in _REPORTED if k in last},
    }


def align_dpo(config: DPOAlignConfig | dict) -> dict:
    """Preference-tune ``config.model`` on the pairs; writes ``config.out`` and returns ``align.json``."""
    cfg = config if isinstance(config, DPOAlignConfig) else DPOAlignConfig.model_validate(config)
    return run_alignment(cfg, "dpo", lambda charter: dpo_examples(cfg, charter), _trainer(cfg), _extras)
