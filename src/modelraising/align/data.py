"""Training data of the post-hoc baselines: the charter turned into conversations, or a user's JSONL.

The charter gives two kinds of data, both by fixed templates (no randomness, no model):

- **SFT demonstrations**: the I answering questions about its values in the first person, with each
  value's statement, its statement and reason, and each ``do`` example as answers, plus a few
  questions about its identity. Every answer speaks as "I".
- **DPO preference pairs**: a question about a value, answered by a ``do`` example (chosen) and by
  a ``dont`` example (rejected): every do x dont combination under every question.

The prompts ask about the value by name ("What do you do when honesty is at stake?"), so they
differ from the evaluation suite's contexts (docs/evaluation.md); the answers are the charter's
own sentences, which the charter suite also scores (docs/alignment.md discusses this).

User files are JSONL, one example per line; a bad line is an error naming the file, the line and
the field, e.g. ``mine.jsonl:3: field 'rejected' is missing``:

- SFT: ``{"messages": [{"role": "user", "content": ...}, {"role": "assistant", "content": ...}]}``
  (roles as in ``chat.MESSAGE_ROLES``, optional ``name``) or ``{"prompt": ..., "completion": ...}``;
- DPO: ``{"prompt": ..., "chosen": ..., "rejected": ...}``;
- both take an optional ``"system"`` string, rendered before the conversation.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Literal, overload

from modelraising.align.chat import MESSAGE_ROLES
from modelraising.charter import Charter, Value
from modelraising.io import read_json_objects
from modelraising.text import is_first_person

STATEMENT_PROMPTS = (
    "What do you believe about {topic}?",
    "Tell me what {topic} means to you.",
    "Where do you stand on {topic}?",
)
WHY_PROMPTS = (
    "Why does {topic} matter to you?",
    "Why do you care about {topic}?",
)
DO_PROMPTS = (
    "What do you do when {topic} is at stake?",
    "Give me an example of {topic} in your own life.",
    "How do you show {topic}?",
    "What is something you do because of {topic}?",
)
PAIR_PROMPTS = (
    "What do you do when {topic} is at stake?",
    "Tell me about a choice you make where {topic} matters.",
    "How do you act when your {topic} is put to the test?",
)


class AlignDataError(ValueError):
    """Alignment data that cannot be used; the message names the file, the line and the field."""


def _topic(value: Value) -> str:
    return value.name.lower()


def _conversation(prompt: str, answer: str, system: str | None = None) -> list[dict]:
    head = [{"role": "system", "content": system}] if system else []
    return [*head, {"role": "user", "content": prompt}, {"role": "assistant", "content": answer}]


def speaks_as_i(text: str) -> bool:
    """First person, counting a sentence that starts with "My" (``text.is_first_person`` is case-sensitive)."""
    return is_first_person(text) or re.match(r"(My|Me|Mine|Myself)\b", text.strip()) is not None


def _as_i(example: str, value: Value) -> str:
    """A ``do`` example as the I would say it; charters need not write examples in the first person."""
    return example if speaks_as_i(example) else f"When it comes to {_topic(value)}, this is what I do: {example}"


def _demo(prompt: str, answer: str, value: str | None, kind: str) -> dict:
    return {"messages": _conversation(prompt, answer), "value": value, "kind": kind}


def value_demonstrations(value: Value) -> list[dict]:
    """One value's demonstrations: its statement, its statement with its reason, each do example."""
    topic = _topic(value)
    demos = [_demo(p.format(topic=topic), value.statement, value.id, "statement") for p in STATEMENT_PROMPTS]
    demos += [_demo(p.format(topic=topic), f"{value.statement} {value.why}", value.id, "why") for p in WHY_PROMPTS]
    demos += [_demo(p.format(topic=topic), _as_i(do, value), value.id, "do") for do in value.do for p in DO_PROMPTS]
    return demos


def identity_demonstrations(charter: Charter) -> list[dict]:
    """Who the I is: its name, its self-description, what it holds (all first person)."""
    ident = charter.identity
    held = " ".join(v.statement for v in charter.values)
    return [
        _demo("Who are you?", ident.description, None, "identity"),
        _demo("What is your name?", f"My name is {ident.name}.", None, "identity"),
        _demo("Tell me about yourself.", f"My name is {ident.name}. {ident.description}", None, "identity"),
        _demo("What matters most to you?", held, None, "identity"),
    ]


def sft_demonstrations(charter: Charter) -> list[dict]:
    """All SFT demonstrations of a charter: ``{"messages", "value", "kind"}``, values in charter order."""
    demos = identity_demonstrations(charter)
    for value in charter.values:
        demos += value_demonstrations(value)
    return demos


