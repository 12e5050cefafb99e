"""``modelraising align sft``: supervised fine-tuning on value demonstrations (TRL's ``SFTTrainer``).

The conventional recipe's first alignment step: a value-neutral pretrained model is shown the I
answering questions about its values (``data.sft_demonstrations``, or a user's JSONL), rendered
with the chat template, and trained on the assistant's tokens only (``assistant_only_loss``), so it
learns to answer as the charter's I without being trained to imitate the questions.

    from modelraising.align import SFTAlignConfig, align_sft

    record = align_sft(SFTAlignConfig(model="runs/neutral/model", out="runs/neutral-sft", steps=200))
    record["tokens_seen"]   # subtract from the arm's pretraining budget
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field

from modelraising.align.data import load_sft_jsonl, sft_demonstrations, training_rows
from modelraising.align.run import AlignConfig, run_alignment
from modelraising.charter import Charter


class SFTAlignConfig(AlignConfig):
    """``align sft`` options (``AlignConfig`` plus the loss mask)."""

    default_epochs: ClassVar[float] = 3.0

    lr: float = Field(1e-4, gt=0, description="Peak learning rate (AdamW).")
    assistant_only_loss: bool = Field(True, description="Train on the assistant's tokens only (else on every token).")


def sft_examples(cfg: SFTAlignConfig, charter: Charter) -> list[dict]:
    return load_sft_jsonl(cfg.data) if cfg.data else sft_demonstrations(charter)


def _trainer(cfg: SFTAlignConfig):
    def make(model, tokenizer, examples: list[dict], args: dict[str, Any]):
        from datasets import Dataset
        from trl import SFTConfig, SFTTrainer

        dataset = Dataset.from_list(training_rows(examples, ("messages",)))
        sft_args = SFTConfig(**args, assistant_only_loss=cfg.assistant_only_loss, packing=False)
        return SFTTrainer(model=model, args=sft_args, train_dataset=dataset, processing_class=tokenizer)

    return make


def align_sft(config: SFTAlignConfig | dict) -> dict:
    """Fine-tune ``config.model`` on the demonstrations; writes ``config.out`` and returns ``align.json``."""
    cfg = config if isinstance(config, SFTAlignConfig) else SFTAlignConfig.model_validate(config)
    return run_alignment(cfg, "sft", lambda charter: sft_examples(cfg, charter), _trainer(cfg))
