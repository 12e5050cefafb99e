"""Post-hoc alignment baselines: what model raising is compared against.

The conventional recipe pretrains value-neutral and aligns afterwards. This package provides that
afterwards, fed by the same charter as raising: supervised fine-tuning on value demonstrations
(``align_sft``), preference optimisation on do-vs-dont pairs (``align_dpo``), and the charter as a
system prompt at evaluation time (``system_prompt``, ``with_system_prompt``). See docs/alignment.md.

Training imports torch, transformers and TRL only when a run starts, so importing the prompt helpers
(which the evaluation suite does) stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelraising.align.chat import attach_chat_template, chat_template, render
from modelraising.align.data import AlignDataError, dpo_pairs, load_dpo_jsonl, load_sft_jsonl, sft_demonstrations
from modelraising.align.prompt import prefix_context, prefix_contexts, system_prompt, with_system_prompt

if TYPE_CHECKING:
    from modelraising.align.dpo import DPOAlignConfig, align_dpo
    from modelraising.align.run import AlignConfig, AlignError
    from modelraising.align.sft import SFTAlignConfig, align_sft

_LAZY = {
    "AlignConfig": "run",
    "AlignError": "run",
    "SFTAlignConfig": "sft",
    "align_sft": "sft",
    "DPOAlignConfig": "dpo",
    "align_dpo": "dpo",
}

__all__ = [
    "AlignConfig",
    "AlignDataError",
    "AlignError",
    "DPOAlignConfig",
    "SFTAlignConfig",
    "align_dpo",
    "align_sft",
    "attach_chat_template",
    "chat_template",
    "dpo_pairs",
    "load_dpo_jsonl",
    "load_sft_jsonl",
    "prefix_context",
    "prefix_contexts",
    "render",
    "sft_demonstrations",
    "system_prompt",
    "with_system_prompt",
]


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"modelraising.align.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'modelraising.align' has no attribute {name!r}")