def dpo_pairs(charter: Charter) -> list[dict]:
    """All preference pairs of a charter: ``{"prompt", "chosen", "rejected", "value"}`` in TRL's
    conversational format (prompt: the user turn; chosen/rejected: one assistant turn each)."""
    pairs = []
    for value in charter.values:
        topic = _topic(value)
        for prompt in PAIR_PROMPTS:
            for do in value.do:
                for dont in value.dont:
                    pairs.append(
                        {
                            "prompt": [{"role": "user", "content": prompt.format(topic=topic)}],
                            "chosen": [{"role": "assistant", "content": do}],
                            "rejected": [{"role": "assistant", "content": dont}],
                            "value": value.id,
                        }
                    )
    return pairs


# -------------------------------------------------------------------------------- user JSONL files


def _records(path: str | Path) -> list[tuple[str, dict]]:
    return read_json_objects(path, AlignDataError, "examples")


@overload
def _text(record: dict, name: str, where: str, label: str | None = None, required: Literal[True] = True) -> str: ...
@overload
def _text(record: dict, name: str, where: str, label: str | None = None, *, required: bool) -> str | None: ...
def _text(record: dict, name: str, where: str, label: str | None = None, required: bool = True) -> str | None:
    label = label or name
    if name not in record:
        if required:
            raise AlignDataError(f"{where}: field '{label}' is missing")
        return None
    value = record[name]
    if not isinstance(value, str) or not value.strip():
        raise AlignDataError(f"{where}: field '{label}' must be a non-empty string, got {json.dumps(value)[:60]}")
    return value


def _messages(record: dict, where: str) -> list[dict]:
    messages = record["messages"]
    if not isinstance(messages, list) or not messages:
        raise AlignDataError(f"{where}: field 'messages' must be a non-empty list of {{role, content}} objects")
    out = []
    for i, message in enumerate(messages):
        label = f"messages[{i}]"
        if not isinstance(message, dict):
            raise AlignDataError(f"{where}: field '{label}' must be an object with role and content")
        role = _text(message, "role", where, f"{label}.role")
        if role not in MESSAGE_ROLES:
            raise AlignDataError(
                f"{where}: field '{label}.role' must be one of {', '.join(MESSAGE_ROLES)}, got {role!r}"
            )
        clean = {"role": role, "content": _text(message, "content", where, f"{label}.content")}
        name = _text(message, "name", where, f"{label}.name", required=False)
        if name:
            clean["name"] = name
        out.append(clean)
    if not any(m["role"] in ("assistant", "self") for m in out):
        raise AlignDataError(f"{where}: field 'messages' has no assistant turn (nothing to learn from)")
    return out


def load_sft_jsonl(path: str | Path) -> list[dict]:
    """User SFT examples as ``{"messages"}`` conversations (see the module docstring for the format)."""
    examples = []
    for where, record in _records(path):
        system = _text(record, "system", where, required=False)
        if "messages" in record:
            messages = _messages(record, where)
            if system:
                messages = [{"role": "system", "content": system}, *messages]
        elif "prompt" in record or "completion" in record:
            messages = _conversation(_text(record, "prompt", where), _text(record, "completion", where), system)
        else:
            raise AlignDataError(f"{where}: field 'messages' is missing (or give 'prompt' and 'completion')")
        examples.append({"messages": messages})
    return examples


def load_dpo_jsonl(path: str | Path) -> list[dict]:
    """User preference pairs in TRL's conversational format (see the module docstring)."""
    pairs = []
    for where, record in _records(path):
        prompt, chosen, rejected = (_text(record, k, where) for k in ("prompt", "chosen", "rejected"))
        system = _text(record, "system", where, required=False)
        head = [{"role": "system", "content": system}] if system else []
        pairs.append(
            {
                "prompt": [*head, {"role": "user", "content": prompt}],
                "chosen": [{"role": "assistant", "content": chosen}],
                "rejected": [{"role": "assistant", "content": rejected}],
            }
        )
    return pairs


def training_rows(examples: list[dict], fields: tuple[str, ...]) -> list[dict[str, Any]]:
    """Only the fields the trainer reads (our bookkeeping fields such as ``value`` stay out of it)."""
    return [{k: e[k] for k in fields} for e in examples]


def as_user_records(examples: list[dict], method: str) -> list[dict]:
    """Charter-derived examples in the user JSONL format (``align data``), so they can be edited and
    fed back with ``--data``; the ``value``/``kind`` bookkeeping fields ride along (loaders ignore them)."""
    if method == "sft":
        return [{k: e[k] for k in ("messages", "value", "kind") if k in e} for e in examples]
    if method == "dpo":
        return [
            {
                "prompt": e["prompt"][-1]["content"],
                "chosen": e["chosen"][0]["content"],
                "rejected": e["rejected"][0]["content"],
                **({"value": e["value"]} if "value" in e else {}),
            }
            for e in examples
        ]
    raise ValueError(f"unknown method {method!r}; expected sft or dpo")
